//! What the gradient attacks share for one batch: the goal tensors, each restart's random
//! stream, and the per-sample best result over iterates and restarts.

use super::pgd::{succeeded, BatchResult, Norm};
use crate::rng::RngState;
use crate::{Device, Result, Tensor};

/// The batch's sizes and what the attack aims at.
pub(super) struct Goal {
    pub batch: usize,
    /// Values per sample.
    pub dim: usize,
    pub targeted: bool,
    /// True labels (untargeted) or targets, as a list and a tensor; the true labels as a tensor.
    /// The tensors live on the device where the attack evaluates its objective.
    pub goal: Vec<i64>,
    pub goal_t: Tensor,
    pub labels_t: Tensor,
}

impl Goal {
    pub fn new(
        x: &[f32],
        shape: &[usize],
        labels: &[i64],
        targets: Option<&[i64]>,
        device: Device,
    ) -> Result<Goal> {
        let batch = shape.first().copied().unwrap_or(0);
        let goal = targets.unwrap_or(labels).to_vec();
        Ok(Goal {
            batch,
            dim: x.len() / batch.max(1),
            targeted: targets.is_some(),
            goal_t: Tensor::from_vec(goal.clone(), &[batch])?.to_device(device)?,
            labels_t: Tensor::from_vec(labels.to_vec(), &[batch])?.to_device(device)?,
            goal,
        })
    }
}

/// Restart `r` reads its own Philox key at the batch's offset, so the first restarts are the same
/// whatever the number of restarts (and restart 0 reads `base` itself).
pub(super) fn restart_stream(base: &RngState, r: u64) -> RngState {
    RngState {
        seed: base
            .seed
            .wrapping_add(r.wrapping_mul(0x9E37_79B9_7F4A_7C15)),
        offset: base.offset,
    }
}

/// Per sample, the best point offered so far: a successful one over a failed one, then the one
/// with the higher objective.
pub(super) struct Best {
    pub result: BatchResult,
    objective: Vec<f32>,
    dim: usize,
}

impl Best {
    /// Starts from the clean inputs, with nothing achieved.
    pub fn new(x: &[f32], goal: &Goal) -> Best {
        Best {
            result: BatchResult {
                adversarial: x.to_vec(),
                success: vec![false; goal.batch],
                predictions: vec![0; goal.batch],
            },
            objective: vec![f32::NEG_INFINITY; goal.batch],
            dim: goal.dim,
        }
    }

    /// Offers the points `p` with objectives `f` and predictions `pred`.
    pub fn offer(&mut self, p: &[f32], f: &[f32], pred: &[i64], goal: &Goal) {
        let dim = self.dim;
        let out = &mut self.result;
        for (i, ok) in succeeded(pred, &goal.goal, goal.targeted)
            .into_iter()
            .enumerate()
        {
            if (ok && !out.success[i]) || (ok == out.success[i] && f[i] > self.objective[i]) {
                out.adversarial[i * dim..(i + 1) * dim].copy_from_slice(&p[i * dim..(i + 1) * dim]);
                out.success[i] = ok;
                out.predictions[i] = pred[i];
                self.objective[i] = f[i];
            }
        }
    }
}

/// Projects `adv` (samples of `dim` values) onto the `norm` ball of radius `eps` around `x`, then
/// clamps it into `bounds`.
pub(super) fn project_onto_ball(
    adv: &mut [f32],
    x: &[f32],
    eps: f32,
    norm: Norm,
    (lo, hi): (f32, f32),
    dim: usize,
) {
    match norm {
        Norm::Linf => {
            for (a, &v) in adv.iter_mut().zip(x) {
                *a = (v + (*a - v).clamp(-eps, eps)).clamp(lo, hi);
            }
        }
        Norm::L2 => {
            for (a, v) in adv.chunks_mut(dim.max(1)).zip(x.chunks(dim.max(1))) {
                let norm = a
                    .iter()
                    .zip(v)
                    .map(|(a, v)| (a - v) * (a - v))
                    .sum::<f32>()
                    .sqrt();
                let scale = if norm > eps { eps / norm } else { 1.0 };
                for (a, &v) in a.iter_mut().zip(v) {
                    *a = (v + (*a - v) * scale).clamp(lo, hi);
                }
            }
        }
    }
}

/// The steepest-ascent step of unit size for gradient `g` (samples of `dim` values): its sign
/// under L∞ (with sign(0) = 0, as torch.sign), its L2-normalised value under L2.
pub(super) fn ascent_direction(g: &[f32], norm: Norm, dim: usize) -> Vec<f32> {
    match norm {
        Norm::Linf => g
            .iter()
            .map(|&v| {
                if v > 0.0 {
                    1.0
                } else if v < 0.0 {
                    -1.0
                } else {
                    0.0
                }
            })
            .collect(),
        Norm::L2 => g
            .chunks(dim.max(1))
            .flat_map(|s| {
                let n = s.iter().map(|v| v * v).sum::<f32>().sqrt().max(1e-12);
                s.iter().map(move |v| v / n)
            })
            .collect(),
    }
}
