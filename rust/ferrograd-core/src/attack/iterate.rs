//! The projected-gradient step written as tensor ops, so that an attack's iterate stays on the
//! model's device: a step on a GPU model queues its kernels without waiting for the device, where
//! host iterates would wait twice per step (for the logits and for the input gradient).
//! Elementwise, each op rounds as the host loops they replaced did, so an L∞ step gives the same
//! bits on every device; the per-sample norms of L2 steps and momentum sum in the reduction
//! kernels' order.

use super::batch::Goal;
use super::objective::{sample_objective, AttackLoss};
use super::pgd::{AttackConfig, Norm};
use crate::nn::Module;
use crate::{Result, Tensor};

/// Per-sample sums `[B, 1, ...]` of `values`: over all axes but the leading batch axis.
pub(super) fn sample_sums(values: &Tensor) -> Result<Tensor> {
    let axes: Vec<isize> = (1..values.rank() as isize).collect();
    values.sum(&axes, true)
}

/// A per-sample norm floored at `1e-12`, so that dividing by it leaves a zero gradient at zero.
pub(super) fn floored(norm: Tensor) -> Result<Tensor> {
    norm.clamp(1e-12, f32::INFINITY)
}

/// Per-sample objective values `[B]`, their input gradient at `x` and the logits of the last
/// pass, averaged over `eot` forward passes (expectation over transformation: a randomised model
/// gets the gradient of its expected objective). Everything stays on `x`'s device.
pub(super) fn objective_and_grad(
    model: &dyn Module,
    x: &Tensor,
    goal: &Goal,
    loss: AttackLoss,
    eot: usize,
) -> Result<(Tensor, Tensor, Tensor)> {
    objective_and_grad_through(model, x, goal, loss, eot, &mut |t: &Tensor| Ok(t.clone()))
}

/// `objective_and_grad` of the model seen `through` a differentiable input transform, called
/// afresh for every pass (the gradient is with respect to the untransformed `x`).
pub(super) fn objective_and_grad_through(
    model: &dyn Module,
    x: &Tensor,
    goal: &Goal,
    loss: AttackLoss,
    eot: usize,
    through: &mut dyn FnMut(&Tensor) -> Result<Tensor>,
) -> Result<(Tensor, Tensor, Tensor)> {
    let runs = eot.max(1);
    let scale = Tensor::scalar(runs as f32, x.device())?;
    let mut pass = || -> Result<(Tensor, Tensor, Tensor)> {
        let leaf = x.detach();
        leaf.set_requires_grad(true)?;
        let logits = model.forward(&through(&leaf)?)?;
        let obj = sample_objective(&logits, &goal.goal_t, &goal.labels_t, loss, goal.targeted)?;
        let grad = crate::autograd::grad(&obj.sum(&[0], false)?, std::slice::from_ref(&leaf))?;
        let grad = match grad.into_iter().next().flatten() {
            Some(g) => g,
            None => x.zeros_like()?,
        };
        let (obj, logits) = (obj.detach(), logits.detach());
        // One pass keeps its values; several add up value / runs each.
        Ok(match runs {
            1 => (obj, grad, logits),
            _ => (obj.div(&scale)?, grad.div(&scale)?, logits),
        })
    };
    let (mut obj, mut grad, mut logits) = pass()?;
    for _ in 1..runs {
        let (o, g, l) = pass()?;
        (obj, grad, logits) = (obj.add(&o)?, grad.add(&g)?, l);
    }
    Ok((obj, grad, logits))
}

/// `adv` moved one step of size α along the (momentum-averaged) gradient's `unit_direction`.
/// MI-FGSM's `velocity` accumulates L1-normalised gradients.
pub(super) fn ascent_step(
    adv: &Tensor,
    grad: &Tensor,
    velocity: &mut Option<Tensor>,
    cfg: &AttackConfig,
) -> Result<Tensor> {
    let direction = match cfg.momentum {
        Some(mu) => {
            let normalised = grad.div(&floored(sample_sums(&grad.abs()?)?)?)?;
            let v = match velocity.take() {
                Some(v) => v.mul_scalar(mu)?.add(&normalised)?,
                None => normalised,
            };
            *velocity = Some(v.clone());
            v
        }
        None => grad.clone(),
    };
    adv.add(&unit_direction(&direction, cfg.norm)?.mul_scalar(cfg.alpha)?)
}

/// The steepest-ascent step of unit size for gradient `g`: its sign under L∞ (sign(0) = 0, as
/// torch.sign), its per-sample L2-normalised value under L2.
pub(super) fn unit_direction(g: &Tensor, norm: Norm) -> Result<Tensor> {
    match norm {
        Norm::Linf => g.sign(),
        Norm::L2 => g.div(&floored(sample_sums(&g.square()?)?.sqrt()?)?),
    }
}

/// `adv` projected onto the `norm` ball of radius `eps` around `x` (per sample), then clamped
/// into `bounds`.
pub(super) fn project_onto_ball(
    adv: &Tensor,
    x: &Tensor,
    eps: f32,
    norm: Norm,
    (lo, hi): (f32, f32),
) -> Result<Tensor> {
    let delta = adv.sub(x)?;
    let delta = match norm {
        Norm::Linf => delta.clamp(-eps, eps)?,
        Norm::L2 => {
            // eps / max(norm, eps): exactly 1 inside the ball.
            let length = sample_sums(&delta.square()?)?
                .sqrt()?
                .clamp(eps, f32::INFINITY)?;
            delta.mul(&Tensor::scalar(eps, x.device())?.div(&length)?)?
        }
    };
    x.add(&delta)?.clamp(lo, hi)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::attack::{AttackLoss, Start};

    fn cfg(norm: Norm) -> AttackConfig {
        AttackConfig {
            eps: 0.5,
            alpha: 0.25,
            steps: 1,
            norm,
            start: Start::Input,
            restarts: 1,
            loss: AttackLoss::CrossEntropy,
            momentum: None,
            nesterov: false,
            eot: 1,
            bounds: (0.0, 1.0),
            cuda_graphs: true,
            transfer: Default::default(),
            gradient: Default::default(),
            patchwise: None,
        }
    }

    fn t(v: &[f32], shape: &[usize]) -> Tensor {
        Tensor::from_vec(v.to_vec(), shape).unwrap()
    }

    fn values(t: &Tensor) -> Vec<f32> {
        t.contiguous().unwrap().to_vec::<f32>().unwrap()
    }

    #[test]
    fn linf_steps_use_the_gradient_sign_and_project_onto_box_and_bounds() {
        let x = t(&[0.5, 0.9, 0.1, 0.5], &[1, 4]);
        let c = cfg(Norm::Linf);
        let adv = ascent_step(&x, &t(&[1.0, 2.0, -3.0, 0.0], &[1, 4]), &mut None, &c).unwrap();
        assert_eq!(values(&adv), vec![0.75, 1.15, -0.15, 0.5]);
        let adv = project_onto_ball(&adv, &x, c.eps, c.norm, c.bounds).unwrap();
        assert_eq!(values(&adv), vec![0.75, 1.0, 0.0, 0.5]);
        let far = t(&[1.0, 1.0, 1.0, 0.0], &[1, 4]);
        let far = project_onto_ball(&far, &x, c.eps, c.norm, c.bounds).unwrap();
        assert_eq!(values(&far), vec![1.0, 1.0, 0.6, 0.0]);
    }

    #[test]
    fn l2_steps_are_normalised_per_sample_and_projection_scales_into_the_ball() {
        let x = t(&[0.5, 0.5, 0.2, 0.2], &[2, 2]);
        let c = cfg(Norm::L2);
        let grad = t(&[3.0, 4.0, 0.0, 0.0], &[2, 2]);
        let adv = values(&ascent_step(&x, &grad, &mut None, &c).unwrap());
        // The second sample has a zero gradient and stays put.
        let expected = [0.65f32, 0.7, 0.2, 0.2];
        assert!(
            adv.iter().zip(expected).all(|(a, e)| (a - e).abs() < 1e-6),
            "{adv:?}"
        );
        let far = t(&[0.5 + 0.6, 0.5 + 0.8, 0.3, 0.2], &[2, 2]);
        let far = values(&project_onto_ball(&far, &x, c.eps, c.norm, c.bounds).unwrap());
        // Scaled back to norm 0.5 (0.3, 0.4), then clamped to the bounds; the second sample
        // lies inside the ball and keeps its values.
        let expected = [0.8f32, 0.9, 0.3, 0.2];
        assert!(
            far.iter().zip(expected).all(|(a, e)| (a - e).abs() < 1e-6),
            "{far:?}"
        );
    }

    #[test]
    fn momentum_accumulates_l1_normalised_gradients() {
        let mut c = cfg(Norm::Linf);
        c.momentum = Some(1.0);
        let mut velocity = None;
        let adv = t(&[0.5, 0.5], &[1, 2]);
        let adv = ascent_step(&adv, &t(&[1.0, -3.0], &[1, 2]), &mut velocity, &c).unwrap();
        assert_eq!(values(velocity.as_ref().unwrap()), vec![0.25, -0.75]);
        let adv = ascent_step(&adv, &t(&[-2.0, 0.0], &[1, 2]), &mut velocity, &c).unwrap();
        // velocity (0.25 - 1.0, -0.75) keeps the second coordinate's sign.
        assert_eq!(values(velocity.as_ref().unwrap()), vec![-0.75, -0.75]);
        assert_eq!(values(&adv), vec![0.5, 0.0]);
    }
}
