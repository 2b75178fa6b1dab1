//! Launches of `kernels/index.cu`. Every buffer is contiguous; indices are int64 on the device,
//! checked there against their bound (see `fault.rs`).

use cudarc::driver::{CudaSlice, PushKernelArg};

use super::fault;
use super::launch::{grid_for, launch_error, KernelLayout};
use super::storage::{empty, zeros, CudaStorage};
use crate::{Error, Layout, Result};

fn indices<'a>(op: &'static str, s: &'a CudaStorage) -> Result<&'a CudaSlice<i64>> {
    match s {
        CudaStorage::I64(v) => Ok(v),
        other => Err(Error::dtype(op, "int64 indices", other.dtype())),
    }
}

/// (outer, size, inner) around the indexed axis and the index length `k`.
pub type Rows = (usize, usize, usize, usize);

/// `index_select` of contiguous `src` by the `k` indices in `idx`.
pub fn index_select(
    src: &CudaStorage,
    idx: &CudaStorage,
    (outer, size, inner, k): Rows,
) -> Result<CudaStorage> {
    let g = src.gpu()?;
    let (s, ix) = (src.f32s("index_select")?, indices("index_select", idx)?);
    let n = outer * k * inner;
    let mut out = empty::<f32>(&g, n)?;
    let f = g.function("index.cu", "index_select_f32")?;
    let dims = [outer as i64, size as i64, inner as i64, k as i64];
    let (slot, code) = (g.faults.slot()?, fault::code("index_select"));
    let mut b = g.stream.launch_builder(&f);
    b.arg(&mut out).arg(s).arg(ix);
    for d in &dims {
        b.arg(d);
    }
    b.arg(&*slot).arg(&code);
    // SAFETY: the kernel skips indices outside [0, size); every offset it reads is inside `src`.
    unsafe { b.launch(grid_for(n)) }.map_err(|e| launch_error("index_select_f32", e))?;
    Ok(CudaStorage::F32(out))
}

/// A copy of contiguous `base` with the rows of `src` added at the indexed positions.
pub fn index_add(
    base: &CudaStorage,
    base_layout: &Layout,
    idx: &CudaStorage,
    src: &CudaStorage,
    (outer, size, inner, k): Rows,
) -> Result<CudaStorage> {
    let mut out = base.copy_layout(base_layout, crate::DType::F32)?;
    let g = base.gpu()?;
    let (s, ix) = (src.f32s("index_add")?, indices("index_add", idx)?);
    let n = outer * k * inner;
    let f = g.function("index.cu", "index_add_f32")?;
    let dims = [outer as i64, size as i64, inner as i64, k as i64];
    let dst = match &mut out {
        CudaStorage::F32(v) => v,
        other => return Err(Error::dtype("index_add", "float32", other.dtype())),
    };
    let (slot, code) = (g.faults.slot()?, fault::code("index_add"));
    let mut b = g.stream.launch_builder(&f);
    b.arg(dst).arg(s).arg(ix);
    for d in &dims {
        b.arg(d);
    }
    b.arg(&*slot).arg(&code);
    // SAFETY: as in `index_select`, with `dst` of base's size.
    unsafe { b.launch(grid_for(n)) }.map_err(|e| launch_error("index_add_f32", e))?;
    Ok(out)
}

/// The layout walking an index of `index_shape` with the contiguous strides of `src_shape`,
/// the indexed axis' stride zeroed, and that stride.
fn positions(
    op: &str,
    index_shape: &[usize],
    src_shape: &[usize],
    dim: usize,
) -> Result<(KernelLayout, i64)> {
    let mut strides = crate::layout::contiguous_strides(src_shape);
    let axis_stride = strides[dim] as i64;
    strides[dim] = 0;
    let layout = Layout::new(index_shape.to_vec(), strides, 0);
    Ok((KernelLayout::new(op, &layout)?, axis_stride))
}

/// torch.gather of contiguous `src` along `dim` by a contiguous index of `index_shape`.
pub fn gather(
    src: &CudaStorage,
    src_shape: &[usize],
    idx: &CudaStorage,
    index_shape: &[usize],
    dim: usize,
) -> Result<CudaStorage> {
    let g = src.gpu()?;
    let (s, ix) = (src.f32s("gather")?, indices("gather", idx)?);
    let n: usize = index_shape.iter().product();
    let (pos, axis_stride) = positions("gather", index_shape, src_shape, dim)?;
    let mut out = empty::<f32>(&g, n)?;
    let f = g.function("index.cu", "gather_f32")?;
    let (n64, size) = (n as i64, src_shape[dim] as i64);
    let (slot, code) = (g.faults.slot()?, fault::code("gather"));
    let mut b = g.stream.launch_builder(&f);
    b.arg(&mut out)
        .arg(s)
        .arg(ix)
        .arg(&pos)
        .arg(&axis_stride)
        .arg(&size)
        .arg(&n64)
        .arg(&*slot)
        .arg(&code);
    // SAFETY: the kernel skips index values outside [0, size); the index shape fits the source
    // outside `dim`.
    unsafe { b.launch(grid_for(n)) }.map_err(|e| launch_error("gather_f32", e))?;
    Ok(CudaStorage::F32(out))
}

/// A copy of `base` (shape `base_shape`) with contiguous `src` added at the gathered positions.
pub fn scatter_add(
    base: &CudaStorage,
    base_layout: &Layout,
    idx: &CudaStorage,
    src: &CudaStorage,
    index_shape: &[usize],
    dim: usize,
) -> Result<CudaStorage> {
    let mut out = base.copy_layout(base_layout, crate::DType::F32)?;
    let g = base.gpu()?;
    let (s, ix) = (src.f32s("scatter_add")?, indices("scatter_add", idx)?);
    let n: usize = index_shape.iter().product();
    let (pos, axis_stride) = positions("scatter_add", index_shape, base_layout.shape(), dim)?;
    let dst = match &mut out {
        CudaStorage::F32(v) => v,
        other => return Err(Error::dtype("scatter_add", "float32", other.dtype())),
    };
    let f = g.function("index.cu", "scatter_add_f32")?;
    let (n64, size) = (n as i64, base_layout.shape()[dim] as i64);
    let (slot, code) = (g.faults.slot()?, fault::code("scatter_add"));
    let mut b = g.stream.launch_builder(&f);
    b.arg(dst)
        .arg(s)
        .arg(ix)
        .arg(&pos)
        .arg(&axis_stride)
        .arg(&size)
        .arg(&n64)
        .arg(&*slot)
        .arg(&code);
    // SAFETY: as in `gather`.
    unsafe { b.launch(grid_for(n)) }.map_err(|e| launch_error("scatter_add_f32", e))?;
    Ok(out)
}

/// One-hot rows of `classes` columns for `rows` int64 class indices.
pub fn one_hot(idx: &CudaStorage, rows: usize, classes: usize) -> Result<CudaStorage> {
    let g = idx.gpu()?;
    let ix = indices("one_hot", idx)?;
    let mut out = zeros::<f32>(&g, rows * classes)?;
    let f = g.function("index.cu", "one_hot_f32")?;
    let (r64, c64) = (rows as i64, classes as i64);
    let (slot, code) = (g.faults.slot()?, fault::code("one_hot"));
    let mut b = g.stream.launch_builder(&f);
    b.arg(&mut out)
        .arg(ix)
        .arg(&r64)
        .arg(&c64)
        .arg(&*slot)
        .arg(&code);
    // SAFETY: the kernel writes only indices in [0, classes).
    unsafe { b.launch(grid_for(rows)) }.map_err(|e| launch_error("one_hot_f32", e))?;
    Ok(CudaStorage::F32(out))
}
