//! Launches of `kernels/random.cu`: the Philox stream on the device. Each launch passes the open
//! CUDA graph capture's block shift (a device address, 0 outside a capture; see `graph.rs`).

use cudarc::driver::PushKernelArg;

use super::launch::{grid_for, launch_error};
use super::storage::{empty, CudaStorage};
use crate::Result;

/// Inverted-dropout multipliers for `n` elements on device `ordinal`, from the stream values
/// starting at `offset` (a multiple of 4) of `seed`.
pub fn dropout_mask(
    ordinal: usize,
    n: usize,
    (seed, offset): (u64, u64),
    p: f32,
    keep: f32,
) -> Result<CudaStorage> {
    let g = super::gpu(ordinal)?;
    let mut mask = empty::<f32>(&g, n)?;
    let f = g.function("random.cu", "dropout_mask_f32")?;
    let (n64, block0, shift) = (n as i64, offset / 4, super::graph::random_shift());
    let mut b = g.stream.launch_builder(&f);
    b.arg(&mut mask)
        .arg(&n64)
        .arg(&seed)
        .arg(&block0)
        .arg(&shift)
        .arg(&p)
        .arg(&keep);
    // SAFETY: each thread writes the elements of its own block below n.
    unsafe { b.launch(grid_for(n.div_ceil(4))) }
        .map_err(|e| launch_error("dropout_mask_f32", e))?;
    Ok(CudaStorage::F32(mask))
}

/// `n` values from the stream of `seed` starting at `offset` (a multiple of 4) on device
/// `ordinal`: uniform in [a, b), or normal with mean a and standard deviation b.
pub fn random(
    ordinal: usize,
    n: usize,
    (seed, offset): (u64, u64),
    (a, b): (f32, f32),
    normal: bool,
) -> Result<CudaStorage> {
    let g = super::gpu(ordinal)?;
    let mut out = empty::<f32>(&g, n)?;
    let f = g.function("random.cu", "random_f32")?;
    let (n64, block0, normal) = (n as i64, offset / 4, normal as i32);
    let shift = super::graph::random_shift();
    let mut l = g.stream.launch_builder(&f);
    l.arg(&mut out)
        .arg(&n64)
        .arg(&seed)
        .arg(&block0)
        .arg(&shift)
        .arg(&a)
        .arg(&b)
        .arg(&normal);
    // SAFETY: each thread writes the elements of its own block below n.
    unsafe { l.launch(grid_for(n.div_ceil(4))) }.map_err(|e| launch_error("random_f32", e))?;
    Ok(CudaStorage::F32(out))
}
