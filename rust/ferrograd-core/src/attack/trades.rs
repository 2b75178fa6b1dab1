//! TRADES' inner maximisation (Zhang et al., 2019): starting next to the input
//! (`x + 0.001 * N(0, I)`), signed steps that increase `KL(f(x) || f(x'))`, the divergence of
//! the model's prediction at `x'` from its prediction at the clean input, projected onto the
//! ε-ball and the bounds. Training then minimises `CE(f(x), y) + β KL(f(x) || f(x'))`.

use std::cell::RefCell;

use super::host_view::model_device;
use super::iterate::{ascent_step, project_onto_ball};
use super::pgd::{AttackConfig, FrozenParameters};
use super::step_loop::repeat_steps;
use crate::nn::Module;
use crate::rng::RngState;
use crate::{NoGradGuard, Result, Tensor};

/// The TRADES adversarial inputs of one batch, on the model's device (where the iterates live).
pub fn trades_batch(
    model: &dyn Module,
    x: &[f32],
    shape: &[usize],
    cfg: &AttackConfig,
    rng: &mut RngState,
) -> Result<Tensor> {
    let _frozen = FrozenParameters::new(model)?;
    let device = model_device(model);
    let clean = Tensor::from_vec(x.to_vec(), shape)?.to_device(device)?;
    let log_p = {
        let _guard = NoGradGuard::new();
        model.forward(&clean)?.log_softmax(1)?
    };
    let p = log_p.exp()?;
    let (lo, hi) = cfg.bounds;
    let start: Vec<f32> = x
        .iter()
        .zip(rng.normal(x.len()))
        .map(|(v, n)| (v + 0.001 * n).clamp(lo, hi))
        .collect();
    let start = Tensor::from_vec(start, shape)?.to_device(device)?;
    let velocity = RefCell::new(None);
    let step = |adv: &Tensor| -> Result<Tensor> {
        let leaf = adv.detach();
        leaf.set_requires_grad(true)?;
        let log_q = model.forward(&leaf)?.log_softmax(1)?;
        let kl = p.mul(&log_p.sub(&log_q)?)?.sum(&[0, 1], false)?;
        let grad = crate::autograd::grad(&kl, std::slice::from_ref(&leaf))?;
        let grad = match grad.into_iter().next().flatten() {
            Some(g) => g,
            None => adv.zeros_like()?,
        };
        let _guard = NoGradGuard::new();
        let moved = ascent_step(adv, &grad, &mut velocity.borrow_mut(), cfg)?;
        project_onto_ball(&moved, &clean, cfg.eps, cfg.norm, cfg.bounds)
    };
    repeat_steps(start, cfg.steps, cfg.steps_replay_as_graph(), step)
}
