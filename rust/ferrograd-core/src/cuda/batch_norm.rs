//! Launches of `kernels/batch_norm.cu`: per-channel partial sums over `[N, C, S]` and the
//! per-channel affine map that applies batch norm forward and backward.

use cudarc::driver::{CudaSlice, PushKernelArg};

use super::launch::{grid_for, launch_error, rows_grid, BUSY_BLOCKS};
use super::reduce;
use super::storage::{empty, CudaStorage};
use crate::cpu::reduce::RowReduce;
use crate::{Layout, Result};

/// `(N, C, S)` of a contiguous input.
pub type Dims = (usize, usize, usize);

/// Blocks per channel: about `BUSY_BLOCKS` in all, each folding at least 2048 values.
fn parts((n, c, s): Dims) -> usize {
    (BUSY_BLOCKS / c.max(1)).min(n * s / 2048).max(1)
}

/// Sums the `[rows, parts]` partials of each row.
fn combine(partial: CudaSlice<f32>, rows: usize, parts: usize) -> Result<CudaStorage> {
    reduce::rows(
        &CudaStorage::F32(partial),
        &Layout::contiguous(&[rows, parts]),
        parts,
        RowReduce::Sum,
    )
}

/// Per-channel sums of `x`, or of `(x - center)^2` when `center` (`[C]`) is given.
pub fn channel_sums(
    x: &CudaStorage,
    center: Option<&CudaStorage>,
    dims: Dims,
) -> Result<CudaStorage> {
    let g = x.gpu()?;
    let (n, c, s) = dims;
    let p = parts(dims);
    let mut partial = empty::<f32>(&g, c * p)?;
    let f = g.function("batch_norm.cu", "batch_norm_partial_f32")?;
    let center = center.map(|t| t.f32s("batch_norm")).transpose()?;
    let (n64, c64, s64, p64) = (n as i64, c as i64, s as i64, p as i64);
    // The kernel's `center` pointer is null (0) for the plain sums.
    let null = 0u64;
    let mut b = g.stream.launch_builder(&f);
    b.arg(&mut partial).arg(x.f32s("batch_norm")?);
    match center {
        Some(t) => b.arg(t),
        None => b.arg(&null),
    };
    b.arg(&n64).arg(&c64).arg(&s64).arg(&p64);
    // SAFETY: each block reads its share of one channel of the [N, C, S] input.
    unsafe { b.launch(rows_grid(c * p, 256)) }
        .map_err(|e| launch_error("batch_norm_partial_f32", e))?;
    combine(partial, c, p)
}

/// Per-channel sums of `dy` (first `C` values) and of `dy * xhat` (next `C`).
pub fn grad_sums(
    dy: &CudaStorage,
    x: &CudaStorage,
    (mean, inv_std): (&CudaStorage, &CudaStorage),
    dims: Dims,
) -> Result<CudaStorage> {
    let g = x.gpu()?;
    let (n, c, s) = dims;
    let p = parts(dims);
    let mut partial = empty::<f32>(&g, 2 * c * p)?;
    let f = g.function("batch_norm.cu", "batch_norm_grad_partial_f32")?;
    let (n64, c64, s64, p64) = (n as i64, c as i64, s as i64, p as i64);
    let op = "batch_norm backward";
    let mut b = g.stream.launch_builder(&f);
    b.arg(&mut partial)
        .arg(dy.f32s(op)?)
        .arg(x.f32s(op)?)
        .arg(mean.f32s(op)?)
        .arg(inv_std.f32s(op)?)
        .arg(&n64)
        .arg(&c64)
        .arg(&s64)
        .arg(&p64);
    // SAFETY: as in `channel_sums`, with dy of x's shape.
    unsafe { b.launch(rows_grid(c * p, 256)) }
        .map_err(|e| launch_error("batch_norm_grad_partial_f32", e))?;
    combine(partial, 2 * c, p)
}

/// `a[c] * u + b[c] * v + k[c]` over contiguous `[N, C, S]` tensors `u` and `v`.
pub fn channel_affine(
    (u, v): (&CudaStorage, &CudaStorage),
    (a, b, k): (&CudaStorage, &CudaStorage, &CudaStorage),
    (n, c, s): Dims,
) -> Result<CudaStorage> {
    let g = u.gpu()?;
    let total = n * c * s;
    let mut out = empty::<f32>(&g, total)?;
    let f = g.function("batch_norm.cu", "channel_affine_f32")?;
    let (c64, s64, t64) = (c as i64, s as i64, total as i64);
    let op = "batch_norm";
    let mut l = g.stream.launch_builder(&f);
    l.arg(&mut out)
        .arg(u.f32s(op)?)
        .arg(v.f32s(op)?)
        .arg(a.f32s(op)?)
        .arg(b.f32s(op)?)
        .arg(k.f32s(op)?)
        .arg(&c64)
        .arg(&s64)
        .arg(&t64);
    // SAFETY: u, v and out hold `total` values; a, b and k one per channel.
    unsafe { l.launch(grid_for(total)) }.map_err(|e| launch_error("channel_affine_f32", e))?;
    Ok(CudaStorage::F32(out))
}
