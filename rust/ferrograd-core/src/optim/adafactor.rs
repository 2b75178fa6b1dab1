//! Adafactor (torch.optim.Adafactor; Shazeer and Stern, 2018). For a parameter of rank ≥ 2 the
//! second moment is factored: running means of the squared gradient over the last axis (`row_var`,
//! the last axis kept as 1) and over the one before it (`col_var`), whose outer product over the
//! mean row factor estimates it, in `R + C` values per matrix instead of `R C`. A vector keeps a
//! full `variance`. The step is relative to the parameter's size, `max(eps2, RMS(p)) *
//! min(lr, 1 / sqrt(t))`, the running means weigh the new value by `t^beta2_decay`, and the update
//! is scaled down when its RMS exceeds `d`.
//!
//! Unlike the fused rules, this one is written as tensor ops: its reductions (row and column
//! means, and two RMS values the step size reads back, as PyTorch's `.item()` calls do) do not fit
//! a one-pass elementwise loop. It runs on the parameter's device either way.

use crate::{NoGradGuard, Result, Tensor};

/// Adafactor options (torch.optim.Adafactor), in double precision as the user gave them.
#[derive(Clone, Copy, Debug)]
pub struct AdafactorConfig {
    pub lr: f64,
    pub beta2_decay: f64,
    /// The floor of the variance estimate's root (float32's machine epsilon when not given).
    pub eps1: Option<f64>,
    /// The floor of the parameter's RMS in the step size.
    pub eps2: f64,
    /// The RMS an update is clipped to.
    pub d: f64,
    pub weight_decay: f64,
    pub maximize: bool,
}

/// The state shape of buffer `name` for a parameter of `shape`: the row factor keeps the last
/// axis as 1, the column factor the one before it; other buffers have the parameter's shape.
pub(crate) fn factor_shape(name: &str, shape: &[usize]) -> Vec<usize> {
    let mut out = shape.to_vec();
    let rank = out.len();
    match name {
        "row_var" if rank >= 2 => out[rank - 1] = 1,
        "col_var" if rank >= 2 => out[rank - 2] = 1,
        _ => {}
    }
    out
}

/// `start + weight (end - start)` as torch.lerp computes it: from `end` for weights ≥ 0.5.
pub(super) fn lerp(start: &Tensor, end: &Tensor, weight: f32) -> Result<Tensor> {
    let diff = end.sub(start)?;
    match weight < 0.5 {
        true => start.add(&diff.mul_scalar(weight)?),
        false => end.sub(&diff.mul_scalar(1.0 - weight)?),
    }
}

/// The root mean square of `t`'s values, read back in double precision.
fn rms(t: &Tensor) -> Result<f64> {
    let axes: Vec<isize> = (0..t.rank() as isize).collect();
    let norm = t.square()?.sum(&axes, false)?.sqrt()?.item()?;
    Ok(norm / (t.numel().max(1) as f64).sqrt())
}

/// One Adafactor update of `param` with `grad` at 1-based `step`. `factors` holds `row_var` and
/// `col_var` for a parameter of rank ≥ 2, else `variance` (and `None`).
pub(crate) fn adafactor_update(
    param: &Tensor,
    grad: &Tensor,
    factors: (&Tensor, Option<&Tensor>),
    step: u64,
    cfg: &AdafactorConfig,
) -> Result<()> {
    let _guard = NoGradGuard::new();
    let grad = match cfg.maximize {
        true => grad.neg()?,
        false => grad.clone(),
    };
    let eps1 = cfg.eps1.unwrap_or(f32::EPSILON as f64);
    let t = step as f64;
    let new_weight = t.powf(cfg.beta2_decay) as f32;
    let relative = cfg.lr.min(1.0 / t.sqrt());
    // The step size reads the parameter before its weight decay.
    let alpha = cfg.eps2.max(rms(param)?) * relative;
    let mut value = param.clone();
    if cfg.weight_decay != 0.0 {
        value = value.mul_scalar((1.0 - cfg.lr * cfg.weight_decay) as f32)?;
    }
    let estimate = match factors {
        (row_var, Some(col_var)) => {
            let rank = grad.rank() as isize;
            let squared = grad.square()?;
            let rows = lerp(row_var, &squared.mean(&[rank - 1], true)?, new_weight)?;
            let cols = lerp(col_var, &squared.mean(&[rank - 2], true)?, new_weight)?;
            row_var.assign(&rows)?;
            col_var.assign(&cols)?;
            let scale = rows
                .mean(&[rank - 2], true)?
                .clamp(eps1 as f32, f32::INFINITY)?;
            rows.mul(&cols)?.div(&scale)?
        }
        (variance, None) => {
            let updated = lerp(variance, &grad.square()?, new_weight)?;
            variance.assign(&updated)?;
            updated
        }
    };
    let update = estimate
        .clamp((eps1 * eps1) as f32, f32::INFINITY)?
        .sqrt()?
        .recip()?
        .mul(&grad)?;
    let denom = (rms(&update)? / cfg.d).max(1.0);
    param.assign(&value.add(&update.mul_scalar((-alpha / denom) as f32)?)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn factor_shapes_keep_one_axis_as_one() {
        assert_eq!(factor_shape("row_var", &[4, 3, 5]), vec![4, 3, 1]);
        assert_eq!(factor_shape("col_var", &[4, 3, 5]), vec![4, 1, 5]);
        assert_eq!(factor_shape("variance", &[7]), vec![7]);
    }

    /// A vector's first step: the variance is `g^2` (weight 1^-0.8 = 1), so the update is
    /// sign(g) with RMS 1, and the step size is `max(eps2, RMS(p)) * min(lr, 1)`.
    #[test]
    fn a_vectors_first_step_moves_by_the_relative_step_size() {
        let p = Tensor::from_vec(vec![3.0f32, -4.0], &[2]).unwrap();
        let g = Tensor::from_vec(vec![0.5f32, -2.0], &[2]).unwrap();
        let v = Tensor::zeros(&[2], crate::DType::F32, crate::Device::Cpu).unwrap();
        let cfg = AdafactorConfig {
            lr: 0.1,
            beta2_decay: -0.8,
            eps1: None,
            eps2: 1e-3,
            d: 1.0,
            weight_decay: 0.0,
            maximize: false,
        };
        adafactor_update(&p, &g, (&v, None), 1, &cfg).unwrap();
        // RMS(p) = sqrt((9 + 16) / 2); the step 0.1 * that along -sign(g).
        let size = 0.1 * (12.5f32).sqrt();
        let got = p.to_vec::<f32>().unwrap();
        assert!((got[0] - (3.0 - size)).abs() < 1e-5 && (got[1] - (-4.0 + size)).abs() < 1e-5);
        assert_eq!(v.to_vec::<f32>().unwrap(), vec![0.25, 4.0]);
    }
}
