//! 2-D convolution on the host as im2col + GEMM, one image per rayon task (the GEMM inside runs
//! single-threaded, so threads are not oversubscribed). A 1x1 / stride 1 / no padding kernel reads
//! the input directly as the column matrix. Backward recomputes the columns instead of keeping
//! them from the forward pass: they are k*k times the input's size.

use std::mem::MaybeUninit;
use std::ops::Range;

use rayon::prelude::*;

pub use super::conv_output_grad::{Fused, OutputGrad};
use super::fresh::{self, par_chunks_filled, par_chunks_zeroed};
use super::gemm::{matmul_strided, matmul_strided_uninit};
use super::norm::sum;
use super::pool::{MaxPool, PoolScratch};
use super::relu::relu_in_place;
use crate::Result;

/// Geometry of one convolution.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConvGeometry {
    pub batch: usize,
    pub in_channels: usize,
    pub out_channels: usize,
    pub height: usize,
    pub width: usize,
    pub kernel: (usize, usize),
    pub stride: (usize, usize),
    pub padding: (usize, usize),
    pub dilation: (usize, usize),
    pub groups: usize,
    pub out_height: usize,
    pub out_width: usize,
}

impl ConvGeometry {
    fn group_in(&self) -> usize {
        self.in_channels / self.groups
    }
    fn group_out(&self) -> usize {
        self.out_channels / self.groups
    }
    /// Rows of the column matrix of one group: C_in/groups * kH * kW.
    fn col_rows(&self) -> usize {
        self.group_in() * self.kernel.0 * self.kernel.1
    }
    pub(crate) fn out_plane(&self) -> usize {
        self.out_height * self.out_width
    }
    fn in_image(&self) -> usize {
        self.in_channels * self.height * self.width
    }
    fn out_image(&self) -> usize {
        self.out_channels * self.out_plane()
    }
    fn is_pointwise(&self) -> bool {
        self.kernel == (1, 1) && self.stride == (1, 1) && self.padding == (0, 0)
    }

    /// Walks the column matrix of one group, whose rows start `pitch` entries apart (the plane
    /// size, or more when several images sit side by side): for each kernel tap (channel, ky, kx), the output
    /// rows whose input exists go to `visit.runs` together, and entries that read padding go to
    /// `visit.gap` as ranges. Valid ranges are computed once per tap, so the visitor's inner
    /// loop is a plain copy per output row (rows are often 8-24 long).
    #[inline(always)]
    fn walk(&self, pitch: usize, visit: &mut impl ColumnVisitor) {
        let (kh, kw) = self.kernel;
        let (oh, ow) = (self.out_height, self.out_width);
        let (plane, image_plane) = (self.out_plane(), self.height * self.width);
        let ((sy, sx), (py, px), (dy, dx)) = (self.stride, self.padding, self.dilation);
        // The ranges take integer divisions: computed once per kernel row and column here, not
        // once per tap (that was most of im2col's time for small images).
        let rows: Vec<_> = (0..kh)
            .map(|ky| valid_range(oh, self.height, sy, py, ky * dy))
            .collect();
        let cols: Vec<_> = (0..kw)
            .map(|kx| valid_range(ow, self.width, sx, px, kx * dx))
            .collect();
        for c in 0..self.group_in() {
            for (ky, &(ylo, yhi)) in rows.iter().enumerate() {
                for (kx, &(lo, hi)) in cols.iter().enumerate() {
                    let row = ((c * kh + ky) * kw + kx) * pitch;
                    visit.gap(row, row + ylo * ow);
                    visit.gap(row + yhi * ow, row + plane);
                    if lo >= hi {
                        visit.gap(row + ylo * ow, row + yhi * ow);
                        continue;
                    }
                    if lo > 0 || hi < ow {
                        for oy in ylo..yhi {
                            visit.gap(row + oy * ow, row + oy * ow + lo);
                            visit.gap(row + oy * ow + hi, row + (oy + 1) * ow);
                        }
                    }
                    visit.runs(Runs {
                        at: row + ylo * ow + lo,
                        from: c * image_plane
                            + (ylo * sy + ky * dy - py) * self.width
                            + lo * sx
                            + kx * dx
                            - px,
                        len: hi - lo,
                        count: yhi - ylo,
                        at_step: ow,
                        from_step: sy * self.width,
                    });
                }
            }
        }
    }

    /// Fills `cols` [col_rows, out_plane] with the patches of one group of one image, rows
    /// `pitch` entries apart.
    fn im2col(&self, image: &[f32], cols: &mut [f32], pitch: usize) {
        self.walk(
            pitch,
            &mut Gather {
                image,
                cols,
                stride: self.stride.1,
            },
        );
    }

    /// Adds the column matrix `cols` of one group back into the image gradient (im2col's adjoint).
    /// Kept out of line: inlined into its caller, its row additions compiled to scalar adds
    /// (measured: the small CNN's `fit` step 1.5 ms slower).
    #[inline(never)]
    fn col2im(&self, cols: &[f32], image: &mut [f32]) {
        self.walk(
            self.out_plane(),
            &mut Scatter {
                image,
                cols,
                stride: self.stride.1,
            },
        );
    }

    /// The column matrix of group `g` of `image`: borrowed for pointwise kernels, built otherwise.
    fn columns<'a>(&self, image: &'a [f32], g: usize, scratch: &'a mut Vec<f32>) -> &'a [f32] {
        let group = &image[g * self.group_in() * self.height * self.width..]
            [..self.group_in() * self.height * self.width];
        if self.is_pointwise() {
            return group;
        }
        scratch.resize(self.col_rows() * self.out_plane(), 0.0);
        self.im2col(group, scratch, self.out_plane());
        scratch
    }
}

/// Output positions `lo..hi` along one axis whose input index `o * stride + shift - pad` lies
/// inside `0..size` (`shift` is the kernel offset times the dilation).
#[inline]
fn valid_range(out: usize, size: usize, stride: usize, pad: usize, shift: usize) -> (usize, usize) {
    let lo = pad.saturating_sub(shift).div_ceil(stride);
    // Largest o with o * stride + shift - pad <= size - 1.
    let hi = if size + pad > shift {
        ((size + pad - shift - 1) / stride + 1).min(out)
    } else {
        0
    };
    (lo.min(hi), hi)
}

/// What `ConvGeometry::walk` does with each run of the column matrix and each padded gap.
trait ColumnVisitor {
    fn runs(&mut self, runs: Runs);
    fn gap(&mut self, lo: usize, hi: usize);
}

/// `count` runs of `len` column-matrix entries: run `i` starts at column offset
/// `at + i * at_step` and reads the image from `from + i * from_step` on, stepping by the
/// horizontal stride.
struct Runs {
    at: usize,
    from: usize,
    len: usize,
    count: usize,
    at_step: usize,
    from_step: usize,
}

impl Runs {
    /// The column-matrix and image ranges the runs touch (from the first run's start to the
    /// last run's end), or None when there are no runs. Cutting rows out of these with
    /// `chunks(at_step)` / `chunks(from_step)` leaves one bounds check per tap, not per row.
    #[inline(always)]
    fn spans(&self, stride: usize) -> Option<(Range<usize>, Range<usize>)> {
        if self.count == 0 || self.len == 0 {
            return None;
        }
        let cols = self.at..self.at + (self.count - 1) * self.at_step + self.len;
        let image =
            self.from..self.from + (self.count - 1) * self.from_step + (self.len - 1) * stride + 1;
        Some((cols, image))
    }
}

impl Runs {
    /// `row(dst_row, src_row)` over the runs of a unit-stride tap, rows `dst_step` apart in `dst`
    /// and `src_step` apart in `src` (the slices `spans` cut out, so the last row ends at their
    /// ends).
    #[inline(always)]
    fn unit_rows(
        &self,
        dst: &mut [f32],
        dst_step: usize,
        src: &[f32],
        src_step: usize,
        mut row: impl FnMut(&mut [f32], &[f32]),
    ) {
        let Some(last) = self.count.checked_sub(1) else {
            return;
        };
        // Never true for slices from `spans`; checked because the loop below trusts it.
        if last * dst_step + self.len > dst.len() || last * src_step + self.len > src.len() {
            return;
        }
        let (d, s) = (dst.as_mut_ptr(), src.as_ptr());
        for i in 0..self.count {
            // SAFETY: row i lies inside both slices (the last row's end was checked above, and
            // rows start at increasing offsets), and `dst` and `src` are distinct buffers.
            // Raw pointers leave this loop without per-row bounds checks and the stack traffic
            // they cost: it is most of im2col's and col2im's time for small images.
            unsafe {
                row(
                    std::slice::from_raw_parts_mut(d.add(i * dst_step), self.len),
                    std::slice::from_raw_parts(s.add(i * src_step), self.len),
                );
            }
        }
    }
}

/// im2col: copies image runs into the column matrix and zeroes padded entries.
struct Gather<'a> {
    image: &'a [f32],
    cols: &'a mut [f32],
    stride: usize,
}

impl ColumnVisitor for Gather<'_> {
    #[inline(always)]
    fn runs(&mut self, r: Runs) {
        let Some((dst, src)) = r.spans(self.stride) else {
            return;
        };
        let (dst, src) = (&mut self.cols[dst], &self.image[src]);
        if self.stride == 1 {
            r.unit_rows(dst, r.at_step, src, r.from_step, copy_row);
            return;
        }
        for i in 0..r.count {
            let d = &mut dst[i * r.at_step..][..r.len];
            for (d, v) in d
                .iter_mut()
                .zip(src[i * r.from_step..].iter().step_by(self.stride))
            {
                *d = *v;
            }
        }
    }

    #[inline(always)]
    fn gap(&mut self, lo: usize, hi: usize) {
        if lo < hi {
            self.cols[lo..hi].fill(0.0);
        }
    }
}

/// col2im: adds column runs back into the image; padded entries have no image position.
struct Scatter<'a> {
    image: &'a mut [f32],
    cols: &'a [f32],
    stride: usize,
}

impl ColumnVisitor for Scatter<'_> {
    #[inline(always)]
    fn runs(&mut self, r: Runs) {
        let Some((src, dst)) = r.spans(self.stride) else {
            return;
        };
        let (dst, src) = (&mut self.image[dst], &self.cols[src]);
        if self.stride == 1 {
            r.unit_rows(dst, r.from_step, src, r.at_step, add_row);
            return;
        }
        for i in 0..r.count {
            let d = &mut dst[i * r.from_step..];
            for (d, v) in d
                .iter_mut()
                .step_by(self.stride)
                .zip(&src[i * r.at_step..][..r.len])
            {
                *d += v;
            }
        }
    }

    #[inline(always)]
    fn gap(&mut self, _lo: usize, _hi: usize) {}
}

/// Copies `src` into `dst` (same length). Column rows are output rows, often 8-24 elements: a
/// `memcpy` call per row costs more than the copy, so rows up to 32 long move in at most eight
/// 4-float pieces, the last overlapping the one before. The pieces are vector moves written out
/// one by one: the optimiser turns a loop of slice copies (or a tail of slice copies of
/// different lengths) back into a `memcpy` call.
#[inline(always)]
fn copy_row(dst: &mut [f32], src: &[f32]) {
    let n = dst.len();
    let src = &src[..n];
    let mut piece = |at: usize| {
        if let (Some(d), Some(s)) = (dst[at..].first_chunk_mut(), src[at..].first_chunk()) {
            move4(d, s);
        }
    };
    match n {
        4..=8 => {
            piece(0);
            piece(n - 4);
        }
        9..=16 => {
            piece(0);
            piece(4);
            piece(8.min(n - 8));
            piece(n - 4);
        }
        17..=32 => {
            for at in [
                0,
                4,
                8,
                12,
                16.min(n - 16),
                20.min(n - 12),
                24.min(n - 8),
                n - 4,
            ] {
                piece(at);
            }
        }
        _ => dst.copy_from_slice(src),
    }
}

/// Copies four floats as one unaligned vector load and store.
#[inline(always)]
fn move4(dst: &mut [f32; 4], src: &[f32; 4]) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: both arrays hold exactly four floats; the moves are unaligned.
    unsafe {
        use std::arch::x86_64::{_mm_loadu_ps, _mm_storeu_ps};
        _mm_storeu_ps(dst.as_mut_ptr(), _mm_loadu_ps(src.as_ptr()));
    }
    #[cfg(not(target_arch = "x86_64"))]
    dst.copy_from_slice(src);
}

/// `dst += src` elementwise, in constant-width pieces and a scalar tail.
#[inline(always)]
fn add_row(dst: &mut [f32], src: &[f32]) {
    const PIECE: usize = 8;
    let mut pieces = dst.chunks_exact_mut(PIECE);
    let mut from = src.chunks_exact(PIECE);
    for (d, s) in (&mut pieces).zip(&mut from) {
        for (d, s) in d[..PIECE].iter_mut().zip(&s[..PIECE]) {
            *d += s;
        }
    }
    for (d, s) in pieces.into_remainder().iter_mut().zip(from.remainder()) {
        *d += s;
    }
}

/// Forward: `out[n] = W @ cols(x[n]) (+ bias)` per group, then `max(out, 0)` with `relu` (a
/// ReLU fused into the layer: applied to each image while it is still in cache, instead of a
/// pass of its own over the whole output).
pub fn conv2d_forward(
    x: &[f32],
    weight: &[f32],
    bias: Option<&[f32]>,
    geo: &ConvGeometry,
    relu: bool,
) -> Result<Vec<f32>> {
    let fill = |scratch: &mut Vec<f32>, n: usize, o: &mut [MaybeUninit<f32>]| {
        forward_image(x, weight, bias, geo, relu, n, scratch, o)
    };
    // SAFETY: `forward_image` returns Ok only after writing the whole image.
    let (out, _) =
        unsafe { par_chunks_filled(geo.batch * geo.out_image(), geo.out_image(), Vec::new, fill)? };
    Ok(out)
}

/// `max_pool(relu(conv2d(x)))` as one pass per image: each image's convolution output stays
/// in a per-thread buffer, in cache, while the ReLU and the pool read it, and only the pooled
/// values (with each one's in-plane position, for the backward pass) are kept. The values equal
/// the three ops run one after the other, bit for bit.
pub fn conv2d_relu_max_pool_forward(
    x: &[f32],
    weight: &[f32],
    bias: Option<&[f32]>,
    geo: &ConvGeometry,
    pool: &MaxPool,
) -> Result<(Vec<f32>, Vec<u32>)> {
    let (plane, pool_plane) = (geo.out_plane(), pool.out.0 * pool.out.1);
    let pooled_image = (geo.out_channels * pool_plane).max(1);
    let mut values = fresh::zeros::<f32>(geo.batch * geo.out_channels * pool_plane);
    let mut argmax = fresh::zeros::<u32>(values.len());
    let plan = pool.plan();
    values
        .par_chunks_mut(pooled_image)
        .zip(argmax.par_chunks_mut(pooled_image))
        .enumerate()
        .try_for_each_init(
            || (Vec::new(), Vec::new(), PoolScratch::default()),
            |(cols, conv, pool_scratch), (n, (vals, idx))| -> Result<()> {
                conv.clear();
                conv.resize(geo.out_image(), MaybeUninit::uninit());
                forward_image(x, weight, bias, geo, true, n, cols, conv)?;
                // SAFETY: `forward_image` returned Ok, so it wrote the whole image.
                let conv = unsafe { &*(&conv[..] as *const [MaybeUninit<f32>] as *const [f32]) };
                for ((x, vals), idx) in conv
                    .chunks(plane.max(1))
                    .zip(vals.chunks_mut(pool_plane.max(1)))
                    .zip(idx.chunks_mut(pool_plane.max(1)))
                {
                    plan.plane(x, vals, idx, pool_scratch);
                }
                Ok(())
            },
        )?;
    Ok((values, argmax))
}

/// Output channels per forward product when the column matrix fits `UNPACKED_COLUMNS`. The
/// `gemm` crate copies the column matrix into panels (packs it) when a product has more than
/// 8 x its microkernel's width of output channels (48 with AVX-512, 32 with AVX2); in blocks of
/// 32 it reads the columns in place instead, from L2. Measured on two AVX-512 cores: the small
/// CNN's second convolution (32 -> 64 channels, 26 x 26, batch 128) went from 11.2 to 10.1 ms.
const FORWARD_ROW_BLOCK: usize = 32;

/// Largest column matrix (entries) read unpacked by several products: past L2, each block's
/// product reads it from memory again (a 64 -> 64 channel, 32 x 32 convolution, 590K entries,
/// went from 12.1 to 12.5 ms in blocks).
const UNPACKED_COLUMNS: usize = 3 << 17;

/// Image `n` of the forward pass into `o` (one output image), the ReLU applied with `relu`;
/// `cols` is the calling thread's column buffer. Writes all of `o` when it returns Ok.
#[allow(clippy::too_many_arguments)]
fn forward_image(
    x: &[f32],
    weight: &[f32],
    bias: Option<&[f32]>,
    geo: &ConvGeometry,
    relu: bool,
    n: usize,
    cols: &mut Vec<f32>,
    o: &mut [MaybeUninit<f32>],
) -> Result<()> {
    let (k, plane, go) = (geo.col_rows(), geo.out_plane(), geo.group_out());
    // A batch of one runs its products multi-threaded; larger batches run an image per thread.
    let single = geo.batch == 1;
    let image = &x[n * geo.in_image()..(n + 1) * geo.in_image()];
    let block = if k * plane <= UNPACKED_COLUMNS {
        FORWARD_ROW_BLOCK
    } else {
        go
    };
    for g in 0..geo.groups {
        let cols = geo.columns(image, g, cols);
        for lo in (0..go).step_by(block.max(1)) {
            let rows = (g * go + lo)..(g * go + (lo + block).min(go));
            matmul_strided_uninit(
                &mut o[rows.start * plane..rows.end * plane],
                (rows.len(), plane, k),
                &weight[rows.start * k..rows.end * k],
                (k, 1),
                cols,
                (plane, 1),
                single,
            )?;
        }
    }
    // SAFETY: the groups' products wrote their [go, plane] blocks, which tile the image's
    // whole output, and MaybeUninit<f32> has f32's layout.
    let o = unsafe { &mut *(o as *mut [MaybeUninit<f32>] as *mut [f32]) };
    if let Some(b) = bias {
        for (c, chunk) in o.chunks_mut(plane.max(1)).enumerate() {
            chunk.iter_mut().for_each(|v| *v += b[c]);
        }
    }
    if relu {
        relu_in_place(o);
    }
    Ok(())
}

/// Gradient with respect to the input: `col2im(W^T @ dy[n])` per group, `dy[n]` each image's
/// output gradient as `grad` gives it (passed back through the fused ops into a scratch buffer
/// where there are any). For an input whose weight needs no gradient (an attack's model);
/// `conv2d_backward` gives both.
pub fn conv2d_backward_input(
    grad: &OutputGrad,
    weight: &[f32],
    geo: &ConvGeometry,
) -> Result<Vec<f32>> {
    let plane = geo.out_plane();
    let group_size = geo.group_in() * geo.height * geo.width;
    par_chunks_zeroed(
        geo.batch * geo.in_image(),
        geo.in_image(),
        || (Vec::new(), Vec::new()),
        |(cols, passed), n, dxi| {
            let dyi = grad.image(n, geo.out_channels, plane, passed);
            for (g, target) in dxi.chunks_mut(group_size.max(1)).enumerate() {
                let dyg = &dyi[g * geo.group_out() * plane..];
                geo.add_input_grad(weight, g, (dyg, plane), cols, target)?;
            }
            Ok(())
        },
    )
}

impl ConvGeometry {
    /// Group `g`'s share of one image's input gradient, `col2im(W_g^T @ dy_g)`, into `target`
    /// (the group's channels of the image, zeroed: col2im adds). `dy` is the group's [C_out/groups, plane] output gradient with rows `dy.1` apart;
    /// `cols` is the calling thread's column buffer.
    fn add_input_grad(
        &self,
        weight: &[f32],
        g: usize,
        dy: (&[f32], usize),
        cols: &mut Vec<f32>,
        target: &mut [f32],
    ) -> Result<()> {
        let (k, plane, go) = (self.col_rows(), self.out_plane(), self.group_out());
        let w = &weight[g * go * k..(g + 1) * go * k];
        let (dy, pitch) = dy;
        // A batch of one runs its products multi-threaded; larger batches run an image per
        // thread.
        let single = self.batch == 1;
        let product = |dst: &mut [f32]| {
            matmul_strided(
                dst,
                (k, plane, go),
                w,
                (1, k),
                dy,
                (pitch, 1),
                false,
                single,
            )
        };
        if self.is_pointwise() {
            // The column matrix is the input itself, so W^T @ dy lands directly in dx.
            return product(target);
        }
        cols.resize(k * plane, 0.0);
        product(cols)?;
        self.col2im(cols, target);
        Ok(())
    }
}

/// Images per partial sum of the weight gradient: the batch is cut into at most this many chunks.
const WEIGHT_GRAD_CHUNKS: usize = 16;

/// Column-matrix entries per weight-gradient product: a chunk's images go into one product
/// (a long inner dimension) as long as their columns stay near this size (4 MiB), so they stay
/// in cache between im2col and the product.
const WEIGHT_GRAD_COLUMNS: usize = 1 << 18;

/// A convolution's parameter gradients, and its input's when asked for.
pub struct ConvGrads {
    pub input: Option<Vec<f32>>,
    pub weight: Vec<f32>,
    pub bias: Option<Vec<f32>>,
}

/// Gradient with respect to the weight (and the bias with `bias`): see `conv2d_backward`.
pub fn conv2d_backward_weight(
    grad: &OutputGrad,
    x: &[f32],
    geo: &ConvGeometry,
    bias: bool,
) -> Result<(Vec<f32>, Option<Vec<f32>>)> {
    let grads = conv2d_backward(grad, x, None, geo, bias)?;
    Ok((grads.weight, grads.bias))
}

/// Gradients with respect to the weight, the bias (with `bias`) and, given the `weight`, the
/// input: `dW = sum_n dy[n] @ cols(x[n])^T`, `dx[n] = col2im(W^T @ dy[n])`, `dy[n]` each
/// image's output gradient as `grad` gives it.
///
/// The batch is cut into chunks whose size depends only on the batch size (never on the thread
/// count or on work stealing); each chunk sums into its own partial in parallel and the partials
/// are added in chunk order. The result is therefore bitwise the same on every run, which keeps
/// same-seed training of convolutional models reproducible.
///
/// Within a chunk, several images' columns sit side by side, [C_in*kH*kW, images*plane], and
/// one product `cols @ dy^T` gives the transposed gradient: a per-image `dy @ cols^T` has a
/// short inner dimension (one plane) and reads the columns transposed, which the GEMM packs
/// slowly (measured 84 against 139 GFLOP/s for LeNet's second layer, 8 images per product).
///
/// The gradient's rows are gathered (through the fused ops, if any) next to the columns, once
/// for all three gradients: the bias gradient is summed from them and the input gradient
/// multiplied from them while they are in cache, with no pass of their own over `dy`. Measured
/// on two cores against separate input and weight passes, alternating in one process, the
/// small CNN's training step went from 46.4-46.7 to 45.8-45.9 ms (medians).
pub fn conv2d_backward(
    grad: &OutputGrad,
    x: &[f32],
    weight: Option<&[f32]>,
    geo: &ConvGeometry,
    bias: bool,
) -> Result<ConvGrads> {
    let (k, plane, go) = (geo.col_rows(), geo.out_plane(), geo.group_out());
    let in_image = geo.in_image().max(1);
    let group_size = geo.group_in() * geo.height * geo.width;
    let per_chunk = geo.batch.div_ceil(WEIGHT_GRAD_CHUNKS).max(1);
    let per_product = (WEIGHT_GRAD_COLUMNS / (k * plane).max(1)).clamp(1, per_chunk);
    let dx_len = if weight.is_some() { x.len() } else { 0 };
    let mut dx: Vec<f32> = Vec::with_capacity(dx_len);
    // One (possibly empty) input-gradient chunk per chunk of images.
    let dx_chunks: Vec<&mut [MaybeUninit<f32>]> = match weight {
        Some(_) => dx.spare_capacity_mut()[..dx_len]
            .chunks_mut(per_chunk * in_image)
            .collect(),
        None => x
            .chunks(per_chunk * in_image)
            .map(|_| <&mut [MaybeUninit<f32>]>::default())
            .collect(),
    };
    let partials = x
        .par_chunks(per_chunk * in_image)
        .zip(dx_chunks)
        .enumerate()
        // The column and row scratch buffers are made once per rayon task, not per chunk:
        // growing a fresh one clears it first, a pass as long as the im2col that overwrites it.
        .map_init(
            || (Vec::new(), Vec::new()),
            |(cols, dy_rows), (chunk, (images, dx_chunk))| {
                let mut dw_t = vec![0f32; k * geo.out_channels];
                let mut db = vec![0f64; if bias { geo.out_channels } else { 0 }];
                for (product, imageb) in images.chunks(per_product * in_image).enumerate() {
                    let first = chunk * per_chunk + product * per_product;
                    let count = imageb.len() / in_image;
                    let pitch = count * plane;
                    // These images' input gradients, cleared here so they are in cache when
                    // the groups add to them (empty without a weight).
                    let dx_images = match dx_chunk.get_mut(product * per_product * in_image..) {
                        Some(rest) if !rest.is_empty() => {
                            fresh::zeroed(&mut rest[..count * in_image])
                        }
                        _ => &mut [],
                    };
                    for g in 0..geo.groups {
                        cols.resize(k * pitch, 0.0);
                        dy_rows.resize(go * pitch, 0.0);
                        for (i, image) in imageb.chunks(in_image).enumerate() {
                            geo.im2col(
                                &image[g * group_size..(g + 1) * group_size],
                                &mut cols[i * plane..],
                                pitch,
                            );
                            for c in 0..go {
                                grad.plane_into(
                                    (first + i) * geo.out_channels + g * go + c,
                                    &mut dy_rows[c * pitch + i * plane..][..plane],
                                );
                            }
                        }
                        for (c, total) in db.iter_mut().skip(g * go).take(go).enumerate() {
                            *total += sum(&dy_rows[c * pitch..(c + 1) * pitch]);
                        }
                        matmul_strided(
                            &mut dw_t[g * k * go..(g + 1) * k * go],
                            (k, go, pitch),
                            cols,
                            (pitch, 1),
                            dy_rows,
                            (1, pitch),
                            true,
                            false,
                        )?;
                        let Some(weight) = weight else { continue };
                        // The columns are spent: the input gradient's products reuse them.
                        for (i, dxi) in dx_images.chunks_mut(in_image).enumerate() {
                            geo.add_input_grad(
                                weight,
                                g,
                                (&dy_rows[i * plane..], pitch),
                                cols,
                                &mut dxi[g * group_size..(g + 1) * group_size],
                            )?;
                        }
                    }
                }
                Ok((dw_t, db))
            },
        )
        .collect::<Result<Vec<_>>>()?;
    // SAFETY: with a weight, every chunk of `dx` was written in full (zeroed, then added to);
    // the loop above returned early on any error.
    unsafe { dx.set_len(dx_len) };
    let (mut total, mut db) = (
        vec![0f32; k * geo.out_channels],
        vec![0f64; geo.out_channels],
    );
    for (partial, partial_db) in partials {
        total.iter_mut().zip(partial).for_each(|(t, p)| *t += p);
        db.iter_mut().zip(partial_db).for_each(|(t, p)| *t += p);
    }
    // Each group's [k, go] block back to the weight's [go, k].
    let mut dw = vec![0f32; total.len()];
    for (dst, src) in dw.chunks_mut(k * go).zip(total.chunks(k * go)) {
        for (r, row) in src.chunks(go).enumerate() {
            for (c, &v) in row.iter().enumerate() {
                dst[c * k + r] = v;
            }
        }
    }
    Ok(ConvGrads {
        input: weight.map(|_| dx),
        weight: dw,
        bias: bias.then(|| db.into_iter().map(|v| v as f32).collect()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(len: usize, seed: u32) -> Vec<f32> {
        (0..len)
            .map(|i| {
                ((i as u32).wrapping_mul(2654435761).wrapping_add(seed) >> 16) as f32 / 65536.0
                    - 0.5
            })
            .collect()
    }

    /// Calls `visit(out_index, in_index, weight_index)` for every product term of the
    /// convolution: output position, input position and weight entry, all flat indices.
    fn for_each_term(g: &ConvGeometry, mut visit: impl FnMut(usize, usize, usize)) {
        let (kh, kw) = g.kernel;
        let (gi, go) = (g.group_in(), g.group_out());
        for n in 0..g.batch {
            for o in 0..g.out_channels {
                for c in 0..gi {
                    let ch = (o / go) * gi + c;
                    for a in 0..kh {
                        for b in 0..kw {
                            for oy in 0..g.out_height {
                                for ox in 0..g.out_width {
                                    let iy = (oy * g.stride.0 + a * g.dilation.0) as isize
                                        - g.padding.0 as isize;
                                    let ix = (ox * g.stride.1 + b * g.dilation.1) as isize
                                        - g.padding.1 as isize;
                                    if iy < 0
                                        || ix < 0
                                        || iy >= g.height as isize
                                        || ix >= g.width as isize
                                    {
                                        continue;
                                    }
                                    visit(
                                        ((n * g.out_channels + o) * g.out_height + oy)
                                            * g.out_width
                                            + ox,
                                        ((n * g.in_channels + ch) * g.height + iy as usize)
                                            * g.width
                                            + ix as usize,
                                        ((o * gi + c) * kh + a) * kw + b,
                                    );
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    fn assert_close(got: &[f32], want: &[f32], tol: f32, what: &str) {
        assert_eq!(got.len(), want.len(), "{what}");
        for (a, e) in got.iter().zip(want) {
            assert!((a - e).abs() < tol * (1.0 + e.abs()), "{what}: {a} vs {e}");
        }
    }

    /// Batches large enough that several images share one weight-gradient product (and a chunk
    /// ends short), with padding, stride, dilation and groups: the weight and input gradients
    /// equal direct sums over the convolution's terms and the bias gradient the channel sums,
    /// whether each comes from its own pass or all from one.
    #[test]
    fn backward_passes_match_direct_sums() {
        let cases = [
            // (batch, c_in, c_out, h, w, kernel, stride, padding, dilation, groups)
            (40, 4, 6, 7, 6, (3, 2), (2, 1), (1, 2), (1, 2), 2),
            (35, 3, 5, 9, 9, (3, 3), (1, 1), (0, 0), (1, 1), 1),
            (33, 2, 4, 5, 5, (1, 1), (1, 1), (0, 0), (1, 1), 1),
        ];
        for (i, &(batch, ci, co, h, w, kernel, stride, padding, dilation, groups)) in
            cases.iter().enumerate()
        {
            let out = |size: usize, k: usize, s: usize, p: usize, d: usize| {
                (size + 2 * p - d * (k - 1) - 1) / s + 1
            };
            let geo = ConvGeometry {
                batch,
                in_channels: ci,
                out_channels: co,
                height: h,
                width: w,
                kernel,
                stride,
                padding,
                dilation,
                groups,
                out_height: out(h, kernel.0, stride.0, padding.0, dilation.0),
                out_width: out(w, kernel.1, stride.1, padding.1, dilation.1),
            };
            let x = values(batch * geo.in_image(), 7 + i as u32);
            let dy = values(batch * geo.out_image(), 11 + i as u32);
            let weight = values(co * geo.col_rows(), 13 + i as u32);
            let (mut want_dw, mut want_dx) = (vec![0f32; weight.len()], vec![0f32; x.len()]);
            for_each_term(&geo, |o, at, wi| {
                want_dw[wi] += dy[o] * x[at];
                want_dx[at] += dy[o] * weight[wi];
            });
            let want_db = OutputGrad::direct(&dy).channel_sums(batch, co, geo.out_plane());
            let (dw, db) =
                conv2d_backward_weight(&OutputGrad::direct(&dy), &x, &geo, true).unwrap();
            assert_close(&dw, &want_dw, 1e-3, &format!("case {i} weight"));
            assert_close(&db.unwrap(), &want_db, 1e-4, &format!("case {i} bias"));
            let dx = conv2d_backward_input(&OutputGrad::direct(&dy), &weight, &geo).unwrap();
            assert_close(&dx, &want_dx, 1e-4, &format!("case {i} input"));
            // The one-pass backward gives the same three gradients.
            let all =
                conv2d_backward(&OutputGrad::direct(&dy), &x, Some(&weight), &geo, true).unwrap();
            assert_eq!(all.weight, dw, "case {i}: one-pass weight gradient");
            assert_close(
                &all.bias.unwrap(),
                &want_db,
                1e-4,
                &format!("case {i} one-pass bias"),
            );
            assert_close(
                &all.input.unwrap(),
                &want_dx,
                1e-4,
                &format!("case {i} one-pass input"),
            );
        }
    }
}
