//! The objective of the Jitter attack (Schwinn et al. 2021, "Exploring misclassifications of
//! robust neural networks to enhance adversarial attacks"; torchattacks' Jitter). It ascends the
//! squared distance between the label's one-hot vector and a jittered, temperature-scaled softmax,
//! `mean_c (softmax(scale * z / ||z||∞) + std * N(0, I) - onehot(y))²` (descends that toward the
//! target when targeted). Samples the model already misclassifies have it divided by the
//! perturbation's size `||x' - x||∞`, so their steps also shrink the perturbation. Both L∞ norms
//! are differentiated as PyTorch's vector norm is: ties share the gradient equally.

use super::batch::Goal;
use crate::nn::Module;
use crate::rng::RngState;
use crate::{DType, Result, Tensor};

/// Jitter's softmax temperature and the scale of the noise added to its output.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct JitterLoss {
    pub scale: f32,
    pub std: f32,
}

/// The L∞ norm of `t` over all axes but the first, `[B]`, whose gradient reaches every entry of
/// largest magnitude in equal shares (`max_dim` would give it to the first one only).
fn linf_norm(t: &Tensor) -> Result<Tensor> {
    let batch = t.shape().first().copied().unwrap_or(0);
    let magnitude = t.reshape(&[batch, t.numel() / batch.max(1)])?.abs()?;
    let largest = magnitude.detach().max_dim(1, true)?;
    let at_max = magnitude.detach().ge(&largest)?.to_dtype(DType::F32)?;
    let shared = magnitude
        .mul(&at_max)?
        .sum(&[1], true)?
        .div(&at_max.sum(&[1], true)?)?;
    // The value is exactly the maximum; `shared - shared` (zero) carries the gradient.
    largest
        .add(&shared.sub(&shared.detach())?)?
        .squeeze(Some(1))
}

/// The input gradient at `adv` `[B, ...]` of Jitter's objective toward `goal`, for clean inputs
/// `x`. The noise is drawn from `rng`, one `[B, classes]` block per call.
pub(super) fn jitter_gradient(
    model: &dyn Module,
    adv: &Tensor,
    x: &Tensor,
    goal: &Goal,
    loss: JitterLoss,
    rng: &mut RngState,
) -> Result<Tensor> {
    let leaf = adv.detach();
    leaf.set_requires_grad(true)?;
    let logits = model.forward(&leaf)?;
    crate::ensure_shape!(
        logits.rank() == 2,
        "attack",
        "the model must output [batch, classes] logits, got {:?}",
        logits.shape()
    );
    let (batch, classes) = (logits.shape()[0], logits.shape()[1]);
    let logit_norm = linf_norm(&logits)?.reshape(&[batch, 1])?;
    let mut jittered = logits
        .mul_scalar(loss.scale)?
        .div(&logit_norm)?
        .softmax(1)?;
    if loss.std != 0.0 {
        let noise = Tensor::from_vec(rng.normal(batch * classes), &[batch, classes])?;
        jittered = jittered.add(&noise.to_device(x.device())?.mul_scalar(loss.std)?)?;
    }
    let distance = jittered
        .sub(&goal.goal_t.one_hot(classes)?.to_dtype(DType::F32)?)?
        .square()?
        .mean(&[1], false)?;
    let objective = match goal.targeted {
        true => distance.neg()?,
        false => distance,
    };
    // Misclassified samples (against the true label, in either mode) with a nonzero perturbation
    // divide their objective by its size; compared on the model's device, with no read-back.
    let wrong = logits
        .detach()
        .argmax(1, false)?
        .ne(&goal.labels_t.to_device(logits.device())?)?
        .to_dtype(DType::F32)?;
    let size = linf_norm(&leaf.sub(x)?)?;
    let divides = wrong.mul(&size.detach().gt_scalar(0.0)?.to_dtype(DType::F32)?)?;
    // size where dividing, else 1: `divides * (size - 1) + 1`.
    let divisor = divides.mul(&size.add_scalar(-1.0)?)?.add_scalar(1.0)?;
    let objective = objective.div(&divisor)?;
    let grad = crate::autograd::grad(&objective.sum(&[0], false)?, std::slice::from_ref(&leaf))?;
    match grad.into_iter().next().flatten() {
        Some(g) => Ok(g),
        None => x.zeros_like(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_linf_norm_shares_its_gradient_between_ties() {
        let t = Tensor::from_vec(vec![0.5f32, -0.5, 0.25, 0.0, 0.1, -0.3], &[2, 3]).unwrap();
        t.set_requires_grad(true).unwrap();
        let norm = linf_norm(&t).unwrap();
        assert_eq!(norm.to_vec::<f32>().unwrap(), vec![0.5, 0.3]);
        let sum = norm.sum(&[0], false).unwrap();
        let g = crate::autograd::grad(&sum, std::slice::from_ref(&t)).unwrap();
        let g = g[0].as_ref().unwrap().to_vec::<f32>().unwrap();
        assert_eq!(g, vec![0.5, -0.5, 0.0, 0.0, 0.0, -1.0]);
    }
}
