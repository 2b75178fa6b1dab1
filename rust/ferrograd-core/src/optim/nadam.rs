//! NAdam (torch.optim.NAdam): Adam with Nesterov momentum, whose momentum coefficient
//! mu_t = b1 (1 - 0.5 * 0.96^(t psi)) warms up with the momentum decay psi. The running product
//! of the mu_t is per-parameter state (`mu_product`, a 0-d float32 tensor on the CPU, as PyTorch
//! keeps it), updated in float32 as PyTorch's in-place multiply does.

use super::arith::{addcdiv, single};
use super::kernels::{adam_item, adam_moments, adam_shared, py_pow, AdamConfig, MomentRule};
use crate::cpu::simd::wide_fn;
use crate::cuda::optim::ListItem;
use crate::{Device, Error, Result, Tensor};

/// NAdam options: Adam's (amsgrad unused; `decoupled_weight_decay` decays as AdamW) and the
/// momentum decay psi.
#[derive(Clone, Copy, Debug)]
pub struct NadamConfig {
    pub adam: AdamConfig,
    pub momentum_decay: f64,
}

impl NadamConfig {
    /// mu_t at 1-based `step`, in double as PyTorch's Python arithmetic computes it.
    fn mu(&self, step: u64) -> f64 {
        let decay = py_pow(0.96, step as f64 * self.momentum_decay);
        self.adam.beta1 * (1.0 - 0.5 * decay)
    }
}

/// The 0-d float32 CPU tensor holding `value`, the form of `mu_product` (and ASGD's `eta`, `mu`).
pub(crate) fn scalar_state(value: f32) -> Result<Tensor> {
    Tensor::from_vec(vec![value], &[])
}

/// The one float32 value of the state entry `name`.
pub(crate) fn scalar_value(state: &Tensor, name: &str) -> Result<f32> {
    match state.to_device(Device::Cpu)?.to_vec::<f32>()?.as_slice() {
        [value] => Ok(*value),
        other => Err(Error::shape(
            "optimizer step",
            format!("state `{name}` must hold one value, got {}", other.len()),
        )),
    }
}

/// Advances `mu_product` (one float32 value; left on the CPU) by mu_t, in float32, and returns the
/// per-parameter constants of 1-based `step`: 1 - b2^t and the coefficients of the gradient and
/// of the momentum in the update, -lr (1 - mu_t) / (1 - prod mu_i) and
/// -lr mu_{t+1} / (1 - mu_{t+1} prod mu_i).
fn nadam_own(cfg: &NadamConfig, step: u64, mu_product: &mut Tensor) -> Result<[f32; 3]> {
    let previous = scalar_value(mu_product, "mu_product")?;
    let (mu, mu_next) = (cfg.mu(step), cfg.mu(step + 1));
    let product = previous * mu as f32;
    *mu_product = scalar_state(product)?;
    let lr = cfg.adam.lr;
    let bias2 = 1.0 - py_pow(cfg.adam.beta2, step as f64);
    let grad_coef = -lr * (1.0 - mu) / (1.0 - product as f64);
    let momentum_coef = -lr * mu_next / (1.0 - product as f64 * mu_next);
    Ok([single(bias2), single(grad_coef), single(momentum_coef)])
}

/// One parameter's NAdam update at 1-based `step`: state `exp_avg`, `exp_avg_sq` and
/// `mu_product` (advanced here).
pub(crate) fn nadam_item(
    param: &Tensor,
    grad: &Tensor,
    [exp_avg, exp_avg_sq]: [&Tensor; 2],
    mu_product: &mut Tensor,
    cfg: &NadamConfig,
    step: u64,
) -> Result<ListItem> {
    Ok(ListItem {
        own: nadam_own(cfg, step, mu_product)?,
        ..adam_item(param, grad, [exp_avg, exp_avg_sq], None, &cfg.adam, step)
    })
}

/// NAdam's shared constants: Adam's (shrink, l2, 1 - b1, b2, 1 - b2, eps, sign).
pub(crate) fn nadam_shared(cfg: &NadamConfig) -> [f32; 7] {
    adam_shared(&cfg.adam)
}

wide_fn! {
    /// NAdam over one chunk, in PyTorch's ops: the moments as Adam's, then with
    /// d = v.div(1 - b2^t).sqrt().add_(eps), p.addcdiv_(g, d, value=c_g) and
    /// p.addcdiv_(m, d, value=c_m).
    pub(crate) fn nadam_chunk(
        p: &mut [f32],
        g: &[f32],
        m: &mut [f32],
        v: &mut [f32],
        own: [f32; 3],
        shared: [f32; 7],
    ) {
        let [bias2, grad_coef, momentum_coef] = own;
        let [shrink, l2, w1, b2, w2, eps, sign] = shared;
        let rule = MomentRule { sign, l2, w1, b2, w2 };
        let moments = p.iter_mut().zip(g).zip(m.iter_mut()).zip(v.iter_mut());
        moments.for_each(|(((p, &g), m), v)| {
            *p *= shrink;
            let gi = adam_moments(*p, g, m, v, rule);
            let denom = (*v / bias2).sqrt() + eps;
            *p = addcdiv(*p, gi, denom, grad_coef);
            *p = addcdiv(*p, *m, denom, momentum_coef);
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nadam() -> NadamConfig {
        NadamConfig {
            adam: AdamConfig::defaults(2e-3),
            momentum_decay: 4e-3,
        }
    }

    #[test]
    fn mu_product_accumulates_in_float32() {
        let cfg = nadam();
        let mut product = scalar_state(1.0).unwrap();
        let mut expected = 1.0f32;
        for step in 1..=5 {
            nadam_own(&cfg, step, &mut product).unwrap();
            expected *= cfg.mu(step) as f32;
        }
        assert_eq!(product.to_vec::<f32>().unwrap(), vec![expected]);
        // The warm-up: mu_1 = b1 (1 - 0.5 * 0.96^0.004), about half of b1.
        assert!((cfg.mu(1) - 0.9 * (1.0 - 0.5 * 0.96f64.powf(0.004))).abs() < 1e-15);
    }

    #[test]
    fn a_mu_product_of_several_values_is_an_error() {
        let mut bad = Tensor::from_vec(vec![1.0f32, 1.0], &[2]).unwrap();
        let err = nadam_own(&nadam(), 1, &mut bad).unwrap_err().to_string();
        assert!(err.contains("mu_product"), "{err}");
    }
}
