//! Muon (torch.optim.Muon; Keller Jordan et al., 2024) for matrix parameters: SGD momentum
//! whose update is orthogonalized before it is applied, by a few quintic Newton-Schulz
//! iterations `X <- a X + (b A + c A²) X` with `A = X Xᵀ`, which push every singular value of the
//! (Frobenius-normalised) update toward 1. As PyTorch's, the iterations run on bfloat16 values:
//! every intermediate here is rounded to bfloat16 (products accumulate in float32 first). The
//! learning rate is rescaled by the matrix's shape, and weight decay is decoupled.
//!
//! Written as tensor ops applied by `Optimizer::step`, like Adafactor: the iterations are matrix
//! products, not a one-pass elementwise loop. They run on the parameter's device.

use super::adafactor::lerp;
use crate::{Error, NoGradGuard, Result, Tensor};

/// How Muon rescales the learning rate for an `A x B` parameter (PyTorch's `adjust_lr_fn`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum LrAdjustment {
    /// `sqrt(max(1, A / B))` (the default).
    Original,
    /// `0.2 sqrt(max(A, B))`, which matches AdamW's update RMS.
    MatchRmsAdamw,
    /// `sqrt(A / B)`.
    SpectralUnclamped,
}

/// Muon options (torch.optim.Muon), in double precision as the user gave them.
#[derive(Clone, Copy, Debug)]
pub struct MuonConfig {
    pub lr: f64,
    pub weight_decay: f64,
    pub momentum: f64,
    pub nesterov: bool,
    /// The Newton-Schulz coefficients (a, b, c).
    pub ns_coefficients: [f64; 3],
    /// The floor of the update's Frobenius norm before it is normalised.
    pub eps: f64,
    pub ns_steps: u32,
    pub adjust_lr: LrAdjustment,
}

/// The learning rate for a `rows x cols` parameter.
fn adjusted_lr(cfg: &MuonConfig, rows: usize, cols: usize) -> f64 {
    let (rows, cols) = (rows as f64, cols as f64);
    cfg.lr
        * match cfg.adjust_lr {
            LrAdjustment::Original => (rows / cols).max(1.0).sqrt(),
            LrAdjustment::MatchRmsAdamw => 0.2 * rows.max(cols).sqrt(),
            LrAdjustment::SpectralUnclamped => (rows / cols).sqrt(),
        }
}

/// The Newton-Schulz orthogonalization of the matrix `update`, on bfloat16 values. A tall
/// matrix is transposed first so the Gram matrix `X Xᵀ` is the smaller one.
fn orthogonalized(update: &Tensor, cfg: &MuonConfig) -> Result<Tensor> {
    let [a, b, c] = cfg.ns_coefficients.map(|v| v as f32);
    let tall = update.shape()[0] > update.shape()[1];
    let mut x = update.round_to_bf16()?;
    if tall {
        x = x.transpose(0, 1)?.contiguous()?;
    }
    let norm = x
        .square()?
        .sum(&[0, 1], false)?
        .sqrt()?
        .round_to_bf16()?
        .clamp(cfg.eps as f32, f32::INFINITY)?
        .round_to_bf16()?;
    x = x.div(&norm)?.round_to_bf16()?;
    for _ in 0..cfg.ns_steps {
        let gram = x.matmul(&x.transpose(0, 1)?)?.round_to_bf16()?;
        let gram_update = gram
            .mul_scalar(b)?
            .add(&gram.matmul(&gram)?.mul_scalar(c)?)?
            .round_to_bf16()?;
        x = x
            .mul_scalar(a)?
            .add(&gram_update.matmul(&x)?)?
            .round_to_bf16()?;
    }
    match tall {
        true => x.transpose(0, 1)?.contiguous(),
        false => Ok(x),
    }
}

/// One Muon update of the matrix `param` with `grad` and its `momentum_buffer`.
pub(crate) fn muon_update(
    param: &Tensor,
    grad: &Tensor,
    buffer: &Tensor,
    cfg: &MuonConfig,
) -> Result<()> {
    if param.rank() != 2 {
        return Err(Error::arg(
            "Muon",
            "params",
            "2-d (matrix) parameters",
            format!("a parameter of shape {:?}", param.shape()),
        ));
    }
    let _guard = NoGradGuard::new();
    let momentum = cfg.momentum as f32;
    let averaged = lerp(buffer, grad, 1.0 - momentum)?;
    buffer.assign(&averaged)?;
    let direction = match cfg.nesterov {
        true => lerp(grad, &averaged, momentum)?,
        false => averaged,
    };
    let step = orthogonalized(&direction, cfg)?;
    let lr = adjusted_lr(cfg, param.shape()[0], param.shape()[1]);
    let decayed = param.mul_scalar((1.0 - cfg.lr * cfg.weight_decay) as f32)?;
    param.assign(&decayed.add(&step.mul_scalar(-lr as f32)?)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> MuonConfig {
        MuonConfig {
            lr: 0.02,
            weight_decay: 0.0,
            momentum: 0.95,
            nesterov: true,
            ns_coefficients: [3.4445, -4.775, 2.0315],
            eps: 1e-7,
            ns_steps: 5,
            adjust_lr: LrAdjustment::Original,
        }
    }

    #[test]
    fn the_iterations_bring_singular_values_near_one() {
        // diag(3, 0.5): the normalised update has singular values 0.986 and 0.164; five
        // iterations bring both into PyTorch's documented band around 1.
        let g = Tensor::from_vec(vec![3.0f32, 0.0, 0.0, 0.5], &[2, 2]).unwrap();
        let out = orthogonalized(&g, &config())
            .unwrap()
            .to_vec::<f32>()
            .unwrap();
        assert!(out[1] == 0.0 && out[2] == 0.0);
        for v in [out[0], out[3]] {
            assert!((0.5..1.5).contains(&v), "{out:?}");
        }
    }

    #[test]
    fn shapes_scale_the_learning_rate_and_vectors_are_refused() {
        let cfg = config();
        assert!((adjusted_lr(&cfg, 8, 2) - 0.04).abs() < 1e-12);
        assert!((adjusted_lr(&cfg, 2, 8) - 0.02).abs() < 1e-12);
        let vector = Tensor::zeros(&[3], crate::DType::F32, crate::Device::Cpu).unwrap();
        assert!(muon_update(&vector, &vector, &vector, &cfg).is_err());
    }
}
