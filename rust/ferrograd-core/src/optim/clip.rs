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
        // Reading the norm back is the one wait for the device.
        return match clip_on_device(&grads, max_norm, norm_type)? {
            Some(total) => Ok(total.item()? as f32),
            None => Ok(0.0),
        };
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

/// The same clipping with the norm and the scale kept on the gradients' device, so nothing waits
/// for it (`fit`'s `grad_clip` uses it in every step); returns the norm as a device scalar, `None`
/// without gradients. The scale `min(1, max_norm / (norm + 1e-6))` multiplies every gradient:
/// by exactly 1 when no clipping is needed, which leaves them bit for bit.
pub fn clip_on_device(grads: &[Tensor], max_norm: f32, norm_type: f32) -> Result<Option<Tensor>> {
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
    let Some(total) = total else { return Ok(None) };
    let total = match norm_type.is_infinite() {
        true => total,
        false => total.powf(1.0 / norm_type)?,
    };
    let coef = total
        .add_scalar(1e-6)?
        .recip()?
        .mul_scalar(max_norm)?
        .clamp(f32::NEG_INFINITY, 1.0)?;
    for g in grads {
        g.assign(&g.mul(&coef.to_device(g.device())?)?)?;
    }
    Ok(Some(total))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::random_leaf;

    /// Leaves whose gradients are random, scaled by `scale`.
    fn with_grads(scale: f32) -> Vec<Tensor> {
        [[4usize, 5].as_slice(), &[7]]
            .iter()
            .enumerate()
            .map(|(i, shape)| {
                let p = random_leaf(shape, 20 + i as u64);
                let w = random_leaf(shape, 30 + i as u64)
                    .detach()
                    .mul_scalar(scale)
                    .unwrap();
                p.mul(&w)
                    .unwrap()
                    .sum(&[], false)
                    .unwrap()
                    .backward(None)
                    .unwrap();
                p
            })
            .collect()
    }

    /// The device form (norm and scale as tensors, run here on the CPU's kernels) against the host
    /// form: the same norm and the same clipped gradients, for the 2-norm and the max-norm, when
    /// clipping and when not (where the gradients must stay bit for bit).
    #[test]
    fn device_clipping_matches_the_host_form() {
        for (scale, norm_type) in [(3.0, 2.0), (3.0, f32::INFINITY), (1e-3, 2.0)] {
            let (host, device) = (with_grads(scale), with_grads(scale));
            let before: Vec<Vec<f32>> = host
                .iter()
                .map(|p| p.grad().unwrap().to_vec().unwrap())
                .collect();
            let expected = clip_grad_norm(&host, 1.0, norm_type).unwrap();
            let grads: Vec<Tensor> = device.iter().filter_map(|p| p.grad()).collect();
            let total = clip_on_device(&grads, 1.0, norm_type).unwrap().unwrap();
            let total = total.item().unwrap() as f32;
            assert!(
                (total - expected).abs() <= 1e-5 * expected,
                "{total} vs {expected}"
            );
            for ((h, d), b) in host.iter().zip(&device).zip(&before) {
                let (h, d) = (
                    h.grad().unwrap().to_vec::<f32>().unwrap(),
                    d.grad().unwrap().to_vec::<f32>().unwrap(),
                );
                for (x, y) in h.iter().zip(&d) {
                    assert!((x - y).abs() <= 1e-6 * (1.0 + x.abs()), "{x} vs {y}");
                }
                if expected < 1.0 {
                    assert_eq!(&d, b);
                }
            }
        }
    }
}
