//! Row-wise softmax kernels over the last axis of a contiguous buffer, one pass per row after the
//! max: subtracting the row maximum keeps exp's argument non-positive, so nothing overflows.

use rayon::prelude::*;

use super::fresh::zeros;
use super::norm::sum;
use super::special::exp;
use super::PAR_THRESHOLD;

/// Lanes of the running maximum (so the search vectorises).
const LANES: usize = 8;

/// The largest value of `row` (NaNs are skipped; they reach the output through exp).
#[inline(always)]
fn row_max(row: &[f32]) -> f32 {
    let mut lanes = [f32::NEG_INFINITY; LANES];
    let mut chunks = row.chunks_exact(LANES);
    for c in &mut chunks {
        for j in 0..LANES {
            lanes[j] = lanes[j].max(c[j]);
        }
    }
    let tail = chunks.remainder().iter().copied();
    lanes
        .into_iter()
        .chain(tail)
        .fold(f32::NEG_INFINITY, f32::max)
}

/// The shift subtracted before exp: the row maximum, or 0 for a row of -inf (fully masked),
/// which then gives NaN as in PyTorch instead of inf - inf.
#[inline(always)]
fn shift_of(row: &[f32]) -> f32 {
    let max = row_max(row);
    if max.is_finite() {
        max
    } else {
        0.0
    }
}

super::simd::wide_fn! {
    /// Softmax of one row, in place.
    pub fn softmax_in_place(row: &mut [f32]) {
        let shift = shift_of(row);
        for v in row.iter_mut() {
            *v = exp(*v - shift);
        }
        let inv = 1.0 / sum(row) as f32;
        for v in row.iter_mut() {
            *v *= inv;
        }
    }
}

super::simd::wide_fn! {
    /// Log-softmax of row `x` into `out`.
    fn log_softmax_row(out: &mut [f32], x: &[f32]) {
        let shift = shift_of(x);
        for (o, &v) in out.iter_mut().zip(x) {
            *o = exp(v - shift);
        }
        let lse = (sum(out) as f32).ln();
        for (o, &v) in out.iter_mut().zip(x) {
            *o = v - shift - lse;
        }
    }
}

/// Softmax (`log` false) or log-softmax (`log` true) of each row of length `n`.
pub fn softmax_rows(x: &[f32], n: usize, log: bool) -> Vec<f32> {
    let mut out = zeros(x.len());
    if n == 0 {
        return out;
    }
    let row = |(o, r): (&mut [f32], &[f32])| {
        if log {
            log_softmax_row(o, r);
        } else {
            o.copy_from_slice(r);
            softmax_in_place(o);
        }
    };
    if x.len() >= PAR_THRESHOLD {
        out.par_chunks_mut(n).zip(x.par_chunks(n)).for_each(row);
    } else {
        out.chunks_mut(n).zip(x.chunks(n)).for_each(row);
    }
    out
}

/// Gradient of softmax rows: `y * (g - sum(g * y))`.
pub fn softmax_backward_rows(y: &[f32], g: &[f32], n: usize) -> Vec<f32> {
    map_row_pairs(y, g, n, |o, yr, gr| {
        let dot: f32 = yr.iter().zip(gr).map(|(a, b)| a * b).sum();
        for ((oi, &yi), &gi) in o.iter_mut().zip(yr).zip(gr) {
            *oi = yi * (gi - dot);
        }
    })
}

/// Gradient of log-softmax rows: `g - exp(y) * sum(g)`.
pub fn log_softmax_backward_rows(y: &[f32], g: &[f32], n: usize) -> Vec<f32> {
    map_row_pairs(y, g, n, |o, yr, gr| {
        let total: f32 = gr.iter().sum();
        for ((oi, &yi), &gi) in o.iter_mut().zip(yr).zip(gr) {
            *oi = gi - exp(yi) * total;
        }
    })
}

/// Runs `f(out_row, a_row, b_row)` over rows of length `n`, in parallel for large buffers.
fn map_row_pairs(
    a: &[f32],
    b: &[f32],
    n: usize,
    f: impl Fn(&mut [f32], &[f32], &[f32]) + Sync,
) -> Vec<f32> {
    let mut out = zeros(a.len());
    if n == 0 {
        return out;
    }
    if a.len() >= PAR_THRESHOLD {
        out.par_chunks_mut(n)
            .zip(a.par_chunks(n).zip(b.par_chunks(n)))
            .for_each(|(o, (x, y))| f(o, x, y));
    } else {
        out.chunks_mut(n)
            .zip(a.chunks(n).zip(b.chunks(n)))
            .for_each(|(o, (x, y))| f(o, x, y));
    }
    out
}
