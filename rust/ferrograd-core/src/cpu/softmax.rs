//! Row-wise softmax kernels over the last axis of a contiguous buffer, one pass per row after the
//! max: subtracting the row maximum keeps exp's argument non-positive, so nothing overflows.

use rayon::prelude::*;

use super::fresh::zeros;
use super::PAR_THRESHOLD;

/// Softmax (`log` false) or log-softmax (`log` true) of each row of length `n`.
pub fn softmax_rows(x: &[f32], n: usize, log: bool) -> Vec<f32> {
    let mut out = zeros(x.len());
    if n == 0 {
        return out;
    }
    let row = |(o, r): (&mut [f32], &[f32])| {
        let max = r.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        // A row of -inf (fully masked) gives NaN, as in PyTorch; a finite shift avoids inf - inf.
        let shift = if max.is_finite() { max } else { 0.0 };
        let mut sum = 0f32;
        for (oi, &v) in o.iter_mut().zip(r) {
            let e = (v - shift).exp();
            *oi = e;
            sum += e;
        }
        if log {
            let lse = sum.ln();
            for (oi, &v) in o.iter_mut().zip(r) {
                *oi = v - shift - lse;
            }
        } else {
            let inv = 1.0 / sum;
            for oi in o.iter_mut() {
                *oi *= inv;
            }
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
            *oi = gi - yi.exp() * total;
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
