//! Adamax and RAdam (torch.optim.Adamax, torch.optim.RAdam): Adam's first moment with an
//! infinity-norm second moment, and Adam with the variance of its adaptive rate rectified.

use super::kernels::{adam_item, adam_moments, adam_shared, AdamConfig};
use crate::cpu::simd::wide_fn;
use crate::cuda::optim::ListItem;
use crate::Tensor;

/// Adamax options (torch.optim.Adamax).
#[derive(Clone, Copy, Debug)]
pub struct AdamaxConfig {
    pub lr: f32,
    pub beta1: f32,
    pub beta2: f32,
    pub eps: f32,
    pub weight_decay: f32,
    pub maximize: bool,
}

impl AdamaxConfig {
    /// The constants every parameter shares: sign, weight decay, b1, b2, eps.
    pub(crate) fn shared(&self) -> [f32; 5] {
        let sign = if self.maximize { -1.0 } else { 1.0 };
        [sign, self.weight_decay, self.beta1, self.beta2, self.eps]
    }
}

/// One parameter's Adamax update at 1-based `step`: state `exp_avg` and `exp_inf`, and the
/// step size lr / (1 - b1^t) (in double precision, as PyTorch's Python arithmetic).
pub(crate) fn adamax_item(
    param: &Tensor,
    grad: &Tensor,
    [exp_avg, exp_inf]: [&Tensor; 2],
    cfg: &AdamaxConfig,
    step: u64,
) -> ListItem {
    let bias1 = 1.0 - (cfg.beta1 as f64).powi(step as i32);
    ListItem {
        param: param.clone(),
        grad: grad.clone(),
        states: [Some(exp_avg.clone()), Some(exp_inf.clone()), None],
        own: [(cfg.lr as f64 / bias1) as f32, 0.0, 0.0],
    }
}

/// The larger of `a` and `b`, NaN if either is (as torch.amax, unlike `f32::max`).
#[inline(always)]
fn nan_max(a: f32, b: f32) -> f32 {
    if a.is_nan() || a > b {
        a
    } else {
        b
    }
}

wide_fn! {
    /// Adamax over one chunk, in PyTorch's order: g += wd * p; m += (g - m) * (1 - b1);
    /// u = max(b2 * u, |g| + eps); p -= step_size * m / u.
    pub(crate) fn adamax_chunk(
        p: &mut [f32],
        g: &[f32],
        m: &mut [f32],
        u: &mut [f32],
        step_size: f32,
        shared: [f32; 5],
    ) {
        let [sign, weight_decay, b1, b2, eps] = shared;
        let moments = p.iter_mut().zip(g).zip(m.iter_mut()).zip(u.iter_mut());
        moments.for_each(|(((p, &g), m), u)| {
            let gi = sign * g + weight_decay * *p;
            *m += (gi - *m) * (1.0 - b1);
            *u = nan_max(b2 * *u, gi.abs() + eps);
            *p -= step_size * *m / *u;
        });
    }
}

/// RAdam's constants of 1-based `step` (torch.optim.RAdam takes Adam's options, without amsgrad):
/// 1 - b1^t, sqrt(1 - b2^t), and the rectification term r_t, or 0 while the approximated
/// variance is undefined (rho_t <= 5), when the update is the bias-corrected momentum alone.
fn radam_own(cfg: &AdamConfig, step: u64) -> [f32; 3] {
    let (b1, b2, t) = (cfg.beta1 as f64, cfg.beta2 as f64, step as f64);
    let bias1 = 1.0 - b1.powi(step as i32);
    let bias2 = 1.0 - b2.powi(step as i32);
    let rho_inf = 2.0 / (1.0 - b2) - 1.0;
    let rho_t = rho_inf - 2.0 * t * b2.powi(step as i32) / bias2;
    let rect = if rho_t > 5.0 {
        ((rho_t - 4.0) * (rho_t - 2.0) * rho_inf / ((rho_inf - 4.0) * (rho_inf - 2.0) * rho_t))
            .sqrt()
    } else {
        0.0
    };
    [bias1 as f32, bias2.sqrt() as f32, rect as f32]
}

/// RAdam's shared constants: lr, then Adam's (shrink, l2, b1, b2, eps, sign).
pub(crate) fn radam_shared(cfg: &AdamConfig) -> [f32; 7] {
    let [shrink, l2, b1, b2, eps, sign] = adam_shared(cfg);
    [cfg.lr, shrink, l2, b1, b2, eps, sign]
}

/// One parameter's RAdam update at 1-based `step`: state `exp_avg` and `exp_avg_sq`.
pub(crate) fn radam_item(
    param: &Tensor,
    grad: &Tensor,
    [exp_avg, exp_avg_sq]: [&Tensor; 2],
    cfg: &AdamConfig,
    step: u64,
) -> ListItem {
    ListItem {
        own: radam_own(cfg, step),
        ..adam_item(param, grad, [exp_avg, exp_avg_sq], None, cfg, step)
    }
}

wide_fn! {
    /// RAdam over one chunk, in PyTorch's order: the moments as Adam's, then
    /// p -= (m / (1 - b1^t)) * lr * (sqrt(1 - b2^t) / (sqrt(v) + eps)) * r_t, or without the
    /// adaptive factor while r_t is undefined (0). The branch is taken once per chunk.
    pub(crate) fn radam_chunk(
        p: &mut [f32],
        g: &[f32],
        m: &mut [f32],
        v: &mut [f32],
        own: [f32; 3],
        shared: [f32; 7],
    ) {
        let [bias1, bias2_sqrt, rect] = own;
        let [lr, shrink, l2, b1, b2, eps, sign] = shared;
        let moments = p.iter_mut().zip(g).zip(m.iter_mut()).zip(v.iter_mut());
        let update = |p: &mut f32, g: f32, m: &mut f32, v: &mut f32| -> f32 {
            *p *= shrink;
            adam_moments(*p, g, m, v, [sign, l2, b1, b2]);
            *m / bias1 * lr
        };
        if rect > 0.0 {
            moments.for_each(|(((p, &g), m), v)| {
                let step = update(p, g, m, v);
                *p -= step * (bias2_sqrt / (v.sqrt() + eps)) * rect;
            });
        } else {
            moments.for_each(|(((p, &g), m), v)| {
                let step = update(p, g, m, v);
                *p -= step;
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn radam_rectifies_from_the_sixth_step_with_the_default_betas() {
        // rho_t = rho_inf - 2 t b2^t / (1 - b2^t) first exceeds 5 at t = 6 for b2 = 0.999.
        let cfg = AdamConfig::defaults(1e-3);
        assert_eq!(radam_own(&cfg, 5)[2], 0.0);
        let r6 = radam_own(&cfg, 6)[2];
        assert!(r6 > 0.0 && r6 < 1.0, "{r6}");
        // The rectification tends to 1 as t grows.
        let late = radam_own(&cfg, 100_000)[2];
        assert!((late - 1.0).abs() < 1e-3, "{late}");
    }

    #[test]
    fn adamax_keeps_nan_in_the_infinity_norm() {
        assert!(nan_max(f32::NAN, 1.0).is_nan());
        assert!(nan_max(1.0, f32::NAN).is_nan());
        assert_eq!(nan_max(2.0, 1.0), 2.0);
    }
}
