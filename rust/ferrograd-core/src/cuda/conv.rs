//! Launches of `kernels/conv.cu`: a convolution's forward pass, input gradient and weight
//! gradient as implicit GEMM over `[N, C, H, W]` images read and written through their strides
//! (row-major, channels-last or any other view at offset 0) and contiguous `[Co, C/G, kh, kw]`
//! weights, on CUDA cores in f32, or on bf16 tensor cores when every operand holds bf16 values
//! (`Products::Bf16`).

use cudarc::driver::{DeviceRepr, LaunchConfig, PushKernelArg};

use super::launch::{launch_error, BUSY_BLOCKS};
use super::products::Products;
use super::storage::{empty, CudaStorage};
use super::Gpu;
use crate::cpu::conv::ConvGeometry;
use crate::{Error, Layout, MemoryFormat, Result};

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

/// `ImageStrides` of `conv.cu`: element strides of an `[N, C, H, W]` image tensor.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
struct ImageStrides {
    n: i32,
    c: i32,
    h: i32,
    w: i32,
}

impl ImageStrides {
    /// The strides of `layout`, whose elements the kernels address in 32-bit integers from the
    /// start of its storage: its offset must be 0 and its last element below 2^31.
    fn of(layout: &Layout) -> Result<ImageStrides> {
        let (shape, strides) = (layout.shape(), layout.strides());
        let last: usize = shape
            .iter()
            .zip(strides)
            .map(|(&n, &s)| n.saturating_sub(1) * s)
            .sum();
        if layout.offset() != 0 || shape.len() != 4 || last > i32::MAX as usize {
            return Err(Error::NotImplemented(format!(
                "{OP} on CUDA: [N, C, H, W] images at offset 0 whose elements sit below 2^31, got \
                 shape {shape:?}, strides {strides:?} and offset {}",
                layout.offset()
            )));
        }
        let int = |i: usize| strides[i] as i32;
        Ok(ImageStrides {
            n: int(0),
            c: int(1),
            h: int(2),
            w: int(3),
        })
    }

    /// The strides of a new image of `shape` in `format`.
    fn dense(shape: [usize; 4], format: MemoryFormat) -> Result<ImageStrides> {
        ImageStrides::of(&Layout::new(shape.to_vec(), format.strides(&shape), 0))
    }
}

/// True when the kernels can read an image tensor laid out as `layout` where it lies (see
/// `ImageStrides::of`); other tensors are copied first.
pub fn reads_in_place(layout: &Layout) -> bool {
    ImageStrides::of(layout).is_ok()
}

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
    /// The input side: x (read) or dx (written).
    input: ImageStrides,
    /// The output side: y (written) or dy (read).
    output: ImageStrides,
}

// SAFETY: plain `repr(C)` integers, laid out as the C++ struct.
unsafe impl DeviceRepr for ConvShape {}

impl ConvShape {
    /// The kernels' view of `geo`, with the images on the input and output sides laid out as
    /// `input` and `output`. They index in 32-bit integers, which holds while the input, the output
    /// and the weight each stay below 2^31 elements.
    fn of(
        geo: &ConvGeometry,
        splits: usize,
        input_strides: ImageStrides,
        output_strides: ImageStrides,
    ) -> Result<ConvShape> {
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
            input: input_strides,
            output: output_strides,
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

/// The output shape `[N, Co, oh, ow]` of `geo`.
fn output_shape(geo: &ConvGeometry) -> [usize; 4] {
    [geo.batch, geo.out_channels, geo.out_height, geo.out_width]
}

/// The input shape `[N, C, H, W]` of `geo`.
fn input_shape(geo: &ConvGeometry) -> [usize; 4] {
    [geo.batch, geo.in_channels, geo.height, geo.width]
}

/// The output `[N, Co, oh, ow]`, stored in `format`, of the convolution of `x` (laid out as
/// `x_layout`) with `weight`, plus `bias` `[Co]`, and through a ReLU when `relu` (fused into the
/// kernel's epilogue).
#[allow(clippy::too_many_arguments)]
pub fn forward(
    x: &CudaStorage,
    x_layout: &Layout,
    weight: &CudaStorage,
    bias: Option<&CudaStorage>,
    geo: &ConvGeometry,
    products: Products,
    relu: bool,
    format: MemoryFormat,
) -> Result<CudaStorage> {
    let out = ImageStrides::dense(output_shape(geo), format)?;
    let shape = ConvShape::of(geo, 1, ImageStrides::of(x_layout)?, out)?;
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
    // SAFETY: the kernel reads the input (inside its layout, checked by `ImageStrides::of`), the
    // weight and the bias inside their sizes for this geometry (out-of-image taps are skipped) and
    // writes each of the N * Co * oh * ow outputs once, at its dense offset in `format`.
    unsafe { b.launch(config) }.map_err(|e| launch_error(&kernel, e))?;
    Ok(CudaStorage::F32(y))
}

/// The input gradient `[N, C, H, W]`, stored in `format`, from the output gradient `dy` (laid out
/// as `dy_layout`).
pub fn backward_input(
    dy: &CudaStorage,
    dy_layout: &Layout,
    weight: &CudaStorage,
    geo: &ConvGeometry,
    products: Products,
    format: MemoryFormat,
) -> Result<CudaStorage> {
    let dx_strides = ImageStrides::dense(input_shape(geo), format)?;
    let shape = ConvShape::of(geo, 1, dx_strides, ImageStrides::of(dy_layout)?)?;
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
    // SAFETY: reads stay inside dy's layout and the weights for this geometry; every input pixel
    // is written once, at its dense offset in `format`.
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
/// and the input `x` (each laid out as its layout says), and `splits`; the weight gradient is
/// their sum over the first axis.
pub fn backward_weight_partials(
    dy: &CudaStorage,
    dy_layout: &Layout,
    x: &CudaStorage,
    x_layout: &Layout,
    geo: &ConvGeometry,
    products: Products,
) -> Result<(CudaStorage, usize)> {
    let splits = weight_splits(geo);
    let (input, output) = (ImageStrides::of(x_layout)?, ImageStrides::of(dy_layout)?);
    let shape = ConvShape::of(geo, splits, input, output)?;
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
    // SAFETY: reads stay inside dy's and x's layouts for this geometry; each split writes all of its
    // Co * C/G * kh * kw partial sums once (zeros for a split past the last step).
    unsafe { b.launch(config) }.map_err(|e| launch_error(&kernel, e))?;
    Ok((CudaStorage::F32(partials), splits))
}
