//! Gradient clipping by global norm (torch.nn.utils.clip_grad_norm_).

use crate::{Error, Result, Tensor};

/// Scales the `.grad` of every parameter in place so their global `norm_type`-norm is at most
/// `max_norm` (factor `max_norm / (total + 1e-6)`, applied only when below 1); returns the norm
/// before clipping. `norm_type` may be `f32::INFINITY`.
pub fn clip_grad_norm(params: &[Tensor], max_norm: f32, norm_type: f32) -> Result<f32> {
    if norm_type <= 0.0 || norm_type.is_nan() {
        return Err(Error::arg(
            "clip_grad_norm",
            "norm_type",
            "a positive number or inf",
            norm_type,
        ));
    }
    let grads: Vec<Tensor> = params.iter().filter_map(|p| p.grad()).collect();
    if grads.iter().any(|g| g.device() != crate::Device::Cpu) {
        return clip_on_device(&grads, max_norm, norm_type);
    }
    let mut total = 0f64;
    for g in &grads {
        let v = g.to_vec::<f32>()?;
        if norm_type.is_infinite() {
            total = v.iter().fold(total, |m, x| m.max(x.abs() as f64));
        } else {
            total += v
                .iter()
                .map(|x| (x.abs() as f64).powf(norm_type as f64))
                .sum::<f64>();
        }
    }
    let total = if norm_type.is_infinite() {
        total
    } else {
        total.powf(1.0 / norm_type as f64)
    } as f32;
    let coef = max_norm / (total + 1e-6);
    if coef < 1.0 {
        for g in &grads {
            g.assign(&g.mul_scalar(coef)?)?;
        }
    }
    Ok(total)
}

/// The same clipping with the norm reduced on the gradients' device; reading the norm back is the
/// one wait for the device.
fn clip_on_device(grads: &[Tensor], max_norm: f32, norm_type: f32) -> Result<f32> {
    let _no_grad = crate::NoGradGuard::new();
    let mut total: Option<Tensor> = None;
    for g in grads {
        let part = if norm_type.is_infinite() {
            g.abs()?.max_all()?
        } else {
            g.abs()?.powf(norm_type)?.sum(&[], false)?
        };
        total = Some(match total {
            None => part,
            Some(t) if norm_type.is_infinite() => t.maximum(&part.to_device(t.device())?)?,
            Some(t) => t.add(&part.to_device(t.device())?)?,
        });
    }
    let Some(total) = total else { return Ok(0.0) };
    let total = if norm_type.is_infinite() {
        total.item()?
    } else {
        total.item()?.powf(1.0 / norm_type as f64)
    } as f32;
    let coef = max_norm / (total + 1e-6);
    if coef < 1.0 {
        for g in grads {
            g.assign(&g.mul_scalar(coef)?)?;
        }
    }
    Ok(total)
}
