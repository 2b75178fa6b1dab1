//! What the gradient attacks share for one batch: the goal tensors, each restart's random
//! stream, and the per-sample best result over iterates and restarts (on the model's device).

use super::pgd::BatchResult;
use crate::rng::RngState;
use crate::{DType, Device, Error, NoGradGuard, Result, Tensor};

/// The batch's sizes and what the attack aims at.
pub(super) struct Goal {
    pub batch: usize,
    /// Values per sample.
    pub dim: usize,
    pub targeted: bool,
    /// True labels (untargeted) or targets, and the true labels, on the device where the attack
    /// evaluates its objective.
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
            goal_t: Tensor::from_vec(goal, &[batch])?.to_device(device)?,
            labels_t: Tensor::from_vec(labels.to_vec(), &[batch])?.to_device(device)?,
        })
    }
}

/// `[N, C, H, W]` of a batch of images with shape `shape`, or an error naming `attack` (the
/// attacks that work on pixels or smooth per channel take images only).
pub(super) fn image_shape(attack: &'static str, shape: &[usize]) -> Result<[usize; 4]> {
    match *shape {
        [n, c, h, w] => Ok([n, c, h, w]),
        _ => Err(Error::shape(
            attack,
            format!("expected images [N, C, H, W], got {shape:?}"),
        )),
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
/// with the higher objective. It lives on the device of the points offered (predictions and
/// success as f32 values there), so offering waits for nothing; `result` copies it to the host.
pub(super) struct Best {
    adversarial: Tensor,
    /// 1 where the sample's best point meets the goal, else 0.
    success: Tensor,
    /// The class predicted at the best point.
    predictions: Tensor,
    objective: Tensor,
    /// The goal classes as f32, for comparing with the predictions.
    goal: Tensor,
    targeted: bool,
}

impl Best {
    /// Starts from the clean inputs `x` (on the model's device), with nothing achieved.
    pub fn new(x: &Tensor, goal: &Goal) -> Result<Best> {
        let (batch, device) = (goal.batch, x.device());
        Ok(Best {
            adversarial: x.detach(),
            success: Tensor::zeros(&[batch], DType::F32, device)?,
            predictions: Tensor::zeros(&[batch], DType::F32, device)?,
            objective: Tensor::full(&[batch], f64::NEG_INFINITY, DType::F32, device)?,
            goal: goal.goal_t.to_dtype(DType::F32)?,
            targeted: goal.targeted,
        })
    }

    /// Offers the points `p` with objectives `f` `[B]` and the model's `logits` there.
    pub fn offer(&mut self, p: &Tensor, f: &Tensor, logits: &Tensor) -> Result<()> {
        let _guard = NoGradGuard::new();
        let pred = logits.argmax(1, false)?.to_dtype(DType::F32)?;
        let hit = pred.eq(&self.goal)?.to_dtype(DType::F32)?;
        let ok = match self.targeted {
            true => hit,
            false => hit.affine(-1.0, 1.0)?,
        };
        // (ok and not yet successful) or (ok as successful as before and a higher objective).
        let newly = ok.mul(&self.success.affine(-1.0, 1.0)?)?;
        let higher = f.gt(&self.objective)?.to_dtype(DType::F32)?;
        let level = ok.eq(&self.success)?.to_dtype(DType::F32)?.mul(&higher)?;
        let replace = newly.maximum(&level)?.gt_scalar(0.5)?;
        self.objective = replace.where_cond(f, &self.objective)?;
        self.success = replace.where_cond(&ok, &self.success)?;
        self.predictions = replace.where_cond(&pred, &self.predictions)?;
        let rows = per_sample(&replace, p.rank())?;
        self.adversarial = rows.where_cond(&p.detach(), &self.adversarial)?;
        Ok(())
    }

    /// The best points, their success and predictions, on the host.
    pub fn result(&self) -> Result<BatchResult> {
        let host = |t: &Tensor| t.to_device(Device::Cpu)?.to_vec::<f32>();
        Ok(BatchResult {
            adversarial: host(&self.adversarial)?,
            success: host(&self.success)?.iter().map(|&v| v > 0.5).collect(),
            predictions: host(&self.predictions)?.iter().map(|&v| v as i64).collect(),
        })
    }
}

/// `values` `[B]` as `[B, 1, ...]` of `rank` axes, to broadcast over each sample's elements.
pub(super) fn per_sample(values: &Tensor, rank: usize) -> Result<Tensor> {
    let mut shape = vec![1; rank.max(1)];
    shape[0] = values.numel();
    values.reshape(&shape)
}
