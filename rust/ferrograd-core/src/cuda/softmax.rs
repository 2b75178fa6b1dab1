//! Launches of `kernels/softmax.cu` over contiguous rows.

use cudarc::driver::PushKernelArg;

use super::launch::{launch_error, rows_grid};
use super::storage::{empty, CudaStorage};
use crate::Result;

fn threads_for(n: usize) -> u32 {
    (n.div_ceil(32) * 32).clamp(32, 512) as u32
}

/// Softmax (or log-softmax) of each contiguous row of `n` elements of `x` (`numel` in all).
pub fn forward(x: &CudaStorage, numel: usize, n: usize, log: bool) -> Result<CudaStorage> {
    let g = x.gpu()?;
    let src = x.f32s("softmax")?;
    let mut out = empty::<f32>(&g, numel)?;
    if n == 0 || numel == 0 {
        return Ok(CudaStorage::F32(out));
    }
    let f = g.function("softmax.cu", "softmax_rows_f32")?;
    let (n64, log_out) = (n as i64, log as i32);
    let mut b = g.stream.launch_builder(&f);
    b.arg(&mut out).arg(src).arg(&n64).arg(&log_out);
    // SAFETY: one block per row of n elements inside `src` and `out`.
    unsafe { b.launch(rows_grid(numel / n, threads_for(n))) }
        .map_err(|e| launch_error("softmax_rows_f32", e))?;
    Ok(CudaStorage::F32(out))
}

/// The input gradient from the saved output `y` and the output gradient `grad` (contiguous).
pub fn backward(
    y: &CudaStorage,
    grad: &CudaStorage,
    numel: usize,
    n: usize,
    log: bool,
) -> Result<CudaStorage> {
    let g = y.gpu()?;
    let (ys, gs) = (y.f32s("softmax backward")?, grad.f32s("softmax backward")?);
    let mut out = empty::<f32>(&g, numel)?;
    if n == 0 || numel == 0 {
        return Ok(CudaStorage::F32(out));
    }
    let f = g.function("softmax.cu", "softmax_backward_f32")?;
    let (n64, log_out) = (n as i64, log as i32);
    let mut b = g.stream.launch_builder(&f);
    b.arg(&mut out).arg(ys).arg(gs).arg(&n64).arg(&log_out);
    // SAFETY: as in `forward`.
    unsafe { b.launch(rows_grid(numel / n, threads_for(n))) }
        .map_err(|e| launch_error("softmax_backward_f32", e))?;
    Ok(CudaStorage::F32(out))
}
