//! Launches of `kernels/pool.cu`: max pooling of contiguous NCHW images and its backward pass.

use cudarc::driver::{CudaSlice, PushKernelArg};

use super::launch::{grid_for, launch_error};
use super::storage::{empty, zeros, CudaStorage};
use super::unfold::WindowGeometry;
use crate::Result;

fn outputs(g: &WindowGeometry) -> usize {
    (g.n * g.c * g.oh * g.ow) as usize
}

/// The pooled values `[N, C, oh, ow]` and each window's argmax within its plane.
pub fn max_pool(x: &CudaStorage, g: WindowGeometry) -> Result<(CudaStorage, CudaStorage)> {
    let gpu = x.gpu()?;
    let n = outputs(&g);
    let mut out = empty::<f32>(&gpu, n)?;
    let mut argmax = empty::<i64>(&gpu, n)?;
    let f = gpu.function("pool.cu", "max_pool_f32")?;
    let mut b = gpu.stream.launch_builder(&f);
    b.arg(&mut out)
        .arg(&mut argmax)
        .arg(x.f32s("max_pool2d")?)
        .arg(&g);
    // SAFETY: reads are bounds-checked against each plane; both outputs hold one entry per window.
    unsafe { b.launch(grid_for(n)) }.map_err(|e| launch_error("max_pool_f32", e))?;
    Ok((CudaStorage::F32(out), CudaStorage::I64(argmax)))
}

/// The image gradient `[N, C, H, W]` from the contiguous output gradient and the argmax.
pub fn max_pool_backward(
    grad: &CudaStorage,
    argmax: &CudaSlice<i64>,
    g: WindowGeometry,
) -> Result<CudaStorage> {
    let gpu = grad.gpu()?;
    let mut dx = zeros::<f32>(&gpu, (g.n * g.c * g.h * g.w) as usize)?;
    let f = gpu.function("pool.cu", "max_pool_backward_f32")?;
    let mut b = gpu.stream.launch_builder(&f);
    b.arg(&mut dx)
        .arg(grad.f32s("max_pool2d")?)
        .arg(argmax)
        .arg(&g);
    // SAFETY: each argmax is -1 or an index inside its plane, written by `max_pool`.
    unsafe { b.launch(grid_for(outputs(&g))) }
        .map_err(|e| launch_error("max_pool_backward_f32", e))?;
    Ok(CudaStorage::F32(dx))
}
