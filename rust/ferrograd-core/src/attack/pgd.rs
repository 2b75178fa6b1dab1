//! The projected-gradient family. One loop covers FGSM (one step of size ε from the input),
//! R-FGSM (a signed Gaussian start of size α, then one step of ε - α), BIM (no random start),
//! PGD (uniform start in the ball, restarts) and MI-FGSM (momentum on L1-normalised gradients).
//! Every step moves the whole batch, projects back onto the ε-ball around the original input and
//! clamps to the bounds; restarts keep, per sample, a successful result over a failed one and then
//! the higher objective.

use super::batch::{ascent_direction, project_onto_ball, restart_stream, Best, Goal};
use super::objective::{predictions, sample_objective, AttackLoss};
use crate::nn::{Module, TensorRole};
use crate::rng::RngState;
use crate::{NoGradGuard, Result, Tensor};

/// The norm of the perturbation budget.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Norm {
    Linf,
    L2,
}

/// Where each restart begins.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Start {
    /// The input itself.
    Input,
    /// Uniform in the ε-ball.
    Uniform,
    /// `x + size * sign(N(0, 1))` (R-FGSM).
    SignedGaussian(f32),
    /// Uniform in the ε-ball, with the iterate kept unclipped to the bounds: the model and its
    /// gradient are evaluated at the unclipped point, and only the final point is clipped. This is
    /// Fast-AT's FGSM as Wong et al.'s MNIST code runs it. Unlike `Uniform`, saturated pixels
    /// (MNIST's zero background) still get a gradient sign from a start outside the bounds.
    UniformUnclipped,
}

/// An attack of the PGD family.
#[derive(Clone, Debug)]
pub struct AttackConfig {
    pub eps: f32,
    pub alpha: f32,
    pub steps: usize,
    pub norm: Norm,
    pub start: Start,
    pub restarts: usize,
    pub loss: AttackLoss,
    /// MI-FGSM's decay of the accumulated gradient; `None` for plain steps.
    pub momentum: Option<f32>,
    /// Forward/backward passes averaged per gradient (EOT for randomised models).
    pub eot: usize,
    pub bounds: (f32, f32),
}

/// The result for one batch.
#[derive(Clone, Debug, Default)]
pub struct BatchResult {
    pub adversarial: Vec<f32>,
    pub success: Vec<bool>,
    pub predictions: Vec<i64>,
}

/// The model's trainable parameters switched to `requires_grad = false` while an attack runs, so
/// backward passes compute only the input gradient (a convolution then skips its weight gradient);
/// dropping the guard switches them back, on errors too.
pub(super) struct FrozenParameters(Vec<Tensor>);

impl FrozenParameters {
    pub(super) fn new(model: &dyn Module) -> Result<FrozenParameters> {
        let mut params = Vec::new();
        model.visit("", &mut |_, t, role| {
            if role == TensorRole::Parameter && t.requires_grad() {
                params.push(t.clone());
            }
        });
        for p in &params {
            p.set_requires_grad(false)?;
        }
        Ok(FrozenParameters(params))
    }
}

impl Drop for FrozenParameters {
    fn drop(&mut self) {
        for p in &self.0 {
            // Leaves that required grad a moment ago can always be switched back.
            let _ = p.set_requires_grad(true);
        }
    }
}

/// Per-sample objective values and their input gradient at `x`, averaged over `eot` forward
/// passes (expectation over transformation: a randomised model gets the gradient of its expected
/// objective); the predictions are those of the last pass.
pub(super) fn objective_and_grad(
    model: &dyn Module,
    x: &[f32],
    shape: &[usize],
    (goal, labels): (&Tensor, &Tensor),
    loss: AttackLoss,
    targeted: bool,
    eot: usize,
) -> Result<(Vec<f32>, Vec<f32>, Vec<i64>)> {
    let runs = eot.max(1);
    let (mut objective, mut grad, mut pred) =
        (vec![0f32; goal.numel()], vec![0f32; x.len()], Vec::new());
    for _ in 0..runs {
        let leaf = Tensor::from_vec(x.to_vec(), shape)?;
        leaf.set_requires_grad(true)?;
        let logits = model.forward(&leaf)?;
        let obj = sample_objective(&logits, goal, labels, loss, targeted)?;
        let g = crate::autograd::grad(&obj.sum(&[0], false)?, std::slice::from_ref(&leaf))?;
        if let Some(g) = g.into_iter().next().flatten() {
            let g = g.contiguous()?.to_vec::<f32>()?;
            grad.iter_mut()
                .zip(g)
                .for_each(|(a, b)| *a += b / runs as f32);
        }
        let obj = obj.to_vec::<f32>()?;
        objective
            .iter_mut()
            .zip(obj)
            .for_each(|(a, b)| *a += b / runs as f32);
        pred = predictions(&logits.detach())?;
    }
    Ok((objective, grad, pred))
}

/// Whether each prediction meets the attack's goal.
pub(super) fn succeeded(pred: &[i64], goal: &[i64], targeted: bool) -> Vec<bool> {
    pred.iter()
        .zip(goal)
        .map(|(p, g)| (p == g) == targeted)
        .collect()
}

/// The starting point of one restart.
fn start_point(x: &[f32], cfg: &AttackConfig, dim: usize, rng: &mut RngState) -> Vec<f32> {
    let (lo, hi) = cfg.bounds;
    let mut out: Vec<f32> = match (cfg.start, cfg.norm) {
        (Start::Input, _) => x.to_vec(),
        (Start::SignedGaussian(size), _) => x
            .iter()
            .zip(rng.normal(x.len()))
            .map(|(v, n)| v + size * n.signum())
            .collect(),
        (Start::Uniform | Start::UniformUnclipped, Norm::Linf) => x
            .iter()
            .zip(rng.uniform(x.len()))
            .map(|(v, u)| v + cfg.eps * (2.0 * u - 1.0))
            .collect(),
        (Start::Uniform | Start::UniformUnclipped, Norm::L2) => {
            // Uniform in the L2 ball: a Gaussian direction and a radius eps * U^(1/d).
            let dirs = rng.normal(x.len());
            let radii = rng.uniform(x.len() / dim.max(1));
            let mut out = x.to_vec();
            for ((o, d), u) in out.chunks_mut(dim).zip(dirs.chunks(dim)).zip(radii) {
                let norm = d.iter().map(|v| v * v).sum::<f32>().sqrt().max(1e-12);
                let r = cfg.eps * u.powf(1.0 / dim as f32);
                o.iter_mut().zip(d).for_each(|(o, d)| *o += r * d / norm);
            }
            out
        }
    };
    if cfg.start != Start::UniformUnclipped {
        out.iter_mut().for_each(|v| *v = v.clamp(lo, hi));
    }
    out
}

/// Projects `adv` onto the ε-ball around `x` (per sample) and into the bounds.
pub(super) fn project(adv: &mut [f32], x: &[f32], cfg: &AttackConfig, dim: usize) {
    project_onto_ball(adv, x, cfg.eps, cfg.norm, cfg.bounds, dim);
}

/// Moves `adv` one step along the (momentum-averaged) gradient.
pub(super) fn step(
    adv: &mut [f32],
    grad: &[f32],
    velocity: &mut [f32],
    cfg: &AttackConfig,
    dim: usize,
) {
    let direction: &[f32] = match cfg.momentum {
        Some(mu) => {
            for (vel, g) in velocity.chunks_mut(dim).zip(grad.chunks(dim)) {
                let l1 = g.iter().map(|v| v.abs()).sum::<f32>().max(1e-12);
                vel.iter_mut()
                    .zip(g)
                    .for_each(|(v, g)| *v = mu * *v + g / l1);
            }
            velocity
        }
        None => grad,
    };
    for (a, d) in adv
        .iter_mut()
        .zip(ascent_direction(direction, cfg.norm, dim))
    {
        *a += cfg.alpha * d;
    }
}

/// Attacks one batch `x` (`shape` = `[B, ...]`, values in the bounds) with true `labels`;
/// `targets` makes the attack targeted. Random starts draw from `rng`.
pub fn attack_batch(
    model: &dyn Module,
    x: &[f32],
    shape: &[usize],
    labels: &[i64],
    targets: Option<&[i64]>,
    cfg: &AttackConfig,
    rng: &mut RngState,
) -> Result<BatchResult> {
    let _frozen = FrozenParameters::new(model)?;
    let g = Goal::new(x, shape, labels, targets)?;
    let mut best = Best::new(x, &g);
    let base = *rng;
    for r in 0..cfg.restarts.max(1) as u64 {
        let mut stream = restart_stream(&base, r);
        let mut adv = start_point(x, cfg, g.dim, &mut stream);
        rng.offset = stream.offset;
        let mut velocity = vec![0f32; x.len()];
        let unclipped = cfg.start == Start::UniformUnclipped;
        let (lo, hi) = cfg.bounds;
        for _ in 0..cfg.steps {
            let (_, grad, _) = objective_and_grad(
                model,
                &adv,
                shape,
                (&g.goal_t, &g.labels_t),
                cfg.loss,
                g.targeted,
                cfg.eot,
            )?;
            step(&mut adv, &grad, &mut velocity, cfg, g.dim);
            if unclipped {
                // Only the ball: the iterate stays unclipped to the bounds until the end.
                project_onto_ball(&mut adv, x, cfg.eps, cfg.norm, (f32::MIN, f32::MAX), g.dim);
            } else {
                project(&mut adv, x, cfg, g.dim);
            }
        }
        if unclipped {
            adv.iter_mut().for_each(|v| *v = v.clamp(lo, hi));
        }
        let _guard = NoGradGuard::new();
        let logits = model.forward(&Tensor::from_vec(adv.clone(), shape)?)?;
        let objective = sample_objective(&logits, &g.goal_t, &g.labels_t, cfg.loss, g.targeted)?;
        best.offer(
            &adv,
            &objective.to_vec::<f32>()?,
            &predictions(&logits)?,
            &g,
        );
    }
    Ok(best.result)
}

#[cfg(test)]
mod tests {
    use super::*;

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
            eot: 1,
            bounds: (0.0, 1.0),
        }
    }

    #[test]
    fn linf_steps_use_the_gradient_sign_and_project_onto_box_and_bounds() {
        let x = [0.5f32, 0.9, 0.1, 0.5];
        let mut adv = x.to_vec();
        let mut vel = vec![0.0; 4];
        let c = cfg(Norm::Linf);
        step(&mut adv, &[1.0, 2.0, -3.0, 0.0], &mut vel, &c, 4);
        assert_eq!(adv, vec![0.75, 1.15, -0.15, 0.5]);
        project(&mut adv, &x, &c, 4);
        assert_eq!(adv, vec![0.75, 1.0, 0.0, 0.5]);
        let mut far = vec![1.0f32, 1.0, 1.0, 0.0];
        project(&mut far, &x, &c, 4);
        assert_eq!(far, vec![1.0, 1.0, 0.6, 0.0]);
    }

    #[test]
    fn l2_steps_are_normalised_and_projection_scales_into_the_ball() {
        let x = [0.5f32, 0.5];
        let mut adv = x.to_vec();
        let mut vel = vec![0.0; 2];
        let c = cfg(Norm::L2);
        step(&mut adv, &[3.0, 4.0], &mut vel, &c, 2);
        assert!((adv[0] - 0.65).abs() < 1e-6 && (adv[1] - 0.7).abs() < 1e-6);
        let mut far = vec![0.5f32 + 0.6, 0.5 + 0.8];
        project(&mut far, &x, &c, 2);
        // Scaled back to norm 0.5 (0.3, 0.4), then clamped to the bounds.
        assert!(
            (far[0] - 0.8).abs() < 1e-6 && (far[1] - 0.9).abs() < 1e-6,
            "{far:?}"
        );
    }

    #[test]
    fn momentum_accumulates_l1_normalised_gradients() {
        let mut c = cfg(Norm::Linf);
        c.momentum = Some(1.0);
        let mut adv = vec![0.5f32, 0.5];
        let mut vel = vec![0.0f32; 2];
        step(&mut adv, &[1.0, -3.0], &mut vel, &c, 2);
        assert_eq!(vel, vec![0.25, -0.75]);
        step(&mut adv, &[-2.0, 0.0], &mut vel, &c, 2);
        // velocity (0.25 - 1.0, -0.75) keeps the second coordinate's sign.
        assert_eq!(vel, vec![-0.75, -0.75]);
        assert_eq!(adv, vec![0.5, 0.0]);
    }
}
