//! TRADES' inner maximisation (Zhang et al., 2019): starting next to the input
//! (`x + 0.001 * N(0, I)`), signed steps that increase `KL(f(x) || f(x'))`, the divergence of
//! the model's prediction at `x'` from its prediction at the clean input, projected onto the
//! ε-ball and the bounds. Training then minimises `CE(f(x), y) + β KL(f(x) || f(x'))`.

use super::pgd::{project, step, AttackConfig, FrozenParameters};
use crate::nn::Module;
use crate::rng::RngState;
use crate::{NoGradGuard, Result, Tensor};

/// The TRADES adversarial inputs of one batch.
pub fn trades_batch(
    model: &dyn Module,
    x: &[f32],
    shape: &[usize],
    cfg: &AttackConfig,
    rng: &mut RngState,
) -> Result<Vec<f32>> {
    let _frozen = FrozenParameters::new(model)?;
    let dim = x.len() / shape.first().copied().unwrap_or(1).max(1);
    let log_p = {
        let _guard = NoGradGuard::new();
        model
            .forward(&Tensor::from_vec(x.to_vec(), shape)?)?
            .log_softmax(1)?
    };
    let p = log_p.exp()?;
    let (lo, hi) = cfg.bounds;
    let mut adv: Vec<f32> = x
        .iter()
        .zip(rng.normal(x.len()))
        .map(|(v, n)| (v + 0.001 * n).clamp(lo, hi))
        .collect();
    let mut velocity = vec![0f32; x.len()];
    for _ in 0..cfg.steps {
        let leaf = Tensor::from_vec(adv.clone(), shape)?;
        leaf.set_requires_grad(true)?;
        let log_q = model.forward(&leaf)?.log_softmax(1)?;
        let kl = p.mul(&log_p.sub(&log_q)?)?.sum(&[0, 1], false)?;
        let grad = crate::autograd::grad(&kl, std::slice::from_ref(&leaf))?;
        let grad = match grad.into_iter().next().flatten() {
            Some(g) => g.contiguous()?.to_vec::<f32>()?,
            None => vec![0.0; x.len()],
        };
        step(&mut adv, &grad, &mut velocity, cfg, dim);
        project(&mut adv, x, cfg, dim);
    }
    Ok(adv)
}
