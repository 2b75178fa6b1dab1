//! The float32 tensor operations the update rules are written in, each rounding as PyTorch's CPU
//! kernels do on a processor with fused multiply-add, so a step gives PyTorch's bits:
//!
//! - `add(other, alpha)` is one fused multiply-add, `fma(other, alpha, self)`;
//! - `addcmul(t1, t2, value)` is `fma(value * t1, t2, self)`;
//! - `addcdiv(t1, t2, value)` is `self + (value * t1) / t2`, nothing fused;
//! - `lerp(end, weight)` is `fma(weight, end - self, self)` for |weight| < 0.5, otherwise
//!   `fma(weight - 1, end - self, end)`.
//!
//! Hyperparameters arrive as the user's doubles; what PyTorch computes from them in Python
//! (`1 - beta`, `lr / (1 - beta1**t)`, ...) is computed here in double too, and rounded to float32
//! once, where the tensor op receives it ([`single`]).
//!
//! Every function is `inline(always)` so that, called inside a `wide_fn!` body, `mul_add` becomes
//! the processor's FMA instruction instead of a call to the C library's `fmaf`.

/// A double-precision constant as a float32 tensor op receives it.
#[inline(always)]
pub(crate) fn single(x: f64) -> f32 {
    x as f32
}

/// `self.add(other, alpha)`: `self + alpha * other`, fused.
#[inline(always)]
pub(crate) fn add(this: f32, other: f32, alpha: f32) -> f32 {
    other.mul_add(alpha, this)
}

/// `self.addcmul(t1, t2, value)`: `self + value * t1 * t2`, the last product fused.
#[inline(always)]
pub(crate) fn addcmul(this: f32, t1: f32, t2: f32, value: f32) -> f32 {
    (value * t1).mul_add(t2, this)
}

/// `self.addcdiv(t1, t2, value)`: `self + (value * t1) / t2`.
#[inline(always)]
pub(crate) fn addcdiv(this: f32, t1: f32, t2: f32, value: f32) -> f32 {
    this + value * t1 / t2
}

/// `self.lerp(end, weight)`, from whichever end is nearer the weight.
#[inline(always)]
pub(crate) fn lerp(this: f32, end: f32, weight: f32) -> f32 {
    if weight.abs() < 0.5 {
        weight.mul_add(end - this, this)
    } else {
        (weight - 1.0).mul_add(end - this, end)
    }
}

/// `torch.maximum(a, b)`: NaN if either is (unlike `f32::max`).
#[inline(always)]
pub(crate) fn nan_max(a: f32, b: f32) -> f32 {
    if a.is_nan() || a > b {
        a
    } else {
        b
    }
}

/// The signed gradient with its L2 term, as `grad = -grad if maximize` and
/// `grad = grad.add(param, alpha=weight_decay)` (skipped when the decay is 0, as PyTorch skips it:
/// a fused `0 * p` would turn an infinite parameter into NaN).
#[inline(always)]
pub(crate) fn decayed_grad(g: f32, p: f32, sign: f32, weight_decay: f32) -> f32 {
    let g = sign * g;
    if weight_decay != 0.0 {
        add(g, p, weight_decay)
    } else {
        g
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn add_rounds_once() {
        // (1 + 2^-12)^2 = 1 + 2^-11 + 2^-24: rounded on its own the product loses its last term
        // (a tie, to even), while the fused sum keeps it.
        let a = 1.0 + 2f32.powi(-12);
        assert_eq!(add(-1.0, a, a), 2f32.powi(-11) + 2f32.powi(-24));
        assert_eq!(a * a - 1.0, 2f32.powi(-11));
    }

    #[test]
    fn lerp_takes_the_nearer_end() {
        assert_eq!(lerp(1.0, 3.0, 0.25), 1.5);
        assert_eq!(lerp(1.0, 3.0, 0.75), 2.5);
        assert_eq!(lerp(1.0, 3.0, 1.0), 3.0);
        assert_eq!(lerp(1.0, 3.0, 0.0), 1.0);
    }

    #[test]
    fn decay_is_skipped_when_zero() {
        assert_eq!(decayed_grad(2.0, f32::INFINITY, -1.0, 0.0), -2.0);
        assert_eq!(decayed_grad(2.0, 4.0, 1.0, 0.5), 4.0);
        assert!(nan_max(f32::NAN, 1.0).is_nan() && nan_max(1.0, f32::NAN).is_nan());
    }
}
