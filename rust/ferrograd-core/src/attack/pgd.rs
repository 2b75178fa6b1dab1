//! The projected-gradient family. One loop covers FGSM (one step of size ε from the input),
//! R-FGSM (a signed Gaussian start of size α, then one step of ε - α), BIM (no random start),
//! PGD (uniform start in the ball, restarts), MI-FGSM (momentum on L1-normalised gradients) and
//! NI-FGSM (MI-FGSM with each gradient taken at a Nesterov look-ahead point).
//! Every step moves the whole batch, projects back onto the ε-ball around the original input and
//! clamps to the bounds; restarts keep, per sample, a successful result over a failed one and then
//! the higher objective.

use std::cell::RefCell;

use super::batch::{restart_stream, Best, Goal};
use super::host_view::model_device;
use super::iterate::{ascent_step, project_onto_ball};
use super::jitter::{jitter_gradient, JitterLoss};
use super::objective::{sample_objective, AttackLoss};
use super::patchwise::{patchwise_step, Patchwise};
use super::smoothed::{smoothed_gradient, NoiseAverage};
use super::step_loop::repeat_steps;
use super::transfer::{gradient_variance, transfer_gradient, GradientOf, Transfer};
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
    /// `x + size * N(0, 1)` (MART's start next to the input).
    Gaussian(f32),
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
    /// NI-FGSM: with momentum, each gradient is taken at the Nesterov look-ahead point
    /// `adv + alpha * decay * g`, `g` the accumulated gradient in the published code's scale
    /// (gradients divided by their mean absolute value).
    pub nesterov: bool,
    /// Forward/backward passes averaged per gradient (EOT for randomised models).
    pub eot: usize,
    pub bounds: (f32, f32),
    /// On a GPU, replay each restart's steps as a CUDA graph (`step_loop`).
    pub cuda_graphs: bool,
    /// The transfer attacks' input diversity, scale copies, smoothing and variance tuning.
    pub transfer: Transfer,
    /// What each step's gradient is taken of.
    pub gradient: StepGradient,
    /// PI-FGSM's patch-wise steps in place of plain (or momentum) signed steps (L∞ only).
    pub patchwise: Option<Patchwise>,
}

/// What a PGD step's gradient is taken of.
#[derive(Clone, Copy, Debug, PartialEq, Default)]
pub enum StepGradient {
    /// `loss` of the model's logits, through the transfer transforms.
    #[default]
    Loss,
    /// The randomized-smoothing classifier with this noise (PGDRS, `smoothed`). Its iterate is
    /// kept unclipped, projected onto the ball only, and the model sees it clamped to the bounds;
    /// the final point is clamped, as in the published code.
    Smoothed(NoiseAverage),
    /// Jitter's noisy, temperature-scaled softmax distance (`jitter`).
    Jitter(JitterLoss),
}

impl AttackConfig {
    /// Whether a GPU replays the steps as a CUDA graph: momentum, variance and patch-wise
    /// accumulation carry state from one step to the next, input diversity and the smoothed and Jitter objectives' noise draw
    /// on the host, and Jitter reads the predictions back, so those steps run eagerly.
    pub(super) fn steps_replay_as_graph(&self) -> bool {
        self.cuda_graphs
            && self.momentum.is_none()
            && self.patchwise.is_none()
            && !self.transfer.needs_eager_steps()
            && self.gradient == StepGradient::Loss
    }

    /// Whether the iterate is kept unclipped to the bounds until the end.
    fn unclipped(&self) -> bool {
        self.start == Start::UniformUnclipped || matches!(self.gradient, StepGradient::Smoothed(_))
    }
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
        (Start::Gaussian(size), _) => x
            .iter()
            .zip(rng.normal(x.len()))
            .map(|(v, n)| v + size * n)
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

/// One batch as an attack sees it: the clean inputs on the host and on the model's device, and
/// the goal.
struct Clean<'a> {
    host: &'a [f32],
    on_device: Tensor,
    goal: Goal,
}

impl<'a> Clean<'a> {
    fn new(
        model: &dyn Module,
        x: &'a [f32],
        shape: &[usize],
        labels: &[i64],
        targets: Option<&[i64]>,
    ) -> Result<Clean<'a>> {
        let device = model_device(model);
        Ok(Clean {
            host: x,
            on_device: Tensor::from_vec(x.to_vec(), shape)?.to_device(device)?,
            goal: Goal::new(x, shape, labels, targets, device)?,
        })
    }
}

/// Where NI-FGSM takes the gradient: `adv + alpha * decay * d * velocity`, `d` the elements per
/// sample (the velocity accumulates L1-normalised gradients; times `d` it is in the mean-normalised
/// scale of Lin et al.'s code). Other attacks, and the first step, use `adv` itself.
fn nesterov_point(adv: &Tensor, velocity: Option<&Tensor>, cfg: &AttackConfig) -> Result<Tensor> {
    match (cfg.nesterov, cfg.momentum, velocity) {
        (true, Some(decay), Some(v)) => {
            let per_sample = adv.numel() / adv.shape().first().copied().unwrap_or(1).max(1);
            adv.add(&v.mul_scalar(cfg.alpha * decay * per_sample as f32)?)
        }
        _ => Ok(adv.clone()),
    }
}

/// The final iterate of one restart, on the model's device; its random start draws from
/// `stream`.
fn run_restart(
    model: &dyn Module,
    clean: &Clean,
    cfg: &AttackConfig,
    stream: &mut RngState,
) -> Result<Tensor> {
    let x = &clean.on_device;
    let start = start_point(clean.host, cfg, clean.goal.dim, stream);
    let start = Tensor::from_vec(start, x.shape())?.to_device(x.device())?;
    let unclipped = cfg.unclipped();
    // Unclipped iterates are projected onto the ball only, and clamped to the bounds at the end.
    let bounds = match unclipped {
        true => (f32::MIN, f32::MAX),
        false => cfg.bounds,
    };
    let velocity = RefCell::new(None);
    let accumulated = RefCell::new(None);
    let variance: RefCell<Option<Tensor>> = RefCell::new(None);
    let draws = RefCell::new(&mut *stream);
    let of = GradientOf {
        goal: &clean.goal,
        loss: cfg.loss,
        eot: cfg.eot,
        transfer: &cfg.transfer,
    };
    let step = |adv: &Tensor| -> Result<Tensor> {
        let look_ahead = nesterov_point(adv, velocity.borrow().as_ref(), cfg)?;
        let mut rng = draws.borrow_mut();
        let grad = match cfg.gradient {
            StepGradient::Loss => transfer_gradient(model, &look_ahead, &of, &mut rng)?,
            StepGradient::Smoothed(noise) => {
                smoothed_gradient(model, &look_ahead, &clean.goal, noise, cfg.bounds, &mut rng)?
            }
            StepGradient::Jitter(loss) => {
                jitter_gradient(model, &look_ahead, x, &clean.goal, loss, &mut rng)?
            }
        };
        // Variance tuning steps along the gradient plus the last step's variance, then measures
        // the variance around this step's point.
        let grad = match cfg.transfer.variance {
            Some((neighbours, beta)) => {
                let tuned = match variance.borrow().as_ref() {
                    Some(v) => grad.add(v)?,
                    None => grad.clone(),
                };
                let spread = (neighbours, beta * cfg.eps);
                let v = gradient_variance(model, adv, &grad, &of, spread, &mut rng)?;
                *variance.borrow_mut() = Some(v.detach());
                tuned
            }
            None => grad,
        };
        let _guard = NoGradGuard::new();
        let moved = match cfg.patchwise {
            Some(options) => {
                let spans = (cfg.alpha, cfg.eps);
                let step = patchwise_step(&grad, &mut accumulated.borrow_mut(), spans, options)?;
                adv.add(&step)?
            }
            None => ascent_step(adv, &grad, &mut velocity.borrow_mut(), cfg)?,
        };
        project_onto_ball(&moved, x, cfg.eps, cfg.norm, bounds)
    };
    let adv = repeat_steps(start, cfg.steps, cfg.steps_replay_as_graph(), step)?;
    match unclipped {
        true => adv.clamp(cfg.bounds.0, cfg.bounds.1),
        false => Ok(adv),
    }
}

/// Attacks one batch `x` (`shape` = `[B, ...]`, values in the bounds) with true `labels`;
/// `targets` makes the attack targeted. Random starts draw from `rng`. The iterates and the best
/// points so far live on the model's device; the result comes back to the host once.
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
    let clean = Clean::new(model, x, shape, labels, targets)?;
    let g = &clean.goal;
    let mut best = Best::new(&clean.on_device, g)?;
    let base = *rng;
    for r in 0..cfg.restarts.max(1) as u64 {
        let mut stream = restart_stream(&base, r);
        let adv = run_restart(model, &clean, cfg, &mut stream)?;
        rng.offset = stream.offset;
        let _guard = NoGradGuard::new();
        let logits = model.forward(&adv)?;
        let objective = sample_objective(&logits, &g.goal_t, &g.labels_t, cfg.loss, g.targeted)?;
        best.offer(&adv, &objective, &logits)?;
    }
    best.result()
}

/// The adversarial inputs of one training batch, on the model's device. With one restart they
/// are its final iterate, so no evaluation pass and no copy to the host is needed; several
/// restarts keep each sample's best point, as `attack_batch` does.
pub fn adversarial_batch(
    model: &dyn Module,
    x: &[f32],
    shape: &[usize],
    labels: &[i64],
    cfg: &AttackConfig,
    rng: &mut RngState,
) -> Result<Tensor> {
    if cfg.restarts > 1 {
        let attacked = attack_batch(model, x, shape, labels, None, cfg, rng)?;
        return Tensor::from_vec(attacked.adversarial, shape)?.to_device(model_device(model));
    }
    let _frozen = FrozenParameters::new(model)?;
    let clean = Clean::new(model, x, shape, labels, None)?;
    let mut stream = restart_stream(rng, 0);
    let adv = run_restart(model, &clean, cfg, &mut stream)?;
    rng.offset = stream.offset;
    Ok(adv)
}
