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
