//! Launches of `kernels/norm.cu`: fused layer norm over contiguous rows.

use cudarc::driver::{CudaSlice, PushKernelArg};

use super::launch::{launch_error, rows_grid};
use super::storage::{empty, zeros, CudaStorage};
use crate::Result;

fn threads_for(d: usize) -> u32 {
    (d.div_ceil(32) * 32).clamp(32, 512) as u32
}

/// An optional per-feature vector, or a placeholder the kernel never reads, with its flag.
fn optional<'a>(
    v: Option<&'a CudaStorage>,
    placeholder: &'a CudaSlice<f32>,
) -> Result<(&'a CudaSlice<f32>, i32)> {
    Ok(match v {
        Some(s) => (s.f32s("layer_norm")?, 1),
        None => (placeholder, 0),
    })
}

/// Normalised rows, and the per-row mean and 1/std saved for backward.
pub struct LayerNormForward {
    pub y: CudaStorage,
    pub mean: CudaStorage,
    pub inv_std: CudaStorage,
}

/// Layer norm of `rows` contiguous rows of `d` elements.
pub fn layer_norm(
    x: &CudaStorage,
    (rows, d): (usize, usize),
    gamma: Option<&CudaStorage>,
    beta: Option<&CudaStorage>,
    eps: f32,
) -> Result<LayerNormForward> {
    let g = x.gpu()?;
    let xs = x.f32s("layer_norm")?;
    let placeholder = zeros::<f32>(&g, 1)?;
    let (gs, has_g) = optional(gamma, &placeholder)?;
    let (bs, has_b) = optional(beta, &placeholder)?;
    let mut y = empty::<f32>(&g, rows * d)?;
    let mut mean = empty::<f32>(&g, rows)?;
    let mut inv_std = empty::<f32>(&g, rows)?;
    if rows > 0 && d > 0 {
        let f = g.function("norm.cu", "layer_norm_f32")?;
        let d64 = d as i64;
        let mut b = g.stream.launch_builder(&f);
        b.arg(&mut y)
            .arg(&mut mean)
            .arg(&mut inv_std)
            .arg(xs)
            .arg(gs)
            .arg(bs)
            .arg(&has_g)
            .arg(&has_b)
            .arg(&d64)
            .arg(&eps);
        // SAFETY: one block per row of d elements inside every buffer.
        unsafe { b.launch(rows_grid(rows, threads_for(d))) }
            .map_err(|e| launch_error("layer_norm_f32", e))?;
    }
    Ok(LayerNormForward {
        y: CudaStorage::F32(y),
        mean: CudaStorage::F32(mean),
        inv_std: CudaStorage::F32(inv_std),
    })
}

/// The input gradient of layer norm from the saved statistics.
pub fn layer_norm_backward(
    dy: &CudaStorage,
    x: &CudaStorage,
    (mean, inv_std): (&CudaStorage, &CudaStorage),
    gamma: Option<&CudaStorage>,
    (rows, d): (usize, usize),
) -> Result<CudaStorage> {
    let g = x.gpu()?;
    let placeholder = zeros::<f32>(&g, 1)?;
    let (gs, has_g) = optional(gamma, &placeholder)?;
    let mut dx = empty::<f32>(&g, rows * d)?;
    if rows > 0 && d > 0 {
        let f = g.function("norm.cu", "layer_norm_backward_f32")?;
        let d64 = d as i64;
        let mut b = g.stream.launch_builder(&f);
        b.arg(&mut dx)
            .arg(dy.f32s("layer_norm backward")?)
            .arg(x.f32s("layer_norm backward")?)
            .arg(mean.f32s("layer_norm backward")?)
            .arg(inv_std.f32s("layer_norm backward")?)
            .arg(gs)
            .arg(&has_g)
            .arg(&d64);
        // SAFETY: as in `layer_norm`.
        unsafe { b.launch(rows_grid(rows, threads_for(d))) }
            .map_err(|e| launch_error("layer_norm_backward_f32", e))?;
    }
    Ok(CudaStorage::F32(dx))
}
