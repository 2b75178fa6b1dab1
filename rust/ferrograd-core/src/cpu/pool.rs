//! 2-D pooling over NCHW planes. Every (image, channel) plane is independent, so planes are the
//! unit of parallel work. Windows are given per output row/column as input index ranges.

use rayon::prelude::*;

use super::fresh::{self, par_chunks_zeroed};
use crate::Result;

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

/// For each of `size` inputs, the outputs whose windows hold it. Windows start and end in order
/// (sliding and adaptive ones alike), so those outputs are one range (empty for an input no
/// window reaches).
pub fn covering(windows: &Windows, size: usize) -> Windows {
    (0..size)
        .map(|i| {
            let first = windows.partition_point(|w| w.end <= i);
            let end = windows.partition_point(|w| w.start <= i);
            first..end.max(first)
        })
        .collect()
}

/// Max pooling of planes of `plane` size to `out` size; per output it also gives the flat
/// in-plane index of the chosen input. With dilation, window positions are `start + k*dil`.
#[derive(Clone, Copy, Debug)]
pub struct MaxPool {
    pub plane: (usize, usize),
    pub out: (usize, usize),
    pub kernel: (usize, usize),
    pub stride: (usize, usize),
    pub padding: (usize, usize),
    pub dilation: (usize, usize),
}

/// How a `MaxPool` scans one plane, chosen once per call (see `MaxPool::plan`).
enum Scan {
    /// 2x2 windows, stride 2, inside the plane, on a CPU with AVX-512: `pool_row_2x2`.
    #[cfg(target_arch = "x86_64")]
    TwoByTwo,
    /// No padding or dilation, every window inside the plane: `dense_plane` from the windows'
    /// first taps.
    Dense { corners: Vec<u32> },
    /// Anything else: the valid input rows and columns of each output row and column.
    General {
        rows: Vec<Vec<usize>>,
        cols: Vec<Vec<usize>>,
    },
}

/// A `MaxPool` with its scan chosen, applied one plane at a time: by `MaxPool::forward` over
/// all planes, and by fused ops on planes they have just computed.
pub struct MaxPoolPlan {
    pool: MaxPool,
    scan: Scan,
}

/// Buffers one thread reuses across planes (the dense scan's).
#[derive(Default)]
pub struct PoolScratch {
    taps: Vec<f32>,
    best: Vec<f32>,
    best_at: Vec<u32>,
}

impl MaxPool {
    /// Values and winning positions of every plane of `input`, planes in parallel.
    pub fn forward(&self, input: &[f32]) -> (Vec<f32>, Vec<u32>) {
        let (h, w) = self.plane;
        let out_plane = (self.out.0 * self.out.1).max(1);
        let planes = input.len() / (h * w).max(1);
        let mut values = fresh::zeros::<f32>(planes * out_plane);
        let mut argmax = fresh::zeros::<u32>(planes * out_plane);
        let plan = self.plan();
        input
            .par_chunks((h * w).max(1))
            .zip(
                values
                    .par_chunks_mut(out_plane)
                    .zip(argmax.par_chunks_mut(out_plane)),
            )
            .for_each_init(PoolScratch::default, |scratch, (x, (vals, idx))| {
                plan.plane(x, vals, idx, scratch)
            });
        (values, argmax)
    }

    /// The scan for this pool's geometry on the running CPU.
    pub fn plan(&self) -> MaxPoolPlan {
        let (h, w) = self.plane;
        let (oh, ow) = self.out;
        // ceil_mode can add a last window that runs past the edge: those take the general path.
        let inside = oh == 0
            || ow == 0
            || ((oh - 1) * self.stride.0 + self.kernel.0 <= h
                && (ow - 1) * self.stride.1 + self.kernel.1 <= w);
        let plain = self.padding == (0, 0) && self.dilation == (1, 1) && inside;
        #[cfg(target_arch = "x86_64")]
        if plain
            && self.kernel == (2, 2)
            && self.stride == (2, 2)
            && std::is_x86_feature_detected!("avx512f")
        {
            return MaxPoolPlan {
                pool: *self,
                scan: Scan::TwoByTwo,
            };
        }
        let scan = if plain {
            Scan::Dense {
                corners: self.corners(),
            }
        } else {
            // The valid input rows / columns of each output row / column, computed once, so the
            // per-plane loop is a plain scan (padding never wins a max, so it is simply skipped).
            Scan::General {
                rows: kernel_taps(
                    h,
                    oh,
                    self.kernel.0,
                    self.stride.0,
                    self.padding.0,
                    self.dilation.0,
                ),
                cols: kernel_taps(
                    w,
                    ow,
                    self.kernel.1,
                    self.stride.1,
                    self.padding.1,
                    self.dilation.1,
                ),
            }
        };
        MaxPoolPlan { pool: *self, scan }
    }
}

impl MaxPoolPlan {
    /// Pools one input plane `x` into its output values and winning positions.
    pub fn plane(&self, x: &[f32], vals: &mut [f32], idx: &mut [u32], scratch: &mut PoolScratch) {
        match &self.scan {
            #[cfg(target_arch = "x86_64")]
            Scan::TwoByTwo => self.pool.plane_2x2(x, vals, idx),
            Scan::Dense { corners } => self.pool.dense_plane(x, corners, vals, idx, scratch),
            Scan::General { rows, cols } => {
                general_plane(self.pool.plane.1, rows, cols, x, vals, idx)
            }
        }
    }
}

/// One plane through windows given as valid input rows and columns per output row and column.
fn general_plane(
    w: usize,
    rows: &[Vec<usize>],
    cols: &[Vec<usize>],
    x: &[f32],
    vals: &mut [f32],
    idx: &mut [u32],
) {
    let ow = cols.len();
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
}

impl MaxPool {
    /// One plane of a pool without padding or dilation: every window lies inside the plane, so
    /// window `o` starts at `corners[o]` and its taps are fixed offsets from there. The plane is
    /// scanned one tap at a time over all windows: the tap's values are copied to a contiguous
    /// buffer, then a compare-and-select pass writes the running maximum and its position into
    /// fresh buffers. Writing every element (rather than only the winners, in place) keeps the
    /// pass a vector select: on real data the winner is unpredictable, and a branch per element
    /// costs more than the scan. NaN wins the first time it is seen, as in the general path.
    fn dense_plane(
        &self,
        x: &[f32],
        corners: &[u32],
        vals: &mut [f32],
        idx: &mut [u32],
        s: &mut PoolScratch,
    ) {
        let w = self.plane.1;
        let (kh, kw) = self.kernel;
        let n = vals.len();
        for ((val, at), &c) in vals.iter_mut().zip(idx.iter_mut()).zip(corners) {
            *val = x[c as usize];
            *at = c;
        }
        s.taps.resize(n, 0.0);
        s.best.resize(n, 0.0);
        s.best_at.resize(n, 0);
        for tap in 1..kh * kw {
            let shift = ((tap / kw) * w + tap % kw) as u32;
            for (t, &c) in s.taps.iter_mut().zip(corners) {
                *t = x[(c + shift) as usize];
            }
            keep_larger(
                &s.taps,
                vals,
                idx,
                &mut s.best,
                &mut s.best_at,
                corners,
                shift,
            );
            vals.copy_from_slice(&s.best);
            idx.copy_from_slice(&s.best_at);
        }
    }

    /// Flat in-plane position of each window's first tap (pools without padding or dilation).
    fn corners(&self) -> Vec<u32> {
        let w = self.plane.1;
        let (oh, ow) = self.out;
        let (sy, sx) = self.stride;
        (0..oh)
            .flat_map(|oy| (0..ow).map(move |ox| (oy * sy * w + ox * sx) as u32))
            .collect()
    }
}

super::simd::wide_fn! {
    /// `best = max(vals, taps)` elementwise, with the winner's position (`corner + shift` for a
    /// tap), for slices of one length. Bitwise `|` and `&` leave no short-circuit to branch on,
    /// and the writes to separate buffers are unconditional, so with AVX2 the loop is a vector
    /// compare and blend.
    fn keep_larger(
        taps: &[f32],
        vals: &[f32],
        at: &[u32],
        best: &mut [f32],
        best_at: &mut [u32],
        corners: &[u32],
        shift: u32,
    ) {
        let n = taps.len();
        let (vals, at, corners) = (&vals[..n], &at[..n], &corners[..n]);
        let (best, best_at) = (&mut best[..n], &mut best_at[..n]);
        for i in 0..n {
            let (v, b) = (taps[i], vals[i]);
            let wins = (v > b) | (v.is_nan() & !b.is_nan());
            best[i] = if wins { v } else { b };
            best_at[i] = if wins { corners[i] + shift } else { at[i] };
        }
    }
}

impl MaxPool {
    /// One plane of a 2x2, stride-2 pool without padding (the common case, worth its own
    /// loop), one output row at a time; only planned on CPUs with AVX-512.
    #[cfg(target_arch = "x86_64")]
    fn plane_2x2(&self, plane: &[f32], vals: &mut [f32], idx: &mut [u32]) {
        let w = self.plane.1;
        let ow = self.out.1.max(1);
        for (oy, (vals, idx)) in vals.chunks_mut(ow).zip(idx.chunks_mut(ow)).enumerate() {
            let top = &plane[2 * oy * w..];
            let rows = (&top[..2 * ow], &top[w..w + 2 * ow]);
            // SAFETY: `plan` chooses this scan only when the running CPU has AVX-512F.
            unsafe { pool_row_2x2(rows, (2 * oy * w) as u32, w as u32, vals, idx) };
        }
    }
}

/// One output row of a 2x2, stride-2 max pool, sixteen outputs per step (the last step masked):
/// `top` and `bottom` are the two input rows (two entries per output), `base` the in-plane
/// index of `top`'s first element, `w` the plane width. The strided taps are split from two
/// 16-float loads per row by one two-source permute each (even and odd lanes). The taps are
/// taken in the general path's order with its rule (the first maximum wins ties, the first NaN
/// wins), so both pick the same positions.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
fn pool_row_2x2(
    (top, bottom): (&[f32], &[f32]),
    base: u32,
    w: u32,
    vals: &mut [f32],
    idx: &mut [u32],
) {
    use std::arch::x86_64::*;
    let n = vals
        .len()
        .min(idx.len())
        .min(top.len() / 2)
        .min(bottom.len() / 2);
    let even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    let odd = _mm512_add_epi32(even, _mm512_set1_epi32(1));
    let lanes = |count: usize| ((1u32 << count.min(16)) - 1) as __mmask16;
    for o in (0..n).step_by(16) {
        let count = (n - o).min(16);
        let (low, high) = (lanes(2 * count), lanes((2 * count).saturating_sub(16)));
        // SAFETY: the masks cover outputs o..o+count, which exist in `vals` and `idx`, and
        // inputs 2o..2(o+count), which exist in both rows (`n` is bounded by all four lengths);
        // masked-off lanes are neither read nor written.
        unsafe {
            let load = |row: &[f32]| {
                let at = row.as_ptr().add(2 * o);
                (
                    _mm512_maskz_loadu_ps(low, at),
                    _mm512_maskz_loadu_ps(high, at.add(16)),
                )
            };
            let ((t0, t1), (b0, b1)) = (load(top), load(bottom));
            let first = _mm512_add_epi32(_mm512_set1_epi32((base + 2 * o as u32) as i32), even);
            let (mut best, mut best_at) = (_mm512_permutex2var_ps(t0, even, t1), first);
            for (v, shift) in [
                (_mm512_permutex2var_ps(t0, odd, t1), 1),
                (_mm512_permutex2var_ps(b0, even, b1), w),
                (_mm512_permutex2var_ps(b0, odd, b1), w + 1),
            ] {
                let larger = _mm512_cmp_ps_mask::<_CMP_GT_OQ>(v, best);
                let first_nan = _mm512_cmp_ps_mask::<_CMP_UNORD_Q>(v, v)
                    & !_mm512_cmp_ps_mask::<_CMP_UNORD_Q>(best, best);
                let wins = larger | first_nan;
                best = _mm512_mask_blend_ps(wins, best, v);
                let at = _mm512_add_epi32(first, _mm512_set1_epi32(shift as i32));
                best_at = _mm512_mask_blend_epi32(wins, best_at, at);
            }
            let out = lanes(count);
            _mm512_mask_storeu_ps(vals.as_mut_ptr().add(o), out, best);
            _mm512_mask_storeu_epi32(idx.as_mut_ptr().add(o) as *mut i32, out, best_at);
        }
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
pub fn max_pool_backward(
    grad: &[f32],
    argmax: &[u32],
    plane: usize,
    out_plane: usize,
) -> Result<Vec<f32>> {
    let planes = grad.len() / out_plane.max(1);
    par_chunks_zeroed(
        planes * plane,
        plane,
        || (),
        |_, pi, d| {
            for (g, &i) in grad[pi * out_plane..(pi + 1) * out_plane]
                .iter()
                .zip(&argmax[pi * out_plane..(pi + 1) * out_plane])
            {
                if let Some(slot) = d.get_mut(i as usize) {
                    *slot += g;
                }
            }
            Ok(())
        },
    )
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
    let mut out = fresh::zeros::<f32>(planes * oh * ow);
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
) -> Result<Vec<f32>> {
    let (h, w) = plane;
    let (oh, ow) = (rows.len(), cols.len());
    let planes = grad.len() / (oh * ow).max(1);
    par_chunks_zeroed(
        planes * h * w,
        h * w,
        || (),
        |_, pi, d| {
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
            Ok(())
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `covering` against its definition: the outputs whose windows hold each input, for sliding
    /// windows (padding, ceil mode's extra window, strides past the kernel) and adaptive ones.
    #[test]
    fn covering_lists_the_outputs_whose_windows_hold_each_input() {
        let mut cases = vec![
            (sliding_windows(7, 4, 3, 2, 1), 7),
            (sliding_windows(6, 2, 2, 4, 0), 6),
            (sliding_windows(5, 3, 2, 2, 0), 5),
            (sliding_windows(4, 5, 1, 1, 0), 4),
        ];
        for (size, out) in [(7, 3), (5, 5), (3, 7), (10, 4)] {
            cases.push((adaptive_windows(size, out), size));
        }
        for (windows, size) in cases {
            let got = covering(&windows, size);
            for (i, range) in got.iter().enumerate() {
                let want: Vec<usize> = (0..windows.len())
                    .filter(|&o| windows[o].contains(&i))
                    .collect();
                assert_eq!(
                    range.clone().collect::<Vec<_>>(),
                    want,
                    "{windows:?} input {i}"
                );
            }
        }
    }

    fn pool(
        input: &[f32],
        plane: (usize, usize),
        kernel: usize,
        stride: usize,
    ) -> (Vec<f32>, Vec<u32>) {
        let out = |size: usize| (size - kernel) / stride + 1;
        MaxPool {
            plane,
            out: (out(plane.0), out(plane.1)),
            kernel: (kernel, kernel),
            stride: (stride, stride),
            padding: (0, 0),
            dilation: (1, 1),
        }
        .forward(input)
    }

    /// Reference: each window scanned in order, the first maximum (or the first NaN) winning.
    fn reference(
        input: &[f32],
        (h, w): (usize, usize),
        kernel: usize,
        stride: usize,
    ) -> (Vec<f32>, Vec<u32>) {
        let (oh, ow) = ((h - kernel) / stride + 1, (w - kernel) / stride + 1);
        let mut vals = Vec::new();
        let mut idx = Vec::new();
        for plane in input.chunks(h * w) {
            for oy in 0..oh {
                for ox in 0..ow {
                    let mut best: Option<(f32, u32)> = None;
                    for ky in 0..kernel {
                        for kx in 0..kernel {
                            let at = (oy * stride + ky) * w + ox * stride + kx;
                            let v = plane[at];
                            best = match best {
                                Some((b, _)) if b.is_nan() => best,
                                Some((b, _)) if v <= b => best,
                                _ => Some((v, at as u32)),
                            };
                        }
                    }
                    let (v, at) = best.unwrap();
                    vals.push(v);
                    idx.push(at);
                }
            }
        }
        (vals, idx)
    }

    /// The dense (no padding, no dilation) paths give the reference values and positions,
    /// including ties (first wins) and NaN (first NaN wins), for overlapping and strided windows.
    /// The 37-wide planes give 2x2 pools rows of 18 outputs: one 16-wide vector step and a tail.
    #[test]
    fn dense_windows_match_the_reference_scan() {
        for (h, w) in [(9, 11), (6, 37)] {
            let mut input: Vec<f32> = (0..3 * h * w).map(|i| ((i * 37) % 13) as f32).collect();
            for at in [5, 40, 41, w + 20, 2 * w + 3] {
                input[at] = f32::NAN;
            }
            for (kernel, stride) in [(2, 2), (3, 1), (3, 2), (1, 1)] {
                let (vals, idx) = pool(&input, (h, w), kernel, stride);
                let (want_vals, want_idx) = reference(&input, (h, w), kernel, stride);
                assert_eq!(
                    idx, want_idx,
                    "plane {h}x{w} kernel {kernel} stride {stride}"
                );
                for (v, r) in vals.iter().zip(&want_vals) {
                    assert!(v == r || (v.is_nan() && r.is_nan()));
                }
            }
        }
    }
}
