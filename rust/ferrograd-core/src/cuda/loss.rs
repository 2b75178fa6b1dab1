//! Launch of `kernels/loss.cu`: the fused cross-entropy rows.

use cudarc::driver::PushKernelArg;

use super::fault;
use super::launch::{launch_error, rows_grid};
use super::storage::{empty, zeros, CudaStorage};
use crate::{Error, Result};

/// Per-row loss, per-row weight and the logits' gradient, as device buffers.
pub struct CrossEntropyRows {
    pub loss: CudaStorage,
    pub row_weight: CudaStorage,
    pub grad: CudaStorage,
}

/// Cross-entropy of contiguous `[rows, classes]` logits against int64 targets (each a class or
/// `ignore_index`, checked by the kernel), with optional per-class weights.
pub fn cross_entropy_rows(
    logits: &CudaStorage,
    (rows, classes): (usize, usize),
    target: &CudaStorage,
    weight: Option<&CudaStorage>,
    ignore_index: i64,
    smoothing: f32,
) -> Result<CrossEntropyRows> {
    const OP: &str = "cross_entropy";
    let g = logits.gpu()?;
    let x = logits.f32s(OP)?;
    let t = match target {
        CudaStorage::I64(v) => v,
        other => return Err(Error::dtype(OP, "int64 targets", other.dtype())),
    };
    let placeholder;
    let (w, has_weight) = match weight {
        Some(w) => (w.f32s(OP)?, 1i32),
        None => {
            placeholder = zeros::<f32>(&g, 1)?;
            (&placeholder, 0i32)
        }
    };
    let mut loss = empty::<f32>(&g, rows)?;
    let mut row_weight = empty::<f32>(&g, rows)?;
    let mut grad = empty::<f32>(&g, rows * classes)?;
    if rows > 0 && classes > 0 {
        let f = g.function("loss.cu", "cross_entropy_rows_f32")?;
        let (c64, ig) = (classes as i64, ignore_index);
        let (slot, code) = (g.faults.slot()?, fault::code(OP));
        let mut b = g.stream.launch_builder(&f);
        b.arg(&mut loss)
            .arg(&mut row_weight)
            .arg(&mut grad)
            .arg(x)
            .arg(t)
            .arg(w)
            .arg(&has_weight)
            .arg(&c64)
            .arg(&ig)
            .arg(&smoothing)
            .arg(&*slot)
            .arg(&code);
        let threads = (classes.div_ceil(32) * 32).clamp(32, 512) as u32;
        // SAFETY: one block per row of `classes` logits; the kernel ignores targets outside the row.
        unsafe { b.launch(rows_grid(rows, threads)) }
            .map_err(|e| launch_error("cross_entropy_rows_f32", e))?;
    }
    Ok(CrossEntropyRows {
        loss: CudaStorage::F32(loss),
        row_weight: CudaStorage::F32(row_weight),
        grad: CudaStorage::F32(grad),
    })
}
