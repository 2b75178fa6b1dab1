//! DeepFool (Moosavi-Dezfooli et al., 2016), L2: linearise the classifier around the current
//! point, step to the nearest linearised decision boundary (`|f_k| / ||w_k||` over the other
//! classes k, with `f_k = z_k - z_y` and `w_k` its input gradient), and repeat until the label
//! changes. The accumulated step is scaled by `1 + overshoot` so points land past the boundary.

use super::batch::per_sample;
use super::host_view::model_device;
use super::jacobian::logit_jacobian;
use super::pgd::{BatchResult, FrozenParameters};
use crate::nn::Module;
use crate::{DType, Device, NoGradGuard, Result, Tensor};

/// A DeepFool run.
#[derive(Clone, Debug)]
pub struct DeepFoolConfig {
    pub steps: usize,
    pub overshoot: f32,
    pub bounds: (f32, f32),
}

/// DeepFool on one batch with true `labels`. The iterate and the accumulated step stay on the
/// model's device; the host reads, once per iteration, whether any sample is still classified
/// correctly.
pub fn deepfool_batch(
    model: &dyn Module,
    x: &[f32],
    shape: &[usize],
    labels: &[i64],
    cfg: &DeepFoolConfig,
) -> Result<BatchResult> {
    let _frozen = FrozenParameters::new(model)?;
    let device = model_device(model);
    let batch = shape.first().copied().unwrap_or(0);
    let (lo, hi) = cfg.bounds;
    let x_t = Tensor::from_vec(x.to_vec(), shape)?.to_device(device)?;
    let labels_t = Tensor::from_vec(labels.to_vec(), &[batch])?.to_device(device)?;
    let labels_f = labels_t.to_dtype(DType::F32)?;
    let flat = |t: &Tensor| t.reshape(&[batch, t.numel() / batch.max(1)]);
    let mut total = flat(&x_t.zeros_like()?)?;
    let mut adv = x_t.clone();
    let mut pred = labels_f.clone();
    for iteration in 0..=cfg.steps {
        let leaf = adv.detach();
        leaf.set_requires_grad(true)?;
        let logits = model.forward(&leaf)?;
        let classes = logits.shape()[1];
        let z = logits.detach();
        pred = z.argmax(1, false)?.to_dtype(DType::F32)?;
        let active = pred.eq(&labels_f)?.to_dtype(DType::F32)?;
        let still_right = active.sum(&[0], false)?.item()? > 0.0;
        if !still_right || iteration == cfg.steps {
            break;
        }
        // Input gradients of every class logit (one backward pass per class), as [B, C, D].
        let grads = logit_jacobian(&logits, &leaf)?
            .iter()
            .map(flat)
            .collect::<Result<Vec<_>>>()?;
        let _guard = NoGradGuard::new();
        let grads = Tensor::stack(&grads, 1)?;
        let dim = grads.shape()[2];
        // w_k = grad z_k - grad z_y and f_k = z_k - z_y for every class k.
        let own = labels_t.reshape(&[batch, 1])?;
        let own_grad = grads.gather(1, &own.reshape(&[batch, 1, 1])?.expand(&[batch, 1, dim])?)?;
        let w = grads.sub(&own_grad)?;
        let f = z.sub(&z.gather(1, &own)?)?;
        let w2 = w.square()?.sum(&[2], false)?;
        // Distance to each linearised boundary; the true class is out of the running.
        let distance = f.abs()?.div(&w2.sqrt()?.clamp(1e-12, f32::INFINITY)?)?;
        let distance = labels_t
            .one_hot(classes)?
            .gt_scalar(0.5)?
            .where_cond(&Tensor::scalar(f32::INFINITY, device)?, &distance)?;
        let nearest = distance.argmin(1, true)?;
        let f_nearest = f.gather(1, &nearest)?.abs()?;
        let w2_nearest = w2.gather(1, &nearest)?;
        let scale = f_nearest
            .add_scalar(1e-4)?
            .div(&w2_nearest.clamp(1e-12, f32::INFINITY)?)?;
        let w_nearest = w
            .gather(
                1,
                &nearest.reshape(&[batch, 1, 1])?.expand(&[batch, 1, dim])?,
            )?
            .squeeze(Some(1))?;
        let moving = per_sample(&active.gt_scalar(0.5)?, 2)?;
        total = moving.where_cond(&total.add(&w_nearest.mul(&scale)?)?, &total)?;
        let stepped = total
            .mul_scalar(1.0 + cfg.overshoot)?
            .add(&flat(&x_t)?)?
            .clamp(lo, hi)?;
        adv = moving.where_cond(&stepped, &flat(&adv)?)?.reshape(shape)?;
    }
    let host = |t: &Tensor| t.to_device(Device::Cpu)?.to_vec::<f32>();
    let predictions: Vec<i64> = host(&pred)?.iter().map(|&p| p as i64).collect();
    Ok(BatchResult {
        success: predictions
            .iter()
            .zip(labels)
            .map(|(p, y)| p != y)
            .collect(),
        adversarial: host(&adv.contiguous()?)?,
        predictions,
    })
}
