//! Launches of `kernels/optim.cu`: in-place parameter updates on the device, several parameters
//! per launch (`TensorList`) for SGD, the Adam family and Adagrad, one per launch for RMSprop.

use cudarc::driver::{CudaSlice, DevicePtr, DevicePtrMut, DeviceRepr, LaunchConfig, PushKernelArg};

use super::launch::{grid_for, launch_error, BLOCK};
use crate::{Error, Result, Storage, Tensor};

/// Parameters per fused launch (`FG_LIST`) and elements per block (`FG_CHUNK`) of `optim.cu`.
const LIST: usize = 32;
const CHUNK: usize = 4096;

/// `TensorList` of `optim.cu`, field for field: device pointers (0 = absent) and per-tensor data.
#[repr(C)]
#[derive(Clone, Copy)]
struct TensorList {
    p: [u64; LIST],
    g: [u64; LIST],
    s0: [u64; LIST],
    s1: [u64; LIST],
    s2: [u64; LIST],
    a: [f32; LIST],
    b: [f32; LIST],
    c: [f32; LIST],
    n: [i64; LIST],
    first_block: [i64; LIST + 1],
    count: i32,
}

// SAFETY: plain `repr(C)` data laid out as the C++ struct.
unsafe impl DeviceRepr for TensorList {}

/// One parameter of a fused update: its gradient, up to three state buffers in the kernel's
/// order (absent ones `None`), and its three per-parameter constants.
pub struct ListItem {
    pub param: Tensor,
    pub grad: Tensor,
    pub states: [Option<Tensor>; 3],
    pub own: [f32; 3],
}

/// Launches `kernel(list, scalars...)` over `items`, `LIST` parameters per launch.
pub fn update_list(kernel: &str, items: &[ListItem], scalars: &[f32]) -> Result<()> {
    for chunk in items.chunks(LIST) {
        launch_list(kernel, chunk, scalars)?;
    }
    Ok(())
}

fn launch_list(kernel: &str, items: &[ListItem], scalars: &[f32]) -> Result<()> {
    let Some(first) = items.first() else {
        return Ok(());
    };
    let gpu = super::gpu(match first.param.device() {
        crate::Device::Cuda(i) => i,
        crate::Device::Cpu => {
            return Err(Error::Device(format!("{OP}: expected parameters on cuda")))
        }
    })?;
    let grads = items
        .iter()
        .map(|it| it.grad.contiguous())
        .collect::<Result<Vec<_>>>()?;
    for (i, it) in items.iter().enumerate() {
        // Each buffer is locked once below; a parameter listed twice would lock itself.
        if items[..i]
            .iter()
            .any(|other| other.param.same_storage(&it.param))
        {
            return Err(Error::arg(
                OP,
                "params",
                "each parameter once",
                format!("a parameter of shape {:?} twice", it.param.shape()),
            ));
        }
    }
    for (it, g) in items.iter().zip(&grads) {
        crate::ops::same_device(OP, &first.param, &it.param)?;
        let states: Vec<&Tensor> = std::iter::once(g)
            .chain(it.states.iter().flatten())
            .collect();
        crate::optim::kernels::check_update_buffers(&it.param, &states)?;
        for t in &states {
            crate::ops::same_device(OP, &it.param, t)?;
        }
    }
    let mut list = TensorList {
        p: [0; LIST],
        g: [0; LIST],
        s0: [0; LIST],
        s1: [0; LIST],
        s2: [0; LIST],
        a: [0.0; LIST],
        b: [0.0; LIST],
        c: [0.0; LIST],
        n: [0; LIST],
        first_block: [0; LIST + 1],
        count: items.len() as i32,
    };
    // The guards keep every buffer locked (and alive) until the launch is queued; the stream
    // orders the kernel before any later use.
    let grad_guards = grads
        .iter()
        .map(|g| g.storage())
        .collect::<Result<Vec<_>>>()?;
    let mut write_guards = Vec::new();
    for it in items {
        write_guards.push(it.param.storage_mut()?);
        for s in it.states.iter().flatten() {
            write_guards.push(s.storage_mut()?);
        }
    }
    let mut writes = write_guards.iter_mut();
    let mut next_ptr = || -> Result<u64> {
        let s = writes
            .next()
            .ok_or_else(|| Error::Device(format!("{OP}: buffer bookkeeping")))?;
        let (ptr, _) = device_f32(s)?.device_ptr_mut(&gpu.stream);
        Ok(ptr)
    };
    let mut blocks = 0i64;
    for (t, (it, g)) in items.iter().zip(&grad_guards).enumerate() {
        list.p[t] = next_ptr()?;
        for (slot, state) in it.states.iter().enumerate() {
            if state.is_some() {
                let ptr = next_ptr()?;
                [&mut list.s0, &mut list.s1, &mut list.s2][slot][t] = ptr;
            }
        }
        let grad = match &**g {
            Storage::Cuda(s) => s.f32s(OP)?,
            Storage::Cpu(_) => {
                return Err(Error::Device(format!(
                    "{OP}: parameter on cuda, gradient on the cpu"
                )))
            }
        };
        list.g[t] = grad.device_ptr(&gpu.stream).0;
        let n = it.param.numel();
        [list.a[t], list.b[t], list.c[t]] = it.own;
        list.n[t] = n as i64;
        list.first_block[t] = blocks;
        blocks += n.div_ceil(CHUNK) as i64;
    }
    list.first_block[items.len()] = blocks;
    if blocks == 0 {
        return Ok(());
    }
    let f = gpu.function("optim.cu", kernel)?;
    let mut b = gpu.stream.launch_builder(&f);
    b.arg(&list);
    for v in scalars {
        b.arg(v);
    }
    let cfg = LaunchConfig {
        grid_dim: (blocks as u32, 1, 1),
        block_dim: (BLOCK, 1, 1),
        shared_mem_bytes: 0,
    };
    // SAFETY: every pointer is a live f32 buffer of its tensor's n elements (checked above), held
    // locked by the guards while the launch is queued.
    unsafe { b.launch(cfg) }.map_err(|e| launch_error(kernel, e))?;
    Ok(())
}

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
    let buffers: Vec<&Tensor> = std::iter::once(&grad)
        .chain(states.iter().copied())
        .collect();
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
