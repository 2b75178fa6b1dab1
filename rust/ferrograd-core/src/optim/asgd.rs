//! ASGD (torch.optim.ASGD): SGD with a decaying step size eta_t and a running average `ax` of the
//! iterates (Polyak averaging) that starts at step t0. eta and mu (the averaging weight) are
//! per-parameter 0-d float32 CPU tensors, as PyTorch keeps them (see `ParamState::SCALAR_STATE`).

use super::arith::{add, decayed_grad, single};
use super::kernels::py_pow;
use crate::cpu::simd::wide_fn;
use crate::cuda::optim::ListItem;
use crate::Tensor;

/// ASGD options, in double precision as the user gave them.
#[derive(Clone, Copy, Debug)]
pub struct AsgdConfig {
    pub lr: f64,
    pub lambd: f64,
    pub alpha: f64,
    pub t0: f64,
    pub weight_decay: f64,
    pub maximize: bool,
}

impl AsgdConfig {
    /// The constants every parameter shares: sign, weight decay.
    pub(crate) fn shared(&self) -> [f32; 2] {
        let sign = if self.maximize { -1.0 } else { 1.0 };
        [sign, single(self.weight_decay)]
    }
}

/// One parameter's ASGD update with state `ax` and this step's `eta` and `mu` (read from the
/// 0-d state): the constants 1 - lambd eta, -eta and mu.
pub(crate) fn asgd_item(
    param: &Tensor,
    grad: &Tensor,
    ax: &Tensor,
    [eta, mu]: [f32; 2],
    cfg: &AsgdConfig,
) -> ListItem {
    let eta = eta as f64;
    ListItem {
        param: param.clone(),
        grad: grad.clone(),
        states: [Some(ax.clone()), None, None],
        own: [single(1.0 - cfg.lambd * eta), single(-eta), mu],
    }
}

/// `eta` and `mu` after 1-based `step`, as PyTorch advances them after the update:
/// eta = lr / (1 + lambd lr t)^alpha and mu = 1 / max(1, t - t0), each rounded to float32.
pub(crate) fn asgd_next(cfg: &AsgdConfig, step: u64) -> [f32; 2] {
    let t = step as f64;
    [
        single(cfg.lr / py_pow(1.0 + cfg.lambd * cfg.lr * t, cfg.alpha)),
        single(1.0 / (t - cfg.t0).max(1.0)),
    ]
}

wide_fn! {
    /// ASGD over one chunk, in PyTorch's ops: g = g.add(p, alpha=wd); p.mul_(1 - lambd eta);
    /// p.add_(g, alpha=-eta); then ax = p while mu is 1, else ax.add_(p.sub(ax).mul_(mu)).
    pub(crate) fn asgd_chunk(p: &mut [f32], g: &[f32], ax: &mut [f32], own: [f32; 3], shared: [f32; 2]) {
        let [shrink, neg_eta, mu] = own;
        let [sign, weight_decay] = shared;
        p.iter_mut().zip(g).zip(ax.iter_mut()).for_each(|((p, &g), a)| {
            let gi = decayed_grad(g, *p, sign, weight_decay);
            *p = add(*p * shrink, gi, neg_eta);
            *a = if mu == 1.0 { *p } else { *a + (*p - *a) * mu };
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eta_decays_and_averaging_starts_after_t0() {
        let cfg = AsgdConfig {
            lr: 0.1,
            lambd: 0.5,
            alpha: 0.75,
            t0: 2.0,
            weight_decay: 0.0,
            maximize: false,
        };
        let p = Tensor::from_vec(vec![1.0f32], &[1]).unwrap();
        let ax = Tensor::from_vec(vec![0.0f32], &[1]).unwrap();
        let (mut eta, mut mu) = (0.1f32, 1.0f32);
        let mut mus = Vec::new();
        for step in 1..=4 {
            let item = asgd_item(&p, &p, &ax, [eta, mu], &cfg);
            mus.push(item.own[2]);
            [eta, mu] = asgd_next(&cfg, step);
            let want = (0.1f64 / (1.0 + 0.5 * 0.1 * step as f64).powf(0.75)) as f32;
            assert_eq!(eta, want);
        }
        // mu is 1 until t - t0 exceeds 1: steps 1-3 use 1, step 4 uses 1 / (3 - 2) = 1 too,
        // and the value written after step 4 is 1 / 2.
        assert_eq!(mus, vec![1.0, 1.0, 1.0, 1.0]);
        assert_eq!(mu, 0.5);
    }
}
