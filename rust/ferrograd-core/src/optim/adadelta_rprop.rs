//! Adadelta and Rprop (torch.optim.Adadelta, torch.optim.Rprop): two rules whose step size per
//! coordinate comes from the update's own history rather than a learning-rate schedule.

use super::arith::{add, addcmul, decayed_grad, single};
use crate::cpu::simd::wide_fn;
use crate::cuda::optim::ListItem;
use crate::Tensor;

/// Adadelta options (torch.optim.Adadelta), in double precision as the user gave them.
#[derive(Clone, Copy, Debug)]
pub struct AdadeltaConfig {
    pub lr: f64,
    pub rho: f64,
    pub eps: f64,
    pub weight_decay: f64,
    pub maximize: bool,
}

impl AdadeltaConfig {
    /// The float32 constants every parameter shares: -lr, rho, 1 - rho, eps, weight decay, sign.
    pub(crate) fn shared(&self) -> [f32; 6] {
        let sign = if self.maximize { -1.0 } else { 1.0 };
        [
            single(-self.lr),
            single(self.rho),
            single(1.0 - self.rho),
            single(self.eps),
            single(self.weight_decay),
            sign,
        ]
    }
}

/// Rprop options (torch.optim.Rprop): the step sizes start at `lr`, shrink by `eta_minus` when
/// a gradient changes sign and grow by `eta_plus` while it keeps it, within
/// [`step_size_min`, `step_size_max`].
#[derive(Clone, Copy, Debug)]
pub struct RpropConfig {
    pub lr: f64,
    pub eta_minus: f64,
    pub eta_plus: f64,
    pub step_size_min: f64,
    pub step_size_max: f64,
    pub maximize: bool,
}

impl RpropConfig {
    /// The constants every parameter shares: eta-, eta+, the step-size bounds, sign.
    pub(crate) fn shared(&self) -> [f32; 5] {
        let sign = if self.maximize { -1.0 } else { 1.0 };
        [
            single(self.eta_minus),
            single(self.eta_plus),
            single(self.step_size_min),
            single(self.step_size_max),
            sign,
        ]
    }
}

/// One parameter's update with its two state buffers, in the kernels' order (no per-parameter
/// constants: both rules keep their whole state in the buffers).
pub(crate) fn two_buffer_item(
    param: &Tensor,
    grad: &Tensor,
    [first, second]: [&Tensor; 2],
) -> ListItem {
    ListItem {
        param: param.clone(),
        grad: grad.clone(),
        states: [Some(first.clone()), Some(second.clone()), None],
        own: [0.0; 3],
    }
}

wide_fn! {
    /// Adadelta over one chunk of a parameter, its square average and its accumulated update,
    /// in PyTorch's ops: g = g.add(p, alpha=wd); s.mul_(rho).addcmul_(g, g, value=1 - rho);
    /// delta = (a + eps).sqrt() / (s + eps).sqrt() * g; a.mul_(rho).addcmul_(delta, delta,
    /// value=1 - rho); p.add_(delta, alpha=-lr).
    pub(crate) fn adadelta_chunk(
        p: &mut [f32],
        g: &[f32],
        square_avg: &mut [f32],
        acc_delta: &mut [f32],
        shared: [f32; 6],
    ) {
        let [neg_lr, rho, w, eps, weight_decay, sign] = shared;
        let states = square_avg.iter_mut().zip(acc_delta.iter_mut());
        p.iter_mut().zip(g).zip(states).for_each(|((p, &g), (s, a))| {
            let gi = decayed_grad(g, *p, sign, weight_decay);
            *s = addcmul(*s * rho, gi, gi, w);
            let delta = (*a + eps).sqrt() / (*s + eps).sqrt() * gi;
            *a = addcmul(*a * rho, delta, delta, w);
            *p = add(*p, delta, neg_lr);
        });
    }
}

/// -1, 0 or 1 as `x` is negative, zero or positive; NaN stays NaN (torch.sign).
#[inline(always)]
fn sign_of(x: f32) -> f32 {
    if x > 0.0 {
        1.0
    } else if x < 0.0 {
        -1.0
    } else {
        x * 0.0
    }
}

wide_fn! {
    /// Rprop over one chunk, in PyTorch's order: the sign of g * prev picks the step size's
    /// factor (eta+ if positive, eta- if negative, 1 if zero), the step size is clamped, a
    /// gradient that changed sign is dropped for this step, p -= sign(g) * step, prev = g.
    pub(crate) fn rprop_chunk(
        p: &mut [f32],
        g: &[f32],
        prev: &mut [f32],
        step_size: &mut [f32],
        shared: [f32; 5],
    ) {
        let [eta_minus, eta_plus, low, high, sign] = shared;
        let states = prev.iter_mut().zip(step_size.iter_mut());
        p.iter_mut().zip(g).zip(states).for_each(|((p, &g), (prev, step))| {
            let gi = sign * g;
            let agreement = sign_of(gi * *prev);
            let factor = if agreement > 0.0 {
                eta_plus
            } else if agreement < 0.0 {
                eta_minus
            } else if agreement == 0.0 {
                1.0
            } else {
                agreement
            };
            // torch.clamp: NaN passes through.
            let scaled = *step * factor;
            *step = if scaled.is_nan() { scaled } else { scaled.max(low).min(high) };
            let used = if agreement < 0.0 { 0.0 } else { gi };
            *p -= sign_of(used) * *step;
            *prev = used;
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rprop() -> RpropConfig {
        RpropConfig {
            lr: 0.1,
            eta_minus: 0.5,
            eta_plus: 1.2,
            step_size_min: 1e-3,
            step_size_max: 0.15,
            maximize: false,
        }
    }

    #[test]
    fn rprop_grows_shrinks_and_skips_a_sign_change() {
        let shared = rprop().shared();
        let (mut p, mut prev, mut step) = ([1.0f32; 3], [0.0f32; 3], [0.1f32; 3]);
        // First step: no history (factor 1), each coordinate moves by 0.1 against its gradient.
        rprop_chunk(&mut p, &[2.0, -3.0, 0.0], &mut prev, &mut step, shared);
        assert_eq!(p, [0.9, 1.1, 1.0]);
        // Same signs grow the step (0.12); a flipped sign halves it and skips the move.
        rprop_chunk(&mut p, &[1.0, 5.0, 1.0], &mut prev, &mut step, shared);
        let grown = 0.1f32 * 1.2;
        assert_eq!(step, [grown, 0.05, 0.1]);
        assert_eq!(p, [0.9 - grown, 1.1, 0.9]);
        assert_eq!(prev, [1.0, 0.0, 1.0]);
        // Growth stops at the maximum step size (0.15).
        rprop_chunk(&mut p, &[1.0, 1.0, 1.0], &mut prev, &mut step, shared);
        assert_eq!(step, [grown * 1.2, 0.05, grown]);
        rprop_chunk(&mut p, &[1.0, 1.0, 1.0], &mut prev, &mut step, shared);
        assert_eq!(step[0], 0.15);
    }

    #[test]
    fn sign_keeps_nan() {
        assert!(sign_of(f32::NAN).is_nan());
        assert_eq!(sign_of(-0.0), 0.0);
        assert_eq!(sign_of(-2.0), -1.0);
    }
}
