//! Carlini-Wagner L2 (2017). Each sample's input is reparametrised as
//! `x' = lo + (hi - lo) (tanh(w) + 1) / 2`, so the bounds hold by construction, and Adam minimises
//! `||x' - x||^2 + c * max(z_y - max_{j != y} z_j, -kappa)` over `w`. A binary search over `c`
//! (per sample: halve the interval toward smaller `c` after a success, grow it after a failure)
//! keeps the smallest successful perturbation found.

use super::host_view::model_device;
use super::minimal::{ConstantSearch, Smallest};
use super::objective::class_margin;
use super::pgd::{BatchResult, FrozenParameters};
use crate::nn::Module;
use crate::{DType, Device, NoGradGuard, Result, Tensor};

/// A CW-L2 run.
#[derive(Clone, Debug)]
pub struct CwConfig {
    /// Initial trade-off constant.
    pub c: f32,
    /// Confidence margin κ.
    pub kappa: f32,
    /// Adam steps per search step, Adam's learning rate, and binary-search steps.
    pub steps: usize,
    pub lr: f32,
    pub search_steps: usize,
    pub bounds: (f32, f32),
}

/// CW-L2 on one batch with true `labels` (untargeted). The iterate, Adam's moments and each
/// sample's best point stay on the model's device; the host reads which samples succeeded once per
/// search step, to move their `c`.
pub fn cw_batch(
    model: &dyn Module,
    x: &[f32],
    shape: &[usize],
    labels: &[i64],
    cfg: &CwConfig,
) -> Result<BatchResult> {
    let _frozen = FrozenParameters::new(model)?;
    let device = model_device(model);
    let batch = shape.first().copied().unwrap_or(0);
    let (lo, hi) = cfg.bounds;
    let span = hi - lo;
    // w such that the reparametrisation returns x (atanh of the input mapped to (-1, 1)).
    let w0: Vec<f32> = x
        .iter()
        .map(|v| {
            (((v - lo) / span) * 2.0 - 1.0)
                .clamp(-1.0 + 1e-6, 1.0 - 1e-6)
                .atanh()
        })
        .collect();
    let on_device = |t: Tensor| t.to_device(device);
    let w0 = on_device(Tensor::from_vec(w0, shape)?)?;
    let x_t = on_device(Tensor::from_vec(x.to_vec(), shape)?)?;
    let labels_t = on_device(Tensor::from_vec(labels.to_vec(), &[batch])?)?;
    let labels_f = labels_t.to_dtype(DType::F32)?;
    let mut best = Smallest::new(&x_t, batch)?;
    let mut search = ConstantSearch::new(cfg.c, batch);
    let scalar = |v: f32| Tensor::scalar(v, device);
    for _ in 0..cfg.search_steps.max(1) {
        let mut w = w0.clone();
        let (mut m, mut v) = (w0.zeros_like()?, w0.zeros_like()?);
        let mut succeeded_now = Tensor::zeros(&[batch], DType::F32, device)?;
        let c_t = on_device(Tensor::from_vec(search.constants().to_vec(), &[batch])?)?;
        for t in 1..=cfg.steps {
            let leaf = w.detach();
            leaf.set_requires_grad(true)?;
            let adv = leaf.tanh()?.affine(span / 2.0, lo + span / 2.0)?;
            let logits = model.forward(&adv)?;
            let margin = class_margin(&logits, &labels_t)?.clamp(-cfg.kappa, f32::INFINITY)?;
            let dist = adv.sub(&x_t)?.square()?.flatten(1, -1)?.sum(&[1], false)?;
            let loss = dist.add(&margin.mul(&c_t)?)?.sum(&[0], false)?;
            // Record before stepping: this iterate's distance and prediction.
            let wrong = {
                let _guard = NoGradGuard::new();
                let pred = logits.argmax(1, false)?.to_dtype(DType::F32)?;
                let wrong = pred.ne(&labels_f)?.to_dtype(DType::F32)?;
                best.offer(&adv, &dist.detach(), &pred, &wrong)?;
                wrong
            };
            succeeded_now = succeeded_now.maximum(&wrong)?;
            let grad = crate::autograd::grad(&loss, std::slice::from_ref(&leaf))?;
            let Some(g) = grad.into_iter().next().flatten() else {
                break;
            };
            // Adam (β1 0.9, β2 0.999) on w, each op rounding as the scalar formula does.
            let _guard = NoGradGuard::new();
            let (b1, b2) = (0.9f32, 0.999f32);
            let (c1, c2) = (1.0 - b1.powi(t as i32), 1.0 - b2.powi(t as i32));
            m = m.mul_scalar(b1)?.add(&g.mul_scalar(1.0 - b1)?)?;
            v = v.mul_scalar(b2)?.add(&g.mul_scalar(1.0 - b2)?.mul(&g)?)?;
            let step = m.div(&scalar(c1)?)?.mul_scalar(cfg.lr)?;
            let denominator = v.div(&scalar(c2)?)?.sqrt()?.add_scalar(1e-8)?;
            w = w.sub(&step.div(&denominator)?)?;
        }
        search.update(&succeeded_now.to_device(Device::Cpu)?.to_vec::<f32>()?);
    }
    best.result()
}
