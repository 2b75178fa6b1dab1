//! JSMA, the Jacobian-based saliency map attack (Papernot et al., 2016): an L0 attack that
//! changes a few input features by a lot. Each iteration takes the Jacobian of the logits (one
//! backward pass per class) and, among pairs of features still free to move, picks the pair
//! `(p, q)` whose combined effect on the target logit `α = a_p + a_q` has the sign of `theta`
//! while its combined effect on the other logits `β = b_p + b_q` has the opposite one, maximising
//! `-α β`; both features move by `theta` (in units of the bounds' width) and leave the search once
//! they reach a bound. It stops when the target class wins, when no pair qualifies, or when
//! `gamma` of the features have changed. The pair search runs on the host, in parallel over
//! samples.

use rayon::prelude::*;

use super::host_view::HostView;
use super::jacobian::logit_jacobian;
use super::objective::predictions;
use super::pgd::{BatchResult, FrozenParameters};
use crate::nn::Module;
use crate::{NoGradGuard, Result, Tensor};

/// A JSMA run.
#[derive(Clone, Debug)]
pub struct JsmaConfig {
    /// The change applied to each chosen feature, relative to the bounds' width (negative values
    /// decrease features).
    pub theta: f32,
    /// The largest fraction of features that may change.
    pub gamma: f32,
    pub bounds: (f32, f32),
}

/// The best pair of free features for one sample, from the target logit's gradient `a` and the
/// summed gradient of the other logits `b`, or None when no pair qualifies.
fn best_pair(a: &[f32], b: &[f32], free: &[bool], increase: bool) -> Option<(usize, usize)> {
    let candidates: Vec<usize> = (0..a.len()).filter(|&i| free[i]).collect();
    let mut best: Option<(f64, usize, usize)> = None;
    for (k, &p) in candidates.iter().enumerate() {
        for &q in &candidates[k + 1..] {
            let alpha = a[p] as f64 + a[q] as f64;
            let beta = b[p] as f64 + b[q] as f64;
            let qualifies = match increase {
                true => alpha > 0.0 && beta < 0.0,
                false => alpha < 0.0 && beta > 0.0,
            };
            let score = -alpha * beta;
            if qualifies && best.is_none_or(|(s, _, _)| score > s) {
                best = Some((score, p, q));
            }
        }
    }
    best.map(|(_, p, q)| (p, q))
}

/// JSMA on one batch toward `targets` (one class per sample). Untargeted, each sample's target is
/// the most likely wrong class at the input, and success means any wrong class.
pub fn jsma_batch(
    model: &dyn Module,
    x: &[f32],
    shape: &[usize],
    labels: &[i64],
    targets: Option<&[i64]>,
    cfg: &JsmaConfig,
) -> Result<BatchResult> {
    let _frozen = FrozenParameters::new(model)?;
    let view = HostView::of(model);
    let batch = labels.len();
    let chosen_targets = targets.is_none();
    let chosen;
    let targets = match targets {
        Some(t) => t,
        None => {
            chosen = runner_up(&view, x, shape, labels)?;
            &chosen[..]
        }
    };
    let dim = x.len() / batch.max(1);
    let (lo, hi) = cfg.bounds;
    let increase = cfg.theta > 0.0;
    let step = cfg.theta * (hi - lo);
    let budget = (cfg.gamma * dim as f32).floor() as usize;
    let mut adv = x.to_vec();
    // Features still free to move in theta's direction.
    let mut free: Vec<bool> = x
        .iter()
        .map(|&v| if increase { v < hi } else { v > lo })
        .collect();
    let mut changed = vec![0usize; batch];
    let mut active = vec![true; batch];
    let mut pred = vec![0i64; batch];
    loop {
        let leaf = Tensor::from_vec(adv.clone(), shape)?;
        leaf.set_requires_grad(true)?;
        let logits = view.forward(&leaf)?;
        pred = predictions(&logits)?;
        let classes = logits.shape()[1];
        for n in 0..batch {
            active[n] &= pred[n] != targets[n] && changed[n] + 2 <= budget;
        }
        if !active.iter().any(|&a| a) {
            break;
        }
        let jacobian = logit_jacobian(&logits, &leaf)?
            .iter()
            .map(|g| g.contiguous()?.to_vec::<f32>())
            .collect::<Result<Vec<_>>>()?;
        let _guard = NoGradGuard::new();
        let choices: Vec<Option<(usize, usize)>> = (0..batch)
            .into_par_iter()
            .map(|n| {
                if !active[n] {
                    return None;
                }
                let rows = n * dim..(n + 1) * dim;
                let t = targets[n] as usize;
                let a = &jacobian[t][rows.clone()];
                let b: Vec<f32> = (0..dim)
                    .map(|i| {
                        (0..classes)
                            .filter(|&k| k != t)
                            .map(|k| jacobian[k][n * dim + i])
                            .sum()
                    })
                    .collect();
                best_pair(a, &b, &free[rows], increase)
            })
            .collect();
        for (n, choice) in choices.into_iter().enumerate() {
            let Some((p, q)) = choice else {
                active[n] = false;
                continue;
            };
            for i in [n * dim + p, n * dim + q] {
                if adv[i] == x[i] {
                    changed[n] += 1;
                }
                adv[i] = (adv[i] + step).clamp(lo, hi);
                free[i] = if increase { adv[i] < hi } else { adv[i] > lo };
            }
        }
    }
    let reached = |n: usize| match chosen_targets {
        true => pred[n] != labels[n],
        false => pred[n] == targets[n],
    };
    Ok(BatchResult {
        adversarial: adv,
        success: (0..batch).map(reached).collect(),
        predictions: pred,
    })
}

/// Per sample, the class with the highest logit other than the label.
fn runner_up(model: &HostView, x: &[f32], shape: &[usize], labels: &[i64]) -> Result<Vec<i64>> {
    let _guard = NoGradGuard::new();
    let logits = model
        .forward(&Tensor::from_vec(x.to_vec(), shape)?)?
        .contiguous()?;
    let classes = logits.shape()[1];
    let values = logits.to_vec::<f32>()?;
    Ok(values
        .chunks(classes)
        .zip(labels)
        .map(|(row, &y)| {
            (0..classes)
                .filter(|&k| k as i64 != y)
                .max_by(|&a, &b| row[a].total_cmp(&row[b]))
                .unwrap_or(0) as i64
        })
        .collect())
}
