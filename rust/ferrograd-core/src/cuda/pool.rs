//! Launches of `kernels/pool.cu`: max pooling of contiguous NCHW images and average pooling over
//! per-axis windows, with their backward passes.

use cudarc::driver::{CudaSlice, DevicePtr, DeviceRepr, PushKernelArg};

use super::launch::{grid_for, launch_error};
use super::storage::{empty, zeros, CudaStorage};
use super::unfold::WindowGeometry;
use super::Gpu;
use crate::cpu::pool::{covering, Windows};
use crate::{Error, Result};

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

/// An average pool's windows on the device: the input rows and columns of each output row and
/// column, the output rows and columns covering each input row and column, and the divisors.
pub struct AvgPoolWindows {
    tables: CudaSlice<i32>,
    divisor: CudaSlice<f32>,
    plane: (usize, usize),
    out: (usize, usize),
}

/// `AvgWindows` of `pool.cu`, field for field.
#[repr(C)]
#[derive(Clone, Copy)]
struct KernelWindows {
    rows: u64,
    cols: u64,
    row_cover: u64,
    col_cover: u64,
    divisor: u64,
    planes: i64,
    h: i32,
    w: i32,
    oh: i32,
    ow: i32,
}

// SAFETY: plain `repr(C)` data laid out as the C++ struct.
unsafe impl DeviceRepr for KernelWindows {}

impl AvgPoolWindows {
    /// Uploads the windows `rows` x `cols` over `(h, w)` planes and `divisor` `[oh * ow]`.
    pub fn upload(
        g: &Gpu,
        op: &str,
        plane: (usize, usize),
        rows: &Windows,
        cols: &Windows,
        divisor: &[f32],
    ) -> Result<AvgPoolWindows> {
        if plane.0.max(plane.1) > i32::MAX as usize {
            return Err(Error::NotImplemented(format!(
                "{op} on CUDA: planes up to {} pixels a side, got {plane:?}",
                i32::MAX
            )));
        }
        let tables: Vec<i32> = [
            rows.clone(),
            cols.clone(),
            covering(rows, plane.0),
            covering(cols, plane.1),
        ]
        .iter()
        .flatten()
        .flat_map(|r| [r.start as i32, r.end as i32])
        .collect();
        Ok(AvgPoolWindows {
            tables: super::staging::upload(g, &tables)?,
            divisor: super::staging::upload(g, divisor)?,
            plane,
            out: (rows.len(), cols.len()),
        })
    }

    fn kernel_view(&self, g: &Gpu, planes: usize) -> KernelWindows {
        let base = self.tables.device_ptr(&g.stream).0;
        let (h, w) = self.plane;
        let (oh, ow) = self.out;
        // Byte offsets of the four tables, each of [start, end) pairs of i32.
        let at = |pairs_before: usize| base + (pairs_before * 2 * size_of::<i32>()) as u64;
        KernelWindows {
            rows: at(0),
            cols: at(oh),
            row_cover: at(oh + ow),
            col_cover: at(oh + ow + h),
            divisor: self.divisor.device_ptr(&g.stream).0,
            planes: planes as i64,
            h: h as i32,
            w: w as i32,
            oh: oh as i32,
            ow: ow as i32,
        }
    }
}

/// The averages `[planes, oh, ow]` of contiguous `[planes, h, w]` images over `windows`.
pub fn avg_pool(
    x: &CudaStorage,
    planes: usize,
    windows: &AvgPoolWindows,
    op: &'static str,
) -> Result<CudaStorage> {
    let g = x.gpu()?;
    let n = planes * windows.out.0 * windows.out.1;
    let mut out = empty::<f32>(&g, n)?;
    let f = g.function("pool.cu", "avg_pool_f32")?;
    let view = windows.kernel_view(&g, planes);
    let mut b = g.stream.launch_builder(&f);
    b.arg(&mut out).arg(x.f32s(op)?).arg(&view);
    // SAFETY: every window lies inside its plane (the windows are clipped), the tables hold
    // oh + ow + h + w pairs and the divisor oh * ow values, and each output is written once.
    unsafe { b.launch(grid_for(n)) }.map_err(|e| launch_error("avg_pool_f32", e))?;
    Ok(CudaStorage::F32(out))
}

/// The image gradient `[planes, h, w]` of `avg_pool` from its contiguous output gradient.
pub fn avg_pool_backward(
    grad: &CudaStorage,
    planes: usize,
    windows: &AvgPoolWindows,
    op: &'static str,
) -> Result<CudaStorage> {
    let g = grad.gpu()?;
    let n = planes * windows.plane.0 * windows.plane.1;
    let mut dx = empty::<f32>(&g, n)?;
    let f = g.function("pool.cu", "avg_pool_backward_f32")?;
    let view = windows.kernel_view(&g, planes);
    let mut b = g.stream.launch_builder(&f);
    b.arg(&mut dx).arg(grad.f32s(op)?).arg(&view);
    // SAFETY: the covering ranges index outputs inside each [oh, ow] plane of the gradient, and
    // each input pixel is written once.
    unsafe { b.launch(grid_for(n)) }.map_err(|e| launch_error("avg_pool_backward_f32", e))?;
    Ok(CudaStorage::F32(dx))
}
