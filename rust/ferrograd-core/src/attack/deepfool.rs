//! DeepFool (Moosavi-Dezfooli et al., 2016), L2: linearise the classifier around the current
//! point, step to the nearest linearised decision boundary (`|f_k| / ||w_k||` over the other
//! classes k, with `f_k = z_k - z_y` and `w_k` its input gradient), and repeat until the label
//! changes. The accumulated step is scaled by `1 + overshoot` so points land past the boundary.

use super::pgd::{BatchResult, FrozenParameters};
use crate::nn::Module;
use crate::{Result, Tensor};

/// A DeepFool run.
#[derive(Clone, Debug)]
pub struct DeepFoolConfig {
    pub steps: usize,
    pub overshoot: f32,
    pub bounds: (f32, f32),
}

/// DeepFool on one batch with true `labels`.
pub fn deepfool_batch(
    model: &dyn Module,
    x: &[f32],
    shape: &[usize],
    labels: &[i64],
    cfg: &DeepFoolConfig,
) -> Result<BatchResult> {
    let _frozen = FrozenParameters::new(model)?;
    let batch = shape.first().copied().unwrap_or(0);
    let dim = x.len() / batch.max(1);
    let (lo, hi) = cfg.bounds;
    let mut total = vec![0f32; x.len()];
    let mut adv = x.to_vec();
    let mut pred = vec![0i64; batch];
    for iteration in 0..=cfg.steps {
        let leaf = Tensor::from_vec(adv.clone(), shape)?;
        leaf.set_requires_grad(true)?;
        let logits = model.forward(&leaf)?;
        let classes = logits.shape()[1];
        let z = logits.detach().contiguous()?.to_vec::<f32>()?;
        pred = super::objective::predictions(&logits.detach())?;
        let active: Vec<usize> = (0..batch).filter(|&i| pred[i] == labels[i]).collect();
        if active.is_empty() || iteration == cfg.steps {
            break;
        }
        // Input gradients of every class logit (one backward pass per class).
        let mut grads = Vec::with_capacity(classes);
        for k in 0..classes {
            let zk = logits.narrow(1, k, 1)?.sum(&[0, 1], false)?;
            let g = crate::autograd::grad(&zk, std::slice::from_ref(&leaf))?;
            grads.push(match g.into_iter().next().flatten() {
                Some(g) => g.contiguous()?.to_vec::<f32>()?,
                None => vec![0.0; x.len()],
            });
        }
        for &i in &active {
            let y = labels[i] as usize;
            let s = i * dim..(i + 1) * dim;
            let mut best: Option<(f32, usize, f32)> = None; // (distance, class, ||w||^2)
            for k in (0..classes).filter(|&k| k != y) {
                let f = z[i * classes + k] - z[i * classes + y];
                let w2: f32 = grads[k][s.clone()]
                    .iter()
                    .zip(&grads[y][s.clone()])
                    .map(|(a, b)| (a - b) * (a - b))
                    .sum();
                let dist = f.abs() / w2.sqrt().max(1e-12);
                if best.is_none_or(|(d, _, _)| dist < d) {
                    best = Some((dist, k, w2));
                }
            }
            let Some((_, k, w2)) = best else { continue };
            let f = (z[i * classes + k] - z[i * classes + y]).abs();
            let scale = (f + 1e-4) / w2.max(1e-12);
            for (j, t) in total[s.clone()].iter_mut().enumerate() {
                *t += scale * (grads[k][s.start + j] - grads[y][s.start + j]);
            }
            for (j, a) in adv[s.clone()].iter_mut().enumerate() {
                *a = (x[s.start + j] + (1.0 + cfg.overshoot) * total[s.start + j]).clamp(lo, hi);
            }
        }
    }
    Ok(BatchResult {
        success: pred.iter().zip(labels).map(|(p, y)| p != y).collect(),
        adversarial: adv,
        predictions: pred,
    })
}
