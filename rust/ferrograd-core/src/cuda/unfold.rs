//! Launches of `kernels/unfold.cu`: im2col and col2im over NCHW images.

use cudarc::driver::{DeviceRepr, PushKernelArg};

use super::launch::{grid_for, launch_error};
use super::storage::{empty, CudaStorage};
pub use crate::ops::unfold::WindowGeometry;
use crate::Result;

// SAFETY: plain `repr(C)` integers, laid out as the C++ struct.
unsafe impl DeviceRepr for WindowGeometry {}

fn rows(g: &WindowGeometry) -> usize {
    (g.c * g.kh * g.kw) as usize
}

fn columns(g: &WindowGeometry) -> usize {
    (g.n * g.oh * g.ow) as usize
}

/// The columns `[C * kh * kw, N * oh * ow]` of contiguous NCHW `x`.
pub fn im2col(x: &CudaStorage, g: WindowGeometry, pad_value: f32) -> Result<CudaStorage> {
    let gpu = x.gpu()?;
    let n = rows(&g) * columns(&g);
    let mut cols = empty::<f32>(&gpu, n)?;
    let f = gpu.function("unfold.cu", "im2col_f32")?;
    let mut b = gpu.stream.launch_builder(&f);
    b.arg(&mut cols)
        .arg(x.f32s("im2col")?)
        .arg(&g)
        .arg(&pad_value);
    // SAFETY: every read is bounds-checked against the image; `cols` holds rows * columns.
    unsafe { b.launch(grid_for(n)) }.map_err(|e| launch_error("im2col_f32", e))?;
    Ok(CudaStorage::F32(cols))
}

/// The NCHW gradient of the image from the gradient of its columns.
pub fn col2im(cols: &CudaStorage, g: WindowGeometry) -> Result<CudaStorage> {
    let gpu = cols.gpu()?;
    let n = g.dims()[..4].iter().product();
    let mut dx = empty::<f32>(&gpu, n)?;
    let f = gpu.function("unfold.cu", "col2im_f32")?;
    let mut b = gpu.stream.launch_builder(&f);
    b.arg(&mut dx).arg(cols.f32s("col2im")?).arg(&g);
    // SAFETY: reads stay inside the columns of this geometry; `dx` holds the image.
    unsafe { b.launch(grid_for(n)) }.map_err(|e| launch_error("col2im_f32", e))?;
    Ok(CudaStorage::F32(dx))
}
