//! Launches of `kernels/reduce.cu`: sum / max / min and argmax / argmin over the last `inner`
//! logical elements of each row of a (permuted, possibly strided) layout.

use cudarc::driver::PushKernelArg;

use super::launch::{launch_error, rows_grid, KernelLayout};
use super::storage::{empty, CudaStorage};
use crate::cpu::reduce::RowReduce;
use crate::{Layout, Result};

/// Threads per row: enough warps for the row, at most 256.
fn threads_for(inner: usize) -> u32 {
    (inner.div_ceil(32) * 32).clamp(32, 256) as u32
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
            let code: i32 = match kind {
                RowReduce::Sum => 0,
                RowReduce::Max => 1,
                _ => 2,
            };
            let mut out = empty::<f32>(&g, rows)?;
            let f = g.function("reduce.cu", "reduce_rows_f32")?;
            let mut b = g.stream.launch_builder(&f);
            b.arg(&mut out).arg(src).arg(&kl).arg(&inner64).arg(&code);
            // SAFETY: one block per row reads that row's elements through `kl`.
            unsafe { b.launch(cfg) }.map_err(|e| launch_error("reduce_rows_f32", e))?;
            Ok(CudaStorage::F32(out))
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
