//! Normalisation kernels. Batch norm works on [N, C, S] (S = spatial size) per channel; layer
//! norm on contiguous rows. The backward passes use the closed forms
//!   dx = (1/M) * gamma * inv_std * (M*dy - sum(dy) - xhat * sum(dy*xhat))
//! with M the count of the normalised group.
//!
//! Sums run in f32 lanes over blocks of at most `SUM_BLOCK` elements (so they vectorise) and
//! add the block sums in f64, so long reductions keep f64-like accuracy. Variances take two
//! passes (mean, then squared deviations), which stays accurate when |mean| >> std, where
//! `E[x^2] - mean^2` cancels.

use std::ops::Range;

use rayon::prelude::*;

use super::fresh::{par_chunks_zeroed, par_chunks_zeroed_with};
use crate::Result;

/// Elements per f32 partial sum.
const SUM_BLOCK: usize = 1024;
/// Independent f32 accumulators per partial sum (two SSE or one AVX register).
const LANES: usize = 8;
/// Row blocks of the layer-norm parameter gradients: a fixed count, so the order of the
/// additions (and the result) does not depend on the thread count.
const ROW_BLOCKS: usize = 16;

/// The two sums over i of `f(a[i], b[i])`, in f32 lanes per block and f64 across blocks.
#[inline(always)]
pub(crate) fn blocked_sums(a: &[f32], b: &[f32], f: impl Fn(f32, f32) -> (f32, f32)) -> (f64, f64) {
    let (mut total0, mut total1) = (0f64, 0f64);
    for (ba, bb) in a.chunks(SUM_BLOCK).zip(b.chunks(SUM_BLOCK)) {
        let (mut lanes0, mut lanes1) = ([0f32; LANES], [0f32; LANES]);
        let (mut pa, mut pb) = (ba.chunks_exact(LANES), bb.chunks_exact(LANES));
        for (ca, cb) in (&mut pa).zip(&mut pb) {
            for j in 0..LANES {
                let (u, v) = f(ca[j], cb[j]);
                lanes0[j] += u;
                lanes1[j] += v;
            }
        }
        for (&x, &y) in pa.remainder().iter().zip(pb.remainder()) {
            let (u, v) = f(x, y);
            lanes0[0] += u;
            lanes1[0] += v;
        }
        total0 += lanes0.iter().sum::<f32>() as f64;
        total1 += lanes1.iter().sum::<f32>() as f64;
    }
    (total0, total1)
}

/// Sum of `x`.
pub(crate) fn sum(x: &[f32]) -> f64 {
    blocked_sums(x, x, |v, _| (v, 0.0)).0
}

/// Sum of `(x - mean)^2`.
fn squared_deviations(x: &[f32], mean: f32) -> f64 {
    blocked_sums(x, x, |v, _| ((v - mean) * (v - mean), 0.0)).0
}

/// Per-channel mean and biased variance of x viewed as [n, c, s].
pub fn channel_stats(x: &[f32], n: usize, c: usize, s: usize) -> (Vec<f32>, Vec<f32>) {
    let count = (n * s).max(1) as f64;
    (0..c)
        .into_par_iter()
        .map(|ch| {
            let row = |i: usize| &x[(i * c + ch) * s..(i * c + ch + 1) * s];
            let mean = ((0..n).map(|i| sum(row(i))).sum::<f64>() / count) as f32;
            let var = (0..n)
                .map(|i| squared_deviations(row(i), mean))
                .sum::<f64>()
                / count;
            (mean, var as f32)
        })
        .unzip()
}

/// y = x * scale[c] + shift[c] over [n, c, s] (the normalisation folded into one multiply-add).
pub fn channel_affine(
    x: &[f32],
    c: usize,
    s: usize,
    scale: &[f32],
    shift: &[f32],
) -> Result<Vec<f32>> {
    channel_rows(x.len(), c, s, |ch, r, out| {
        let (a, b) = (scale[ch], shift[ch]);
        for (o, &v) in out.iter_mut().zip(&x[r]) {
            *o = v * a + b;
        }
    })
}

/// A new [n, c, s] buffer made in parallel, one image per task: `row(channel, range, out)` fills
/// `out`, the row of `channel` at positions `range`.
fn channel_rows(
    len: usize,
    c: usize,
    s: usize,
    row: impl Fn(usize, Range<usize>, &mut [f32]) + Sync + Send,
) -> Result<Vec<f32>> {
    par_chunks_zeroed(
        len,
        c * s,
        || (),
        |_, i, out| {
            for (ch, o) in out.chunks_mut(s.max(1)).enumerate() {
                let at = (i * c + ch) * s;
                row(ch, at..at + o.len(), o);
            }
            Ok(())
        },
    )
}

/// Per-channel sum(dy) and sum(dy * xhat), xhat = (x - mean) * inv_std.
pub fn channel_grad_sums(
    dy: &[f32],
    x: &[f32],
    n: usize,
    c: usize,
    s: usize,
    mean: &[f32],
    inv_std: &[f32],
) -> (Vec<f32>, Vec<f32>) {
    (0..c)
        .into_par_iter()
        .map(|ch| {
            let (mut sdy, mut sdyx) = (0f64, 0f64);
            let m = mean[ch];
            for i in 0..n {
                let r = (i * c + ch) * s..(i * c + ch + 1) * s;
                let (a, b) = blocked_sums(&dy[r.clone()], &x[r], |g, v| (g, g * (v - m)));
                sdy += a;
                sdyx += b;
            }
            (sdy as f32, (sdyx * inv_std[ch] as f64) as f32)
        })
        .unzip()
}

/// Batch-norm input gradient in training mode over [n, c, s]:
/// dx = scale[c] * (dy - mean_dy[c] - xhat * mean_dyx[c]).
#[allow(clippy::too_many_arguments)]
pub fn channel_backward(
    dy: &[f32],
    x: &[f32],
    c: usize,
    s: usize,
    scale: &[f32],
    mean: &[f32],
    inv_std: &[f32],
    mean_dy: &[f32],
    mean_dyx: &[f32],
) -> Result<Vec<f32>> {
    channel_rows(x.len(), c, s, |ch, r, out| {
        // dx = a * dy + b * x + k, the per-channel constants folded out of the loop.
        let a = scale[ch];
        let b = -a * inv_std[ch] * mean_dyx[ch];
        let k = -a * mean_dy[ch] - b * mean[ch];
        for ((o, &v), &g) in out.iter_mut().zip(&x[r.clone()]).zip(&dy[r]) {
            *o = a * g + b * v + k;
        }
    })
}

/// Layer-norm forward over rows of length `d`: ((x - mean) * inv_std) * gamma + beta, with each
/// row's statistics taken right before its output, while the row is in cache. Returns the output
/// and each row's mean and 1/sqrt(var + eps).
pub fn layer_norm_rows(
    x: &[f32],
    d: usize,
    eps: f32,
    gamma: Option<&[f32]>,
    beta: Option<&[f32]>,
) -> Result<(Vec<f32>, Vec<f32>, Vec<f32>)> {
    let count = d.max(1) as f64;
    let (y, stats) = par_chunks_zeroed_with(
        x.len(),
        d,
        || (),
        |_, r, out| {
            let xi = &x[r * d..][..out.len()];
            let m = (sum(xi) / count) as f32;
            let k = 1.0 / ((squared_deviations(xi, m) / count) as f32 + eps).sqrt();
            match (gamma, beta) {
                (Some(g), Some(b)) => {
                    for (((o, &v), &g), &b) in out.iter_mut().zip(xi).zip(g).zip(b) {
                        *o = (v - m) * k * g + b;
                    }
                }
                _ => {
                    for (j, (o, &v)) in out.iter_mut().zip(xi).enumerate() {
                        *o = (v - m) * k * gamma.map_or(1.0, |g| g[j]) + beta.map_or(0.0, |b| b[j]);
                    }
                }
            }
            Ok((m, k))
        },
    )?;
    let (mean, inv_std) = stats.into_iter().unzip();
    Ok((y, mean, inv_std))
}

/// Layer-norm gradients over rows: the input gradient, and the sums over rows of `dy * xhat`
/// (gamma's gradient) and of `dy` (beta's), in one pass. Rows go in `ROW_BLOCKS` fixed blocks,
/// each with its own partial sums, added in block order.
pub fn layer_norm_backward_rows(
    dy: &[f32],
    x: &[f32],
    d: usize,
    mean: &[f32],
    inv_std: &[f32],
    gamma: Option<&[f32]>,
) -> Result<(Vec<f32>, Vec<f32>, Vec<f32>)> {
    let d = d.max(1);
    let rows = x.len() / d;
    let per_block = rows.div_ceil(ROW_BLOCKS).max(1);
    let ones = vec![1f32; d];
    let gamma = gamma.unwrap_or(&ones);
    let (dx, partials) = par_chunks_zeroed_with(
        x.len(),
        per_block * d,
        || (),
        |_, block, out| {
            let (mut dgamma, mut dbeta) = (vec![0f32; d], vec![0f32; d]);
            for (i, o) in out.chunks_mut(d).enumerate() {
                let r = block * per_block + i;
                let (xi, gi) = (&x[r * d..(r + 1) * d], &dy[r * d..(r + 1) * d]);
                let (m, k) = (mean[r], inv_std[r]);
                // sum(dy * gamma) and sum(dy * gamma * xhat) in lanes, so the loop vectorises.
                let (mut s1, mut s2) = ([0f32; LANES], [0f32; LANES]);
                let mut step = |lane: usize, v: f32, g: f32, w: f32, dg: &mut f32, db: &mut f32| {
                    let xhat = (v - m) * k;
                    *dg += g * xhat;
                    *db += g;
                    s1[lane] += g * w;
                    s2[lane] += g * w * xhat;
                };
                let whole = d - d % LANES;
                let pieces = xi[..whole].chunks_exact(LANES).zip(gi.chunks_exact(LANES));
                let params = gamma
                    .chunks_exact(LANES)
                    .zip(dgamma.chunks_exact_mut(LANES));
                for (((xc, gc), (wc, dgc)), dbc) in
                    pieces.zip(params).zip(dbeta.chunks_exact_mut(LANES))
                {
                    for l in 0..LANES {
                        step(l, xc[l], gc[l], wc[l], &mut dgc[l], &mut dbc[l]);
                    }
                }
                for j in whole..d {
                    let (dg, db) = (&mut dgamma[j], &mut dbeta[j]);
                    step(0, xi[j], gi[j], gamma[j], dg, db);
                }
                let (s1, s2): (f32, f32) = (s1.iter().sum(), s2.iter().sum());
                let scale = k / d as f32;
                for (((o, &v), &g), &w) in o.iter_mut().zip(xi).zip(gi).zip(gamma) {
                    *o = scale * (d as f32 * g * w - s1 - (v - m) * k * s2);
                }
            }
            Ok((dgamma, dbeta))
        },
    )?;
    let (mut dgamma, mut dbeta) = (vec![0f32; d], vec![0f32; d]);
    for (pg, pb) in partials {
        dgamma.iter_mut().zip(pg).for_each(|(t, p)| *t += p);
        dbeta.iter_mut().zip(pb).for_each(|(t, p)| *t += p);
    }
    Ok((dx, dgamma, dbeta))
}
