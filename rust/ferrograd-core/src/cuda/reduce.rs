//! Launches of `kernels/reduce.cu`: sum / max / min and argmax / argmin over the last `inner`
//! logical elements of each row of a (permuted, possibly strided) layout.

use cudarc::driver::{LaunchConfig, PushKernelArg};

use super::launch::{launch_error, rows_grid, KernelLayout, BUSY_BLOCKS};
use super::storage::{empty, CudaStorage};
use crate::cpu::reduce::RowReduce;
use crate::{Layout, Result};

/// Threads per row: enough warps for the row, at most 256.
fn threads_for(inner: usize) -> u32 {
    (inner.div_ceil(32) * 32).clamp(32, 256) as u32
}

/// Blocks per row: about `BUSY_BLOCKS` in all when there are few rows, each still folding at
/// least 4096 elements.
fn parts_per_row(rows: usize, inner: usize) -> usize {
    (BUSY_BLOCKS / rows.max(1)).min(inner / 4096).max(1)
}

/// Folds the `rows` rows of the contiguous `[rows, cols]` block at `offset` (the reduced axes
/// lead): one f32 per column, for sums and extrema.
pub fn columns(
    x: &CudaStorage,
    offset: usize,
    (rows, cols): (usize, usize),
    kind: RowReduce,
) -> Result<CudaStorage> {
    let g = x.gpu()?;
    let src = x.f32s("reduce")?;
    if cols == 0 {
        return Ok(CudaStorage::F32(empty::<f32>(&g, 0)?));
    }
    let tiles = cols.div_ceil(32);
    // Row parts: about `BUSY_BLOCKS` blocks in all, each part at least 256 rows.
    let parts = (BUSY_BLOCKS / tiles.max(1)).min(rows / 256).max(1);
    let mut out = empty::<f32>(&g, parts * cols)?;
    let f = g.function("reduce.cu", "reduce_columns_f32")?;
    let (offset64, rows64, cols64, code) =
        (offset as i64, rows as i64, cols as i64, kind_code(kind));
    let mut b = g.stream.launch_builder(&f);
    b.arg(&mut out)
        .arg(src)
        .arg(&offset64)
        .arg(&rows64)
        .arg(&cols64)
        .arg(&code);
    let cfg = LaunchConfig {
        grid_dim: (tiles as u32, parts as u32, 1),
        block_dim: (32, 8, 1),
        shared_mem_bytes: 0,
    };
    // SAFETY: reads stay inside the [rows, cols] block at `offset`; `out` holds parts * cols.
    unsafe { b.launch(cfg) }.map_err(|e| launch_error("reduce_columns_f32", e))?;
    let out = CudaStorage::F32(out);
    if parts == 1 {
        return Ok(out);
    }
    columns(&out, 0, (parts, cols), kind)
}

/// The kernels' code for a sum or extremum (`FG_SUM`, `FG_MAX`, `FG_MIN`).
fn kind_code(kind: RowReduce) -> i32 {
    match kind {
        RowReduce::Sum => 0,
        RowReduce::Max => 1,
        _ => 2,
    }
}

/// Reduces each row of `inner` elements of `layout` (whose reduced axes are last): f32 results
/// for sums and extrema, int64 indices for arg-reductions.
pub fn rows(
    x: &CudaStorage,
    layout: &Layout,
    inner: usize,
    kind: RowReduce,
) -> Result<CudaStorage> {
    let g = x.gpu()?;
    let src = x.f32s("reduce")?;
    let kl = KernelLayout::new("reduce", layout)?;
    let rows = layout.numel() / inner.max(1);
    if rows == 0 {
        return Ok(match kind {
            RowReduce::ArgMax | RowReduce::ArgMin => CudaStorage::I64(empty::<i64>(&g, 0)?),
            _ => CudaStorage::F32(empty::<f32>(&g, 0)?),
        });
    }
    let cfg = rows_grid(rows, threads_for(inner));
    let inner64 = inner as i64;
    match kind {
        RowReduce::Sum | RowReduce::Max | RowReduce::Min => {
            let code = kind_code(kind);
            let parts = parts_per_row(rows, inner);
            let mut out = empty::<f32>(&g, rows * parts)?;
            let f = g.function("reduce.cu", "reduce_rows_f32")?;
            let parts64 = parts as i64;
            let mut b = g.stream.launch_builder(&f);
            b.arg(&mut out)
                .arg(src)
                .arg(&kl)
                .arg(&inner64)
                .arg(&code)
                .arg(&parts64);
            // SAFETY: each block reads its share of one row's elements through `kl`.
            unsafe { b.launch(rows_grid(rows * parts, threads_for(inner.div_ceil(parts)))) }
                .map_err(|e| launch_error("reduce_rows_f32", e))?;
            let out = CudaStorage::F32(out);
            if parts == 1 {
                return Ok(out);
            }
            self::rows(&out, &Layout::contiguous(&[rows, parts]), parts, kind)
        }
        RowReduce::ArgMax | RowReduce::ArgMin => {
            let want_max = (kind == RowReduce::ArgMax) as i32;
            let mut out = empty::<i64>(&g, rows)?;
            let f = g.function("reduce.cu", "arg_rows_f32")?;
            let mut b = g.stream.launch_builder(&f);
            b.arg(&mut out)
                .arg(src)
                .arg(&kl)
                .arg(&inner64)
                .arg(&want_max);
            // SAFETY: as above.
            unsafe { b.launch(cfg) }.map_err(|e| launch_error("arg_rows_f32", e))?;
            Ok(CudaStorage::I64(out))
        }
    }
}
