//! The gradient of PGD against a randomized-smoothing classifier (SmoothAdv, Salman et al. 2019;
//! torchattacks' PGDRS and PGDRSL2). Each sample is seen through `copies` noisy copies of its
//! point clamped to the bounds, and the attack ascends the cross-entropy of the copies' mean
//! softmax, `-log(max(mean_i softmax(f(clamp(x) + n_i)), 1e-20))_y`, or descends that of the
//! target when targeted. The mean is over probabilities, not logits: that is the smoothed
//! classifier's soft vote, which a gradient of the base classifier alone does not see.

use super::batch::Goal;
use crate::nn::Module;
use crate::rng::RngState;
use crate::{Result, Tensor};

/// The distribution of the smoothing noise.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NoiseKind {
    /// `sd * N(0, 1)`.
    Gaussian,
    /// Uniform in `[-sd, sd]`.
    Uniform,
}

/// The noise a smoothed classifier adds, and how many copies estimate its soft vote per step.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct NoiseAverage {
    pub kind: NoiseKind,
    pub sd: f32,
    pub copies: usize,
}

/// The input gradient at `x` `[B, ...]` of the smoothed objective toward `goal`. The noise is
/// drawn from `rng`, `copies` blocks of one sample's size per sample, samples in order.
pub(super) fn smoothed_gradient(
    model: &dyn Module,
    x: &Tensor,
    goal: &Goal,
    noise: NoiseAverage,
    (lo, hi): (f32, f32),
    rng: &mut RngState,
) -> Result<Tensor> {
    let batch = x.shape().first().copied().unwrap_or(0);
    let copies = noise.copies.max(1);
    let leaf = x.detach();
    leaf.set_requires_grad(true)?;
    let repeat: Vec<i64> = (0..batch * copies).map(|i| (i / copies) as i64).collect();
    let repeat = Tensor::from_vec(repeat, &[batch * copies])?.to_device(x.device())?;
    let seen = leaf.clamp(lo, hi)?.index_select(0, &repeat)?;
    let draws = match noise.kind {
        NoiseKind::Gaussian => rng.normal(seen.numel()),
        NoiseKind::Uniform => rng
            .uniform(seen.numel())
            .into_iter()
            .map(|u| 2.0 * u - 1.0)
            .collect(),
    };
    let draws = Tensor::from_vec(draws, seen.shape())?.to_device(x.device())?;
    let logits = model.forward(&seen.add(&draws.mul_scalar(noise.sd)?)?)?;
    crate::ensure_shape!(
        logits.rank() == 2,
        "attack",
        "the model must output [batch, classes] logits, got {:?}",
        logits.shape()
    );
    let classes = logits.shape()[1];
    let vote = logits
        .softmax(1)?
        .reshape(&[batch, copies, classes])?
        .mean(&[1], false)?
        .clamp(1e-20, f32::INFINITY)?
        .log()?;
    let goal_log_vote = vote
        .gather(1, &goal.goal_t.reshape(&[batch, 1])?)?
        .squeeze(Some(1))?;
    let objective = match goal.targeted {
        true => goal_log_vote,
        false => goal_log_vote.neg()?,
    };
    let grad = crate::autograd::grad(&objective.sum(&[0], false)?, std::slice::from_ref(&leaf))?;
    match grad.into_iter().next().flatten() {
        Some(g) => Ok(g),
        None => x.zeros_like(),
    }
}
