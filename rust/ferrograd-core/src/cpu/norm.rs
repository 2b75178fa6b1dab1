//! Normalisation kernels. Batch norm works on [N, C, S] (S = spatial size) per channel; layer
//! norm on contiguous rows. Statistics accumulate in f64 so long reductions stay accurate; the
//! backward passes use the closed forms
//!   dx = (1/M) * gamma * inv_std * (M*dy - sum(dy) - xhat * sum(dy*xhat))
//! with M the count of the normalised group.

use rayon::prelude::*;

/// Per-channel mean and biased variance of x viewed as [n, c, s].
pub fn channel_stats(x: &[f32], n: usize, c: usize, s: usize) -> (Vec<f32>, Vec<f32>) {
    (0..c)
        .into_par_iter()
        .map(|ch| {
            let (mut sum, mut sq) = (0f64, 0f64);
            for i in 0..n {
                for &v in &x[(i * c + ch) * s..(i * c + ch + 1) * s] {
                    sum += v as f64;
                    sq += (v as f64) * (v as f64);
                }
            }
            let m = (n * s).max(1) as f64;
            let mean = sum / m;
            ((mean) as f32, (sq / m - mean * mean).max(0.0) as f32)
        })
        .unzip()
}

/// y = x * scale[c] + shift[c] over [n, c, s] (the normalisation folded into one multiply-add).
pub fn channel_affine(x: &[f32], c: usize, s: usize, scale: &[f32], shift: &[f32]) -> Vec<f32> {
    let mut y = vec![0f32; x.len()];
    y.par_chunks_mut(s.max(1))
        .zip(x.par_chunks(s.max(1)))
        .enumerate()
        .for_each(|(row, (yo, xi))| {
            let ch = row % c;
            for (o, &v) in yo.iter_mut().zip(xi) {
                *o = v * scale[ch] + shift[ch];
            }
        });
    y
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
            for i in 0..n {
                let r = (i * c + ch) * s..(i * c + ch + 1) * s;
                for (&g, &v) in dy[r.clone()].iter().zip(&x[r]) {
                    sdy += g as f64;
                    sdyx += (g as f64) * ((v - mean[ch]) * inv_std[ch]) as f64;
                }
            }
            (sdy as f32, sdyx as f32)
        })
        .unzip()
}

/// Mean and 1/sqrt(var + eps) of each row of length `d`.
pub fn row_stats(x: &[f32], d: usize, eps: f32) -> (Vec<f32>, Vec<f32>) {
    x.par_chunks(d.max(1))
        .map(|r| {
            let mean = r.iter().map(|&v| v as f64).sum::<f64>() / d.max(1) as f64;
            let var = r.iter().map(|&v| (v as f64 - mean).powi(2)).sum::<f64>() / d.max(1) as f64;
            (mean as f32, 1.0 / ((var as f32) + eps).sqrt())
        })
        .unzip()
}

/// Layer-norm forward over rows: ((x - mean) * inv_std) * gamma + beta.
pub fn layer_norm_rows(
    x: &[f32],
    d: usize,
    mean: &[f32],
    inv_std: &[f32],
    gamma: Option<&[f32]>,
    beta: Option<&[f32]>,
) -> Vec<f32> {
    let mut y = vec![0f32; x.len()];
    y.par_chunks_mut(d.max(1))
        .zip(x.par_chunks(d.max(1)))
        .enumerate()
        .for_each(|(r, (yo, xi))| {
            for (j, (o, &v)) in yo.iter_mut().zip(xi).enumerate() {
                let xhat = (v - mean[r]) * inv_std[r];
                *o = xhat * gamma.map_or(1.0, |g| g[j]) + beta.map_or(0.0, |b| b[j]);
            }
        });
    y
}

/// Layer-norm input gradient over rows.
pub fn layer_norm_backward_rows(
    dy: &[f32],
    x: &[f32],
    d: usize,
    mean: &[f32],
    inv_std: &[f32],
    gamma: Option<&[f32]>,
) -> Vec<f32> {
    let mut dx = vec![0f32; x.len()];
    dx.par_chunks_mut(d.max(1))
        .enumerate()
        .for_each(|(r, out)| {
            let (xi, gi) = (&x[r * d..(r + 1) * d], &dy[r * d..(r + 1) * d]);
            let (mut s1, mut s2) = (0f32, 0f32);
            for j in 0..d {
                let g = gi[j] * gamma.map_or(1.0, |w| w[j]);
                s1 += g;
                s2 += g * (xi[j] - mean[r]) * inv_std[r];
            }
            let m = d as f32;
            for j in 0..d {
                let g = gi[j] * gamma.map_or(1.0, |w| w[j]);
                let xhat = (xi[j] - mean[r]) * inv_std[r];
                out[j] = inv_std[r] / m * (m * g - s1 - xhat * s2);
            }
        });
    dx
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
) -> Vec<f32> {
    let mut dx = vec![0f32; x.len()];
    dx.par_chunks_mut(s.max(1))
        .enumerate()
        .for_each(|(row, out)| {
            let ch = row % c;
            let (xi, gi) = (&x[row * s..(row + 1) * s], &dy[row * s..(row + 1) * s]);
            for ((o, &v), &g) in out.iter_mut().zip(xi).zip(gi) {
                let xhat = (v - mean[ch]) * inv_std[ch];
                *o = scale[ch] * (g - mean_dy[ch] - xhat * mean_dyx[ch]);
            }
        });
    dx
}
