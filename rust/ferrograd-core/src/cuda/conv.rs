//! Launches of `kernels/conv.cu`: a convolution's forward pass, input gradient and weight
//! gradient as implicit GEMM over contiguous NCHW images and `[Co, C/G, kh, kw]` weights, on CUDA
//! cores in f32, or on bf16 tensor cores when every operand holds bf16 values (`Products::Bf16`).

use cudarc::driver::{DeviceRepr, LaunchConfig, PushKernelArg};

use super::launch::{launch_error, BUSY_BLOCKS};
use super::products::Products;
use super::storage::{empty, CudaStorage};
use super::Gpu;
use crate::cpu::conv::ConvGeometry;
use crate::{Error, Result};

/// The kernels' tile: rows and columns of the product per block, and reduction steps
/// (`CONV_BM`, `CONV_BN`, `CONV_BK`, `CONV_THREADS`).
const TILE_ROWS: usize = 64;
const TILE_COLUMNS: usize = 64;
const TILE_STEP: usize = 16;
const THREADS: u32 = 256;

/// Fewest reduction steps a split of the weight gradient gets, so that the partials it writes
/// stay small next to the work that fills them.
const MIN_STEPS_PER_SPLIT: usize = 8;

/// Most blocks along a grid's second and third dimensions.
const MAX_GRID_LAYERS: usize = 65_535;

const OP: &str = "conv2d";

/// `ConvShape` of `conv.cu`, field for field.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
struct ConvShape {
    n: i32,
    c: i32,
    h: i32,
    w: i32,
    co: i32,
    oh: i32,
    ow: i32,
    kh: i32,
    kw: i32,
    sh: i32,
    sw: i32,
    ph: i32,
    pw: i32,
    dh: i32,
    dw: i32,
    groups: i32,
    splits: i32,
}

// SAFETY: plain `repr(C)` integers, laid out as the C++ struct.
unsafe impl DeviceRepr for ConvShape {}

impl ConvShape {
    /// The kernels' view of `geo`. They index in 32-bit integers, which holds while the input,
    /// the output and the weight each stay below 2^31 elements.
    fn of(geo: &ConvGeometry, splits: usize) -> Result<ConvShape> {
        let input = geo.batch * geo.in_channels * geo.height * geo.width;
        let output = geo.batch * geo.out_channels * geo.out_height * geo.out_width;
        let weight = geo.out_channels * weight_columns(geo);
        if input.max(output).max(weight) > i32::MAX as usize {
            return Err(Error::NotImplemented(format!(
                "{OP} on CUDA: tensors of up to 2^31 - 1 elements, got input {:?} and {} output \
                 elements",
                [geo.batch, geo.in_channels, geo.height, geo.width],
                output
            )));
        }
        let int = |v: usize| v as i32;
        Ok(ConvShape {
            n: int(geo.batch),
            c: int(geo.in_channels),
            h: int(geo.height),
            w: int(geo.width),
            co: int(geo.out_channels),
            oh: int(geo.out_height),
            ow: int(geo.out_width),
            kh: int(geo.kernel.0),
            kw: int(geo.kernel.1),
            sh: int(geo.stride.0),
            sw: int(geo.stride.1),
            ph: int(geo.padding.0),
            pw: int(geo.padding.1),
            dh: int(geo.dilation.0),
            dw: int(geo.dilation.1),
            groups: int(geo.groups),
            splits: int(splits),
        })
    }
}

/// `base` with the suffix of the kernels for `products` on `g`.
fn kernel_name(base: &str, products: Products, g: &Gpu) -> String {
    format!("{base}_{}", products.tensor_core_suffix(g).unwrap_or("f32"))
}

/// Columns of one group's weight matrix: `C/G * kh * kw`.
fn weight_columns(geo: &ConvGeometry) -> usize {
    geo.in_channels / geo.groups * geo.kernel.0 * geo.kernel.1
}

/// Blocks over a product of `rows` x `columns` per layer (group, or group and split).
fn grid(rows: usize, columns: usize, layers: usize) -> Result<LaunchConfig> {
    let row_tiles = rows.div_ceil(TILE_ROWS);
    if layers > MAX_GRID_LAYERS || row_tiles > MAX_GRID_LAYERS {
        return Err(Error::NotImplemented(format!(
            "{OP} on CUDA: at most {MAX_GRID_LAYERS} groups and {} channels a group, got {layers} \
             and {rows}",
            MAX_GRID_LAYERS * TILE_ROWS
        )));
    }
    Ok(LaunchConfig {
        grid_dim: (
            columns.div_ceil(TILE_COLUMNS) as u32,
            row_tiles as u32,
            layers as u32,
        ),
        block_dim: (THREADS, 1, 1),
        shared_mem_bytes: 0,
    })
}

/// The output `[N, Co, oh, ow]` of the convolution of `x` with `weight`, plus `bias` `[Co]`, and
/// through a ReLU when `relu` (fused into the kernel's epilogue).
pub fn forward(
    x: &CudaStorage,
    weight: &CudaStorage,
    bias: Option<&CudaStorage>,
    geo: &ConvGeometry,
    products: Products,
    relu: bool,
) -> Result<CudaStorage> {
    let shape = ConvShape::of(geo, 1)?;
    let g = x.gpu()?;
    let plane = geo.out_height * geo.out_width;
    let mut y = empty::<f32>(&g, geo.batch * geo.out_channels * plane)?;
    let kernel = kernel_name("conv2d_forward", products, &g);
    let f = g.function("conv.cu", &kernel)?;
    let w = weight.f32s(OP)?;
    let (has_bias, relu) = (bias.is_some() as i32, relu as i32);
    let mut b = g.stream.launch_builder(&f);
    b.arg(&mut y).arg(x.f32s(OP)?).arg(w);
    match bias {
        Some(bias) => b.arg(bias.f32s(OP)?),
        // Never read: the weights stand in for the missing pointer.
        None => b.arg(w),
    };
    b.arg(&has_bias).arg(&relu).arg(&shape);
    let config = grid(geo.out_channels / geo.groups, geo.batch * plane, geo.groups)?;
    // SAFETY: the kernel reads the input, weight and bias inside their sizes for this geometry
    // (out-of-image taps are skipped) and writes each of the N * Co * oh * ow outputs once.
    unsafe { b.launch(config) }.map_err(|e| launch_error(&kernel, e))?;
    Ok(CudaStorage::F32(y))
}

/// The input gradient `[N, C, H, W]` from the output gradient `dy` (contiguous).
pub fn backward_input(
    dy: &CudaStorage,
    weight: &CudaStorage,
    geo: &ConvGeometry,
    products: Products,
) -> Result<CudaStorage> {
    let shape = ConvShape::of(geo, 1)?;
    let g = dy.gpu()?;
    let image = geo.height * geo.width;
    let mut dx = empty::<f32>(&g, geo.batch * geo.in_channels * image)?;
    let kernel = kernel_name("conv2d_backward_input", products, &g);
    let f = g.function("conv.cu", &kernel)?;
    let mut b = g.stream.launch_builder(&f);
    b.arg(&mut dx)
        .arg(dy.f32s(OP)?)
        .arg(weight.f32s(OP)?)
        .arg(&shape);
    let config = grid(geo.in_channels / geo.groups, geo.batch * image, geo.groups)?;
    // SAFETY: reads stay inside dy and the weights for this geometry; every input pixel is
    // written once.
    unsafe { b.launch(config) }.map_err(|e| launch_error(&kernel, e))?;
    Ok(CudaStorage::F32(dx))
}

/// How many parts the weight gradient's reduction over `N * oh * ow` positions is split into:
/// enough blocks in all to keep the GPU busy, each part at least `MIN_STEPS_PER_SPLIT` steps.
fn weight_splits(geo: &ConvGeometry) -> usize {
    let per_group = geo.out_channels / geo.groups;
    let tiles =
        geo.groups * per_group.div_ceil(TILE_ROWS) * weight_columns(geo).div_ceil(TILE_COLUMNS);
    let steps = (geo.batch * geo.out_height * geo.out_width).div_ceil(TILE_STEP);
    let most = (steps / MIN_STEPS_PER_SPLIT)
        .min(MAX_GRID_LAYERS / geo.groups)
        .max(1);
    BUSY_BLOCKS.div_ceil(tiles).clamp(1, most)
}

/// The weight gradient's partial sums `[splits, Co, C/G, kh, kw]` from the output gradient `dy`
/// (contiguous) and the input `x`, and `splits`; the weight gradient is their sum over the
/// first axis.
pub fn backward_weight_partials(
    dy: &CudaStorage,
    x: &CudaStorage,
    geo: &ConvGeometry,
    products: Products,
) -> Result<(CudaStorage, usize)> {
    let splits = weight_splits(geo);
    let shape = ConvShape::of(geo, splits)?;
    let g = dy.gpu()?;
    let columns = weight_columns(geo);
    let mut partials = empty::<f32>(&g, splits * geo.out_channels * columns)?;
    let kernel = kernel_name("conv2d_backward_weight", products, &g);
    let f = g.function("conv.cu", &kernel)?;
    let mut b = g.stream.launch_builder(&f);
    b.arg(&mut partials)
        .arg(dy.f32s(OP)?)
        .arg(x.f32s(OP)?)
        .arg(&shape);
    let config = grid(geo.out_channels / geo.groups, columns, geo.groups * splits)?;
    // SAFETY: reads stay inside dy and x for this geometry; each split writes all of its
    // Co * C/G * kh * kw partial sums once (zeros for a split past the last step).
    unsafe { b.launch(config) }.map_err(|e| launch_error(&kernel, e))?;
    Ok((CudaStorage::F32(partials), splits))
}
