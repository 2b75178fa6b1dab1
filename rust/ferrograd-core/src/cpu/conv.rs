//! 2-D convolution on the host as im2col + GEMM, one image per rayon task (the GEMM inside runs
//! single-threaded, so threads are not oversubscribed). A 1x1 / stride 1 / no padding kernel reads
//! the input directly as the column matrix. Backward recomputes the columns instead of keeping
//! them from the forward pass: they are k*k times the input's size.

use rayon::prelude::*;

use super::gemm::matmul_strided;
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
    fn out_plane(&self) -> usize {
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

    /// Input row/column of output position `o` for kernel offset `k` along one axis (None: padding).
    #[inline]
    fn source(
        o: usize,
        k: usize,
        stride: usize,
        pad: usize,
        dil: usize,
        size: usize,
    ) -> Option<usize> {
        (o * stride + k * dil)
            .checked_sub(pad)
            .filter(|&i| i < size)
    }

    /// Output columns `lo..hi` whose input column `ox * stride + kx * dil - pad` lies inside the
    /// row, computed once per (kernel column) so the inner loops need no bounds tests.
    #[inline]
    fn valid_columns(&self, kx: usize) -> (usize, usize) {
        let (s, shift) = (self.stride.1, kx * self.dilation.1);
        let lo = self.padding.1.saturating_sub(shift).div_ceil(s);
        // Largest ox with ox * s + shift - pad <= width - 1.
        let hi = if self.width + self.padding.1 > shift {
            ((self.width + self.padding.1 - shift - 1) / s + 1).min(self.out_width)
        } else {
            0
        };
        (lo.min(hi), hi)
    }

    /// Fills `cols` [col_rows, out_plane] with the patches of one group of one image.
    fn im2col(&self, image: &[f32], cols: &mut [f32]) {
        let (kh, kw) = self.kernel;
        let (ow, plane, s) = (self.out_width, self.out_plane(), self.stride.1);
        for c in 0..self.group_in() {
            let channel = &image[c * self.height * self.width..(c + 1) * self.height * self.width];
            for ky in 0..kh {
                for kx in 0..kw {
                    let (lo, hi) = self.valid_columns(kx);
                    let row = &mut cols[((c * kh + ky) * kw + kx) * plane..][..plane];
                    for oy in 0..self.out_height {
                        let dst = &mut row[oy * ow..(oy + 1) * ow];
                        let Some(iy) = Self::source(
                            oy,
                            ky,
                            self.stride.0,
                            self.padding.0,
                            self.dilation.0,
                            self.height,
                        ) else {
                            dst.fill(0.0);
                            continue;
                        };
                        dst[..lo].fill(0.0);
                        dst[hi..].fill(0.0);
                        if lo < hi {
                            let first = lo * s + kx * self.dilation.1 - self.padding.1;
                            let src = &channel[iy * self.width + first..];
                            if s == 1 {
                                copy_short(&mut dst[lo..hi], &src[..hi - lo]);
                            } else {
                                for (d, v) in dst[lo..hi].iter_mut().zip(src.iter().step_by(s)) {
                                    *d = *v;
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// Adds the column matrix `cols` of one group back into the image gradient (im2col's adjoint).
    fn col2im(&self, cols: &[f32], image: &mut [f32]) {
        let (kh, kw) = self.kernel;
        let (ow, plane, s) = (self.out_width, self.out_plane(), self.stride.1);
        for c in 0..self.group_in() {
            let channel =
                &mut image[c * self.height * self.width..(c + 1) * self.height * self.width];
            for ky in 0..kh {
                for kx in 0..kw {
                    let (lo, hi) = self.valid_columns(kx);
                    if lo >= hi {
                        continue;
                    }
                    let first = lo * s + kx * self.dilation.1 - self.padding.1;
                    let row = &cols[((c * kh + ky) * kw + kx) * plane..][..plane];
                    for oy in 0..self.out_height {
                        let Some(iy) = Self::source(
                            oy,
                            ky,
                            self.stride.0,
                            self.padding.0,
                            self.dilation.0,
                            self.height,
                        ) else {
                            continue;
                        };
                        let dst = &mut channel[iy * self.width + first..];
                        let src = &row[oy * ow + lo..oy * ow + hi];
                        if s == 1 {
                            // Unit stride: a plain slice add, which vectorises (step_by does not).
                            for (d, v) in dst[..src.len()].iter_mut().zip(src) {
                                *d += v;
                            }
                        } else {
                            for (d, v) in dst.iter_mut().step_by(s).zip(src) {
                                *d += v;
                            }
                        }
                    }
                }
            }
        }
    }

    /// The column matrix of group `g` of `image`: borrowed for pointwise kernels, built otherwise.
    fn columns<'a>(&self, image: &'a [f32], g: usize, scratch: &'a mut Vec<f32>) -> &'a [f32] {
        let group = &image[g * self.group_in() * self.height * self.width..]
            [..self.group_in() * self.height * self.width];
        if self.is_pointwise() {
            return group;
        }
        scratch.resize(self.col_rows() * self.out_plane(), 0.0);
        self.im2col(group, scratch);
        scratch
    }
}

/// Copies `src` into `dst` (same length). Column rows are output rows, often a few dozen
/// elements: a `memcpy` call per row costs more than the copy, so short rows are moved in
/// fixed-width pieces the compiler keeps inline.
#[inline]
fn copy_short(dst: &mut [f32], src: &[f32]) {
    const PIECE: usize = 8;
    if dst.len() > 16 * PIECE {
        dst.copy_from_slice(src);
        return;
    }
    let mut pieces = dst.chunks_exact_mut(PIECE);
    let mut from = src.chunks_exact(PIECE);
    for (d, s) in (&mut pieces).zip(&mut from) {
        // A constant length: an inline move, not a call.
        d[..PIECE].copy_from_slice(&s[..PIECE]);
    }
    for (d, s) in pieces.into_remainder().iter_mut().zip(from.remainder()) {
        *d = *s;
    }
}

/// Forward: `out[n] = W @ cols(x[n]) (+ bias)` per group.
pub fn conv2d_forward(
    x: &[f32],
    weight: &[f32],
    bias: Option<&[f32]>,
    geo: &ConvGeometry,
) -> Result<Vec<f32>> {
    let mut out = vec![0f32; geo.batch * geo.out_image()];
    let (k, plane, go) = (geo.col_rows(), geo.out_plane(), geo.group_out());
    let single = geo.batch == 1;
    out.par_chunks_mut(geo.out_image().max(1))
        .zip(x.par_chunks(geo.in_image().max(1)))
        .try_for_each_init(Vec::new, |scratch, (o, image)| {
            for g in 0..geo.groups {
                let cols = geo.columns(image, g, scratch);
                let w = &weight[g * go * k..(g + 1) * go * k];
                matmul_strided(
                    &mut o[g * go * plane..(g + 1) * go * plane],
                    (go, plane, k),
                    w,
                    (k, 1),
                    cols,
                    (plane, 1),
                    false,
                    single,
                )?;
            }
            if let Some(b) = bias {
                for (c, chunk) in o.chunks_mut(plane.max(1)).enumerate() {
                    chunk.iter_mut().for_each(|v| *v += b[c]);
                }
            }
            Ok(())
        })?;
    Ok(out)
}

/// Gradient with respect to the input: `col2im(W^T @ dy[n])` per group.
pub fn conv2d_backward_input(dy: &[f32], weight: &[f32], geo: &ConvGeometry) -> Result<Vec<f32>> {
    let mut dx = vec![0f32; geo.batch * geo.in_image()];
    let (k, plane, go) = (geo.col_rows(), geo.out_plane(), geo.group_out());
    let group_size = geo.group_in() * geo.height * geo.width;
    let single = geo.batch == 1;
    dx.par_chunks_mut(geo.in_image().max(1))
        .zip(dy.par_chunks(geo.out_image().max(1)))
        .try_for_each_init(Vec::new, |cols, (dxi, dyi)| {
            for g in 0..geo.groups {
                let w = &weight[g * go * k..(g + 1) * go * k];
                let dyg = &dyi[g * go * plane..(g + 1) * go * plane];
                let target = &mut dxi[g * group_size..(g + 1) * group_size];
                if geo.is_pointwise() {
                    // The column matrix is the input itself, so W^T @ dy lands directly in dx.
                    matmul_strided(
                        target,
                        (k, plane, go),
                        w,
                        (1, k),
                        dyg,
                        (plane, 1),
                        false,
                        single,
                    )?;
                    continue;
                }
                cols.resize(k * plane, 0.0);
                matmul_strided(
                    cols,
                    (k, plane, go),
                    w,
                    (1, k),
                    dyg,
                    (plane, 1),
                    false,
                    single,
                )?;
                geo.col2im(cols, target);
            }
            Ok(())
        })?;
    Ok(dx)
}

/// Images per partial sum of the weight gradient: the batch is cut into at most this many chunks.
const WEIGHT_GRAD_CHUNKS: usize = 16;

/// Gradient with respect to the weight: `sum_n dy[n] @ cols(x[n])^T`.
///
/// The batch is cut into chunks whose size depends only on the batch size (never on the thread
/// count or on work stealing); each chunk sums into its own partial in parallel and the partials
/// are added in chunk order. The result is therefore bitwise the same on every run, which keeps
/// same-seed training of convolutional models reproducible.
pub fn conv2d_backward_weight(dy: &[f32], x: &[f32], geo: &ConvGeometry) -> Result<Vec<f32>> {
    let (k, plane, go) = (geo.col_rows(), geo.out_plane(), geo.group_out());
    let size = geo.out_channels * k;
    let (out_image, in_image) = (geo.out_image().max(1), geo.in_image().max(1));
    let per_chunk = (dy.len() / out_image).div_ceil(WEIGHT_GRAD_CHUNKS).max(1);
    let partials = dy
        .par_chunks(per_chunk * out_image)
        .zip(x.par_chunks(per_chunk * in_image))
        .map(|(dys, images)| {
            let (mut dw, mut scratch) = (vec![0f32; size], Vec::new());
            for (dyi, image) in dys.chunks(out_image).zip(images.chunks(in_image)) {
                for g in 0..geo.groups {
                    let cols = geo.columns(image, g, &mut scratch);
                    let dyg = &dyi[g * go * plane..(g + 1) * go * plane];
                    matmul_strided(
                        &mut dw[g * go * k..(g + 1) * go * k],
                        (go, k, plane),
                        dyg,
                        (plane, 1),
                        cols,
                        (1, plane),
                        true,
                        false,
                    )?;
                }
            }
            Ok(dw)
        })
        .collect::<Result<Vec<_>>>()?;
    let mut chunks = partials.into_iter();
    let mut total = chunks.next().unwrap_or_else(|| vec![0f32; size]);
    for partial in chunks {
        total.iter_mut().zip(partial).for_each(|(t, p)| *t += p);
    }
    Ok(total)
}
