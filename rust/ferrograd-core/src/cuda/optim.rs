//! Launches of `kernels/optim.cu`: in-place parameter updates on the device.

use cudarc::driver::{CudaSlice, PushKernelArg};

use super::launch::{grid_for, launch_error};
use crate::{Error, Result, Storage, Tensor};

const OP: &str = "optimizer step";

fn device_f32(s: &mut Storage) -> Result<&mut CudaSlice<f32>> {
    match s {
        Storage::Cuda(super::CudaStorage::F32(v)) => Ok(v),
        Storage::Cuda(other) => Err(Error::dtype(OP, "float32", other.dtype())),
        Storage::Cpu(_) => Err(Error::Device(format!(
            "{OP}: parameter on cuda but a gradient or state buffer on the cpu"
        ))),
    }
}

/// Launches `kernel(param, grad, states..., n, scalars...)` over every element of `param`
/// (contiguous, like its state buffers), updating parameter and states in place.
pub fn update(
    kernel: &str,
    param: &Tensor,
    grad: &Tensor,
    states: &[&Tensor],
    scalars: &[f32],
) -> Result<()> {
    let n = param.numel();
    let grad = grad.contiguous()?;
    let buffers: Vec<&Tensor> = std::iter::once(&grad).chain(states.iter().copied()).collect();
    crate::optim::kernels::check_update_buffers(param, &buffers)?;
    let grad_guard = grad.storage()?;
    let g = match &*grad_guard {
        Storage::Cuda(s) => s.f32s(OP)?,
        Storage::Cpu(_) => {
            return Err(Error::Device(format!(
                "{OP}: parameter on cuda, gradient on the cpu"
            )))
        }
    };
    let mut state_guards = states
        .iter()
        .map(|s| s.storage_mut())
        .collect::<Result<Vec<_>>>()?;
    let mut param_guard = param.storage_mut()?;
    let p = device_f32(&mut param_guard)?;
    let gpu = super::gpu(p.ordinal())?;
    let mut state_slices = state_guards
        .iter_mut()
        .map(|s| device_f32(s))
        .collect::<Result<Vec<_>>>()?;
    let f = gpu.function("optim.cu", kernel)?;
    let n64 = n as i64;
    let mut b = gpu.stream.launch_builder(&f);
    b.arg(p).arg(g);
    for s in state_slices.iter_mut() {
        b.arg(&mut **s);
    }
    b.arg(&n64);
    for v in scalars {
        b.arg(v);
    }
    // SAFETY: every buffer holds n contiguous f32 elements (checked above).
    unsafe { b.launch(grid_for(n)) }.map_err(|e| launch_error(kernel, e))?;
    Ok(())
}
