//! SPSA (Uesato et al., 2018), L∞: a gradient-free attack that reads only the model's outputs, so
//! it sees through defences whose gradients are masked. Each step estimates the gradient of the
//! margin objective by simultaneous perturbation, `mean_s (f(x' + δ v_s) - f(x' - δ v_s)) / (2δ)
//! v_s` over `samples` random sign vectors `v_s` (each draw one forward pass over the batch twice),
//! ascends it with Adam, and projects onto the ε-ball and the bounds. The iterate lives on the
//! model's device; the sign vectors are drawn on the host.

use super::batch::Goal;
use super::host_view::model_device;
use super::iterate::project_onto_ball;
use super::objective::{predictions, sample_objective, AttackLoss};
use super::pgd::{BatchResult, Norm};
use crate::nn::Module;
use crate::rng::RngState;
use crate::{Device, NoGradGuard, Result, Tensor};

/// An SPSA run.
#[derive(Clone, Debug)]
pub struct SpsaConfig {
    pub eps: f32,
    /// The finite-difference step.
    pub delta: f32,
    /// Adam's learning rate.
    pub lr: f32,
    pub steps: usize,
    /// Random sign vectors per gradient estimate.
    pub samples: usize,
    pub bounds: (f32, f32),
}

/// SPSA on one batch with true `labels` (`targets` for the targeted version), maximising the
/// margin objective (`AttackLoss::Margin`).
pub fn spsa_batch(
    model: &dyn Module,
    x: &[f32],
    shape: &[usize],
    labels: &[i64],
    targets: Option<&[i64]>,
    cfg: &SpsaConfig,
    rng: &mut RngState,
) -> Result<BatchResult> {
    let _guard = NoGradGuard::new();
    let device = model_device(model);
    let goal = Goal::new(x, shape, labels, targets, device)?;
    let batch = goal.batch;
    let x0 = Tensor::from_vec(x.to_vec(), shape)?.to_device(device)?;
    let objective = |points: &Tensor, copies: usize| -> Result<Tensor> {
        let repeat = |t: &Tensor| Tensor::cat(&vec![t.clone(); copies], 0);
        let logits = model.forward(points)?;
        let (goal_t, labels_t) = (repeat(&goal.goal_t)?, repeat(&goal.labels_t)?);
        sample_objective(
            &logits,
            &goal_t,
            &labels_t,
            AttackLoss::Margin,
            goal.targeted,
        )
    };
    let mut adv = x0.clone();
    let (mut m, mut v) = (x0.zeros_like()?, x0.zeros_like()?);
    let mut per_sample_shape = vec![1; shape.len()];
    per_sample_shape[0] = batch;
    for t in 1..=cfg.steps {
        let mut estimate = x0.zeros_like()?;
        for _ in 0..cfg.samples {
            let signs: Vec<f32> = rng
                .uniform(x.len())
                .into_iter()
                .map(|u| if u < 0.5 { -1.0 } else { 1.0 })
                .collect();
            let signs = Tensor::from_vec(signs, shape)?.to_device(device)?;
            let step = signs.mul_scalar(cfg.delta)?;
            let both = Tensor::cat(&[adv.add(&step)?, adv.sub(&step)?], 0)?;
            let f = objective(&both, 2)?;
            let difference = f
                .narrow(0, 0, batch)?
                .sub(&f.narrow(0, batch, batch)?)?
                .mul_scalar(1.0 / (2.0 * cfg.delta))?
                .reshape(&per_sample_shape)?;
            estimate = estimate.add(&signs.mul(&difference)?)?;
        }
        let g = estimate.mul_scalar(1.0 / cfg.samples.max(1) as f32)?;
        // Adam ascent (β1 0.9, β2 0.999, ε 1e-8).
        let (b1, b2) = (0.9f32, 0.999f32);
        m = m.mul_scalar(b1)?.add(&g.mul_scalar(1.0 - b1)?)?;
        v = v.mul_scalar(b2)?.add(&g.mul(&g)?.mul_scalar(1.0 - b2)?)?;
        let m_hat = m.mul_scalar(1.0 / (1.0 - b1.powi(t as i32)))?;
        let v_hat = v.mul_scalar(1.0 / (1.0 - b2.powi(t as i32)))?;
        let moved = adv.add(
            &m_hat
                .div(&v_hat.sqrt()?.add_scalar(1e-8)?)?
                .mul_scalar(cfg.lr)?,
        )?;
        adv = project_onto_ball(&moved, &x0, cfg.eps, Norm::Linf, cfg.bounds)?;
    }
    let pred = predictions(&model.forward(&adv)?)?;
    let success = pred
        .iter()
        .enumerate()
        .map(|(n, &p)| match targets {
            Some(t) => p == t[n],
            None => p != labels[n],
        })
        .collect();
    Ok(BatchResult {
        adversarial: adv.to_device(Device::Cpu)?.contiguous()?.to_vec::<f32>()?,
        success,
        predictions: pred,
    })
}
