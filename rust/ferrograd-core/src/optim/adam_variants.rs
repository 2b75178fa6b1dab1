//! Adamax and RAdam (torch.optim.Adamax, torch.optim.RAdam): Adam's first moment with an
//! infinity-norm second moment, and Adam with the variance of its adaptive rate rectified.

use super::arith::{addcdiv, decayed_grad, lerp, nan_max, single};
use super::kernels::{adam_item, adam_moments, adam_shared, py_pow, AdamConfig, MomentRule};
use crate::cpu::simd::wide_fn;
use crate::cuda::optim::ListItem;
use crate::Tensor;

/// Adamax options (torch.optim.Adamax), in double precision as the user gave them.
#[derive(Clone, Copy, Debug)]
pub struct AdamaxConfig {
    pub lr: f64,
    pub beta1: f64,
    pub beta2: f64,
    pub eps: f64,
    pub weight_decay: f64,
    pub maximize: bool,
}

impl AdamaxConfig {
    /// The float32 constants every parameter shares: sign, weight decay, 1 - b1, b2, eps.
    pub(crate) fn shared(&self) -> [f32; 5] {
        let sign = if self.maximize { -1.0 } else { 1.0 };
        [
            sign,
            single(self.weight_decay),
            single(1.0 - self.beta1),
            single(self.beta2),
            single(self.eps),
        ]
    }
}

/// One parameter's Adamax update at 1-based `step`: state `exp_avg` and `exp_inf`, and
/// -lr / (1 - b1^t) (in double precision, as PyTorch's Python arithmetic).
pub(crate) fn adamax_item(
    param: &Tensor,
    grad: &Tensor,
    [exp_avg, exp_inf]: [&Tensor; 2],
    cfg: &AdamaxConfig,
    step: u64,
) -> ListItem {
    let bias1 = 1.0 - py_pow(cfg.beta1, step as f64);
    ListItem {
        param: param.clone(),
        grad: grad.clone(),
        states: [Some(exp_avg.clone()), Some(exp_inf.clone()), None],
        own: [single(-(cfg.lr / bias1)), 0.0, 0.0],
    }
}

wide_fn! {
    /// Adamax over one chunk, in PyTorch's ops: g = g.add(p, alpha=wd); m.lerp_(g, 1 - b1);
    /// u = maximum(u.mul_(b2), g.abs().add_(eps)); p.addcdiv_(m, u, value=-step_size).
    pub(crate) fn adamax_chunk(
        p: &mut [f32],
        g: &[f32],
        m: &mut [f32],
        u: &mut [f32],
        neg_step_size: f32,
        shared: [f32; 5],
    ) {
        let [sign, weight_decay, w1, b2, eps] = shared;
        let moments = p.iter_mut().zip(g).zip(m.iter_mut()).zip(u.iter_mut());
        moments.for_each(|(((p, &g), m), u)| {
            let gi = decayed_grad(g, *p, sign, weight_decay);
            *m = lerp(*m, gi, w1);
            *u = nan_max(*u * b2, gi.abs() + eps);
            *p = addcdiv(*p, *m, *u, neg_step_size);
        });
    }
}

/// RAdam's constants of 1-based `step` (torch.optim.RAdam takes Adam's options, without amsgrad):
/// 1 - b1^t, sqrt(1 - b2^t), and the rectification term r_t, or 0 while the approximated
/// variance is undefined (rho_t <= 5), when the update is the bias-corrected momentum alone.
/// Computed in double in PyTorch's order.
fn radam_own(cfg: &AdamConfig, step: u64) -> [f32; 3] {
    let (b1, b2, t) = (cfg.beta1, cfg.beta2, step as f64);
    let bias1 = 1.0 - py_pow(b1, t);
    let bias2 = 1.0 - py_pow(b2, t);
    let rho_inf = 2.0 / (1.0 - b2) - 1.0;
    let rho_t = rho_inf - 2.0 * t * py_pow(b2, t) / bias2;
    let rect = if rho_t > 5.0 {
        let ratio =
            (rho_t - 4.0) * (rho_t - 2.0) * rho_inf / ((rho_inf - 4.0) * (rho_inf - 2.0) * rho_t);
        py_pow(ratio, 0.5)
    } else {
        0.0
    };
    [single(bias1), single(py_pow(bias2, 0.5)), single(rect)]
}

/// RAdam's shared constants: lr, then Adam's (shrink, l2, 1 - b1, b2, 1 - b2, eps, sign).
pub(crate) fn radam_shared(cfg: &AdamConfig) -> [f32; 8] {
    let [shrink, l2, w1, b2, w2, eps, sign] = adam_shared(cfg);
    [single(cfg.lr), shrink, l2, w1, b2, w2, eps, sign]
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
    /// RAdam over one chunk, in PyTorch's ops: the moments as Adam's, then
    /// p -= (m / (1 - b1^t)) * lr * (sqrt(1 - b2^t) / (sqrt(v) + eps)) * r_t, or without the
    /// adaptive factor while r_t is undefined (0). The branch is taken once per chunk. The
    /// adaptive factor is a Python float over a tensor, which PyTorch evaluates as the tensor's
    /// reciprocal times the float.
    pub(crate) fn radam_chunk(
        p: &mut [f32],
        g: &[f32],
        m: &mut [f32],
        v: &mut [f32],
        own: [f32; 3],
        shared: [f32; 8],
    ) {
        let [bias1, bias2_sqrt, rect] = own;
        let [lr, shrink, l2, w1, b2, w2, eps, sign] = shared;
        let rule = MomentRule { sign, l2, w1, b2, w2 };
        let moments = p.iter_mut().zip(g).zip(m.iter_mut()).zip(v.iter_mut());
        let update = |p: &mut f32, g: f32, m: &mut f32, v: &mut f32| -> f32 {
            *p *= shrink;
            adam_moments(*p, g, m, v, rule);
            *m / bias1 * lr
        };
        if rect > 0.0 {
            moments.for_each(|(((p, &g), m), v)| {
                let step = update(p, g, m, v);
                *p -= step * (1.0 / (v.sqrt() + eps) * bias2_sqrt) * rect;
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
}
