//! Carlini-Wagner L2 (2017). Each sample's input is reparametrised as
//! `x' = lo + (hi - lo) (tanh(w) + 1) / 2`, so the bounds hold by construction, and Adam minimises
//! `||x' - x||^2 + c * max(z_y - max_{j != y} z_j, -kappa)` over `w`. A binary search over `c`
//! (per sample: halve the interval toward smaller `c` after a success, grow it after a failure)
//! keeps the smallest successful perturbation found.

use super::objective::{class_margin, predictions};
use super::pgd::{BatchResult, FrozenParameters};
use crate::nn::Module;
use crate::{Result, Tensor};

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

/// CW-L2 on one batch with true `labels` (untargeted).
pub fn cw_batch(
    model: &dyn Module,
    x: &[f32],
    shape: &[usize],
    labels: &[i64],
    cfg: &CwConfig,
) -> Result<BatchResult> {
    let _frozen = FrozenParameters::new(model)?;
    let batch = shape.first().copied().unwrap_or(0);
    let dim = x.len() / batch.max(1);
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
    let labels_t = Tensor::from_vec(labels.to_vec(), &[batch])?;
    let x_t = Tensor::from_vec(x.to_vec(), shape)?;
    let mut out = BatchResult {
        adversarial: x.to_vec(),
        success: vec![false; batch],
        predictions: vec![0; batch],
    };
    let mut best_l2 = vec![f32::INFINITY; batch];
    let (mut c, mut low, mut high) = (
        vec![cfg.c; batch],
        vec![0f32; batch],
        vec![f32::INFINITY; batch],
    );
    for _ in 0..cfg.search_steps.max(1) {
        let mut w = w0.clone();
        let (mut m, mut v) = (vec![0f32; w.len()], vec![0f32; w.len()]);
        let mut succeeded_now = vec![false; batch];
        let c_t = Tensor::from_vec(c.clone(), &[batch])?;
        for t in 1..=cfg.steps {
            let leaf = Tensor::from_vec(w.clone(), shape)?;
            leaf.set_requires_grad(true)?;
            let adv = leaf.tanh()?.affine(span / 2.0, lo + span / 2.0)?;
            let logits = model.forward(&adv)?;
            let margin = class_margin(&logits, &labels_t)?.clamp(-cfg.kappa, f32::INFINITY)?;
            let dist = adv.sub(&x_t)?.square()?.flatten(1, -1)?.sum(&[1], false)?;
            let loss = dist.add(&margin.mul(&c_t)?)?.sum(&[0], false)?;
            // Record before stepping: this iterate's distance and prediction.
            let (dists, preds) = (dist.to_vec::<f32>()?, predictions(&logits.detach())?);
            let adv_values = adv.detach().contiguous()?.to_vec::<f32>()?;
            for i in 0..batch {
                if preds[i] != labels[i] {
                    succeeded_now[i] = true;
                    if dists[i] < best_l2[i] {
                        best_l2[i] = dists[i];
                        out.success[i] = true;
                        out.predictions[i] = preds[i];
                        out.adversarial[i * dim..(i + 1) * dim]
                            .copy_from_slice(&adv_values[i * dim..(i + 1) * dim]);
                    }
                } else if !out.success[i] {
                    out.predictions[i] = preds[i];
                }
            }
            let grad = crate::autograd::grad(&loss, std::slice::from_ref(&leaf))?;
            let Some(g) = grad.into_iter().next().flatten() else {
                break;
            };
            let g = g.contiguous()?.to_vec::<f32>()?;
            // Adam (β1 0.9, β2 0.999) on w.
            let (b1, b2) = (0.9f32, 0.999f32);
            let (c1, c2) = (1.0 - b1.powi(t as i32), 1.0 - b2.powi(t as i32));
            for j in 0..w.len() {
                m[j] = b1 * m[j] + (1.0 - b1) * g[j];
                v[j] = b2 * v[j] + (1.0 - b2) * g[j] * g[j];
                w[j] -= cfg.lr * (m[j] / c1) / ((v[j] / c2).sqrt() + 1e-8);
            }
        }
        for i in 0..batch {
            if succeeded_now[i] {
                high[i] = high[i].min(c[i]);
                c[i] = (low[i] + high[i]) / 2.0;
            } else {
                low[i] = low[i].max(c[i]);
                c[i] = if high[i].is_finite() {
                    (low[i] + high[i]) / 2.0
                } else {
                    c[i] * 10.0
                };
            }
        }
    }
    Ok(out)
}
