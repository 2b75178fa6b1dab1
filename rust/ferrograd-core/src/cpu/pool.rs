//! 2-D pooling over NCHW planes. Every (image, channel) plane is independent, so planes are the
//! unit of parallel work. Windows are given per output row/column as input index ranges.

use rayon::prelude::*;

/// Input rows (or columns) covered by each output position along one axis.
pub type Windows = Vec<std::ops::Range<usize>>;

/// Input ranges covered by a strided, padded kernel at each output position, clipped to the input.
pub fn sliding_windows(
    size: usize,
    out: usize,
    kernel: usize,
    stride: usize,
    pad: usize,
) -> Windows {
    (0..out)
        .map(|o| {
            let start = (o * stride) as isize - pad as isize;
            let end = start + kernel as isize;
            start.max(0) as usize..(end.max(0) as usize).min(size)
        })
        .collect()
}

/// PyTorch's adaptive windows: [floor(i*in/out), ceil((i+1)*in/out)).
pub fn adaptive_windows(size: usize, out: usize) -> Windows {
    (0..out)
        .map(|i| (i * size) / out..((i + 1) * size).div_ceil(out))
        .collect()
}

/// Max pooling; returns values and, per output, the flat in-plane index of the chosen input.
/// With dilation, window positions are `start + k*dil`; the caller passes unclipped starts via
/// `row_start`/`col_start` so the stride lands on real kernel taps.
pub struct MaxPool<'a> {
    pub plane: (usize, usize),
    pub out: (usize, usize),
    pub kernel: (usize, usize),
    pub stride: (usize, usize),
    pub padding: (usize, usize),
    pub dilation: (usize, usize),
    pub input: &'a [f32],
}

impl MaxPool<'_> {
    pub fn forward(&self) -> (Vec<f32>, Vec<u32>) {
        let (h, w) = self.plane;
        let (oh, ow) = self.out;
        let planes = self.input.len() / (h * w).max(1);
        let mut values = vec![0f32; planes * oh * ow];
        let mut argmax = vec![0u32; planes * oh * ow];
        // The valid input rows / columns of each output row / column, computed once, so the
        // per-plane loop is a plain scan (padding never wins a max, so it is simply skipped).
        let rows = kernel_taps(
            h,
            oh,
            self.kernel.0,
            self.stride.0,
            self.padding.0,
            self.dilation.0,
        );
        let cols = kernel_taps(
            w,
            ow,
            self.kernel.1,
            self.stride.1,
            self.padding.1,
            self.dilation.1,
        );
        values
            .par_chunks_mut((oh * ow).max(1))
            .zip(argmax.par_chunks_mut((oh * ow).max(1)))
            .enumerate()
            .for_each(|(pi, (vals, idx))| {
                let x = &self.input[pi * h * w..(pi + 1) * h * w];
                for (oy, ry) in rows.iter().enumerate() {
                    for (ox, rx) in cols.iter().enumerate() {
                        let (mut best, mut at) = (f32::NEG_INFINITY, u32::MAX);
                        'window: for &iy in ry {
                            let line = &x[iy * w..(iy + 1) * w];
                            for &ix in rx {
                                let v = line[ix];
                                // NaN propagates, as in PyTorch.
                                if v > best || at == u32::MAX || v.is_nan() {
                                    best = v;
                                    at = (iy * w + ix) as u32;
                                    if v.is_nan() {
                                        break 'window;
                                    }
                                }
                            }
                        }
                        vals[oy * ow + ox] = best;
                        idx[oy * ow + ox] = at;
                    }
                }
            });
        (values, argmax)
    }
}

/// For each of `out` positions along an axis of `size`, the in-bounds input indices of a kernel
/// of `kernel` taps `dil` apart, starting at `o * stride - pad`.
fn kernel_taps(
    size: usize,
    out: usize,
    kernel: usize,
    stride: usize,
    pad: usize,
    dil: usize,
) -> Vec<Vec<usize>> {
    (0..out)
        .map(|o| {
            (0..kernel)
                .filter_map(|t| {
                    (o * stride + t * dil)
                        .checked_sub(pad)
                        .filter(|&i| i < size)
                })
                .collect()
        })
        .collect()
}

/// Routes each output gradient to the input position that won the max.
pub fn max_pool_backward(grad: &[f32], argmax: &[u32], plane: usize, out_plane: usize) -> Vec<f32> {
    let planes = grad.len() / out_plane.max(1);
    let mut dx = vec![0f32; planes * plane];
    dx.par_chunks_mut(plane.max(1))
        .enumerate()
        .for_each(|(pi, d)| {
            for (g, &i) in grad[pi * out_plane..(pi + 1) * out_plane]
                .iter()
                .zip(&argmax[pi * out_plane..(pi + 1) * out_plane])
            {
                if let Some(slot) = d.get_mut(i as usize) {
                    *slot += g;
                }
            }
        });
    dx
}

/// Average pooling with explicit windows and a divisor per output position.
pub fn avg_pool(
    input: &[f32],
    plane: (usize, usize),
    rows: &Windows,
    cols: &Windows,
    divisor: &[f32],
) -> Vec<f32> {
    let (h, w) = plane;
    let (oh, ow) = (rows.len(), cols.len());
    let planes = input.len() / (h * w).max(1);
    let mut out = vec![0f32; planes * oh * ow];
    out.par_chunks_mut((oh * ow).max(1))
        .enumerate()
        .for_each(|(pi, o)| {
            let x = &input[pi * h * w..(pi + 1) * h * w];
            for (oy, ry) in rows.iter().enumerate() {
                for (ox, rx) in cols.iter().enumerate() {
                    let mut s = 0f32;
                    for iy in ry.clone() {
                        s += x[iy * w + rx.start..iy * w + rx.end].iter().sum::<f32>();
                    }
                    o[oy * ow + ox] = s / divisor[oy * ow + ox];
                }
            }
        });
    out
}

/// Adjoint of [`avg_pool`]: spreads each output gradient over its window.
pub fn avg_pool_backward(
    grad: &[f32],
    plane: (usize, usize),
    rows: &Windows,
    cols: &Windows,
    divisor: &[f32],
) -> Vec<f32> {
    let (h, w) = plane;
    let (oh, ow) = (rows.len(), cols.len());
    let planes = grad.len() / (oh * ow).max(1);
    let mut dx = vec![0f32; planes * h * w];
    dx.par_chunks_mut((h * w).max(1))
        .enumerate()
        .for_each(|(pi, d)| {
            let g = &grad[pi * oh * ow..(pi + 1) * oh * ow];
            for (oy, ry) in rows.iter().enumerate() {
                for (ox, rx) in cols.iter().enumerate() {
                    let share = g[oy * ow + ox] / divisor[oy * ow + ox];
                    for iy in ry.clone() {
                        d[iy * w + rx.start..iy * w + rx.end]
                            .iter_mut()
                            .for_each(|v| *v += share);
                    }
                }
            }
        });
    dx
}
