//! EAD, the elastic-net attack (Chen et al., 2018): Carlini-Wagner's objective with an L1 term,
//! `c * max(z_y - max_{j != y} z_j, -kappa) + ||x' - x||_2^2 + beta ||x' - x||_1`, minimised by
//! FISTA. Each step takes a gradient step of the smooth part at the momentum point `y`, then the
//! projected shrinkage `clamp(x + soft_threshold(z - x, beta), bounds)`, which zeroes small
//! changes (hence sparse perturbations), and moves `y` to `x_{k+1} + k / (k + 3) (x_{k+1} - x_k)`.
//! The step size decays as `lr sqrt(1 - k / steps)`. A per-sample binary search over `c` keeps the
//! misclassified iterate with the smallest elastic-net (`beta L1 + L2^2`) or L1 distance.

use super::host_view::model_device;
use super::minimal::{ConstantSearch, Smallest};
use super::objective::class_margin;
use super::pgd::{BatchResult, FrozenParameters};
use crate::nn::Module;
use crate::{DType, Device, NoGradGuard, Result, Tensor};

/// Which distance picks the best adversarial point.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DecisionRule {
    /// `beta ||δ||_1 + ||δ||_2^2`.
    ElasticNet,
    /// `||δ||_1`.
    L1,
}

/// An EAD run.
#[derive(Clone, Debug)]
pub struct EadConfig {
    /// Initial trade-off constant.
    pub c: f32,
    pub kappa: f32,
    /// The L1 weight (also the shrinkage threshold).
    pub beta: f32,
    /// FISTA steps per search step, the initial step size, and binary-search steps.
    pub steps: usize,
    pub lr: f32,
    pub search_steps: usize,
    pub rule: DecisionRule,
    pub bounds: (f32, f32),
}

/// EAD on one batch with true `labels` (untargeted). The iterates and each sample's best point
/// stay on the model's device; the host reads which samples succeeded once per search step.
pub fn ead_batch(
    model: &dyn Module,
    x: &[f32],
    shape: &[usize],
    labels: &[i64],
    cfg: &EadConfig,
) -> Result<BatchResult> {
    let _frozen = FrozenParameters::new(model)?;
    let device = model_device(model);
    let batch = shape.first().copied().unwrap_or(0);
    let (lo, hi) = cfg.bounds;
    let x0 = Tensor::from_vec(x.to_vec(), shape)?.to_device(device)?;
    let labels_t = Tensor::from_vec(labels.to_vec(), &[batch])?.to_device(device)?;
    let labels_f = labels_t.to_dtype(DType::F32)?;
    let per_sample_sum = |t: &Tensor| t.flatten(1, -1)?.sum(&[1], false);
    let mut best = Smallest::new(&x0, batch)?;
    let mut search = ConstantSearch::new(cfg.c, batch);
    for _ in 0..cfg.search_steps.max(1) {
        let c_t = Tensor::from_vec(search.constants().to_vec(), &[batch])?.to_device(device)?;
        let mut succeeded_now = Tensor::zeros(&[batch], DType::F32, device)?;
        let (mut current, mut slack) = (x0.clone(), x0.clone());
        for k in 0..cfg.steps {
            let leaf = slack.detach();
            leaf.set_requires_grad(true)?;
            let margin = class_margin(&model.forward(&leaf)?, &labels_t)?
                .clamp(-cfg.kappa, f32::INFINITY)?;
            let squared = per_sample_sum(&leaf.sub(&x0)?.square()?)?;
            let smooth = squared.add(&margin.mul(&c_t)?)?.sum(&[0], false)?;
            let grad = crate::autograd::grad(&smooth, std::slice::from_ref(&leaf))?;
            let Some(g) = grad.into_iter().next().flatten() else {
                break;
            };
            let _guard = NoGradGuard::new();
            let lr = cfg.lr * (1.0 - k as f32 / cfg.steps as f32).sqrt();
            let moved = slack.sub(&g.mul_scalar(lr)?)?;
            let next = shrink(&moved, &x0, cfg.beta)?.clamp(lo, hi)?;
            let momentum = k as f32 / (k as f32 + 3.0);
            slack = next.add(&next.sub(&current)?.mul_scalar(momentum)?)?;
            current = next;
            // Record the new iterate: its distance and prediction.
            let delta = current.sub(&x0)?;
            let l1 = per_sample_sum(&delta.abs()?)?;
            let distance = match cfg.rule {
                DecisionRule::L1 => l1,
                DecisionRule::ElasticNet => l1
                    .mul_scalar(cfg.beta)?
                    .add(&per_sample_sum(&delta.square()?)?)?,
            };
            let pred = model
                .forward(&current)?
                .argmax(1, false)?
                .to_dtype(DType::F32)?;
            let wrong = pred.ne(&labels_f)?.to_dtype(DType::F32)?;
            best.offer(&current, &distance, &pred, &wrong)?;
            succeeded_now = succeeded_now.maximum(&wrong)?;
        }
        search.update(&succeeded_now.to_device(Device::Cpu)?.to_vec::<f32>()?);
    }
    best.result()
}

/// `x + soft_threshold(z - x, beta)`: changes within `beta` of the input vanish, larger ones
/// shrink by `beta`.
fn shrink(z: &Tensor, x: &Tensor, beta: f32) -> Result<Tensor> {
    let delta = z.sub(x)?;
    let magnitude = delta.abs()?.add_scalar(-beta)?.relu()?;
    x.add(&delta.sign()?.mul(&magnitude)?)
}
