//! Square attack (Andriushchenko et al., 2020), L∞: a score-based black-box attack that only
//! reads the model's outputs. It starts from vertical stripes of ±ε, then repeatedly proposes
//! replacing a random square window (one ±ε sign per channel) and keeps the proposal when it
//! lowers the margin `z_y - max_{j != y} z_j`. The window's area shrinks on a fixed schedule of
//! the query budget. Samples stop as soon as they are misclassified.

use super::objective::predictions;
use super::pgd::BatchResult;
use crate::nn::Module;
use crate::rng::RngState;
use crate::{Error, NoGradGuard, Result, Tensor};

/// A Square run.
#[derive(Clone, Debug)]
pub struct SquareConfig {
    pub eps: f32,
    pub queries: usize,
    /// Fraction of the image the first windows cover.
    pub p_init: f32,
    pub bounds: (f32, f32),
}

/// The fraction of pixels a window covers at query `i` of `n` (the paper's piecewise schedule,
/// written for 10,000 queries and rescaled to the budget).
fn window_fraction(p_init: f32, i: usize, n: usize) -> f32 {
    let t = (i as f64 / n.max(1) as f64 * 10_000.0) as usize;
    let halvings = match t {
        0..=10 => 0,
        11..=50 => 1,
        51..=200 => 2,
        201..=500 => 3,
        501..=1000 => 4,
        1001..=2000 => 5,
        2001..=4000 => 6,
        4001..=6000 => 7,
        6001..=8000 => 8,
        _ => 9,
    };
    p_init / (1u32 << halvings) as f32
}

/// Margins `z_y - max_{j != y} z_j` (negative when misclassified) and predictions of a batch.
fn margins(
    model: &dyn Module,
    x: &[f32],
    shape: &[usize],
    labels: &[i64],
) -> Result<(Vec<f32>, Vec<i64>)> {
    let logits = model
        .forward(&Tensor::from_vec(x.to_vec(), shape)?)?
        .contiguous()?;
    let classes = logits.shape().get(1).copied().unwrap_or(0);
    let values = logits.to_vec::<f32>()?;
    let m = values
        .chunks(classes.max(1))
        .zip(labels)
        .map(|(row, &y)| {
            let own = row[y as usize];
            let other = row
                .iter()
                .enumerate()
                .filter(|&(j, _)| j as i64 != y)
                .fold(f32::NEG_INFINITY, |m, (_, &v)| m.max(v));
            own - other
        })
        .collect();
    Ok((m, predictions(&logits)?))
}

/// Square on one batch of images `[B, C, H, W]` with true `labels` (untargeted).
pub fn square_batch(
    model: &dyn Module,
    x: &[f32],
    shape: &[usize],
    labels: &[i64],
    cfg: &SquareConfig,
    rng: &mut RngState,
) -> Result<BatchResult> {
    let &[batch, channels, h, w] = shape else {
        return Err(Error::shape(
            "Square",
            format!("expected images [N, C, H, W], got {shape:?}"),
        ));
    };
    let _guard = NoGradGuard::new();
    let (lo, hi) = cfg.bounds;
    let (dim, plane) = (channels * h * w, h * w);
    let clip = |v: f32, orig: f32| v.clamp(orig - cfg.eps, orig + cfg.eps).clamp(lo, hi);
    // Vertical stripes: one random sign per (sample, channel, column).
    let signs = rng.uniform(batch * channels * w);
    let mut adv = x.to_vec();
    for (i, v) in adv.iter_mut().enumerate() {
        let (n, rest) = (i / dim, i % dim);
        let (c, col) = (rest / plane, rest % w);
        let s = if signs[(n * channels + c) * w + col] < 0.5 {
            -1.0
        } else {
            1.0
        };
        *v = clip(x[i] + s * cfg.eps, x[i]);
    }
    let (mut margin, mut pred) = margins(model, &adv, shape, labels)?;
    for q in 0..cfg.queries {
        let active: Vec<usize> = (0..batch).filter(|&n| margin[n] > 0.0).collect();
        if active.is_empty() {
            break;
        }
        let side = ((window_fraction(cfg.p_init, q, cfg.queries) * plane as f32)
            .sqrt()
            .round() as usize)
            .clamp(1, h.min(w));
        let draws = rng.uniform(active.len() * (2 + channels));
        // Only the samples still classified correctly are proposed and queried.
        let mut proposal = Vec::with_capacity(active.len() * dim);
        for (k, &n) in active.iter().enumerate() {
            let d = &draws[k * (2 + channels)..(k + 1) * (2 + channels)];
            let top = ((d[0] * (h - side + 1) as f32) as usize).min(h - side);
            let left = ((d[1] * (w - side + 1) as f32) as usize).min(w - side);
            let mut sample = adv[n * dim..(n + 1) * dim].to_vec();
            let orig = &x[n * dim..(n + 1) * dim];
            for c in 0..channels {
                let s = if d[2 + c] < 0.5 { -1.0 } else { 1.0 };
                for r in top..top + side {
                    for col in left..left + side {
                        let i = c * plane + r * w + col;
                        sample[i] = clip(orig[i] + s * cfg.eps, orig[i]);
                    }
                }
            }
            proposal.extend_from_slice(&sample);
        }
        let active_labels: Vec<i64> = active.iter().map(|&n| labels[n]).collect();
        let mut active_shape = shape.to_vec();
        active_shape[0] = active.len();
        let (m_new, p_new) = margins(model, &proposal, &active_shape, &active_labels)?;
        for (k, &n) in active.iter().enumerate() {
            if m_new[k] < margin[n] {
                margin[n] = m_new[k];
                pred[n] = p_new[k];
                adv[n * dim..(n + 1) * dim].copy_from_slice(&proposal[k * dim..(k + 1) * dim]);
            }
        }
    }
    Ok(BatchResult {
        adversarial: adv,
        success: pred.iter().zip(labels).map(|(p, y)| p != y).collect(),
        predictions: pred,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_shrink_on_the_papers_schedule() {
        assert_eq!(window_fraction(0.8, 0, 1000), 0.8);
        assert_eq!(window_fraction(0.8, 3, 1000), 0.4);
        assert_eq!(window_fraction(0.8, 100, 1000), 0.8 / 16.0);
        assert_eq!(window_fraction(0.8, 999, 1000), 0.8 / 512.0);
    }
}
