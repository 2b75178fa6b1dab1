//! The scaled complementary error function and the normal distribution's log-CDF and quantile,
//! evaluated in f64 and rounded once. `cuda/kernels/special_functions.cuh` spells the same
//! arithmetic for the GPU.

use std::f64::consts::{FRAC_1_SQRT_2, PI};

/// erfcx(x) = exp(x²) erfc(x) in f64: the product directly below x = 26 (erfc(x) stays a normal
/// f64 there), the asymptotic series (1 / (x √π)) Σ_k (-1)^k (2k-1)!! / (2x²)^k past it.
pub(crate) fn erfcx_f64(x: f64) -> f64 {
    if x.is_nan() {
        return x;
    }
    if x < 26.0 {
        return (x * x).exp() * libm::erfc(x);
    }
    let inverse = 1.0 / (2.0 * x * x);
    let (mut term, mut sum) = (1.0f64, 1.0f64);
    for k in 1..40 {
        let next = -term * f64::from(2 * k - 1) * inverse;
        if next.abs() >= term.abs() || next.abs() < sum.abs() * 1e-17 {
            break;
        }
        term = next;
        sum += term;
    }
    sum / (x * PI.sqrt())
}

/// exp(x²) erfc(x), finite where erfc(x) underflows.
pub fn erfcx(x: f32) -> f32 {
    erfcx_f64(f64::from(x)) as f32
}

/// log Φ(x), the log of the standard normal CDF: log1p(-erfc(x/√2) / 2) for x ≥ 0; below,
/// log(erfcx(-x/√2) / 2) - x²/2, which stays finite where Φ(x) underflows.
pub fn log_ndtr(x: f32) -> f32 {
    let x = f64::from(x);
    let value = if x >= 0.0 {
        (-0.5 * libm::erfc(x * FRAC_1_SQRT_2)).ln_1p()
    } else {
        (0.5 * erfcx_f64(-x * FRAC_1_SQRT_2)).ln() - 0.5 * x * x
    };
    value as f32
}

/// Φ⁻¹(p), the standard normal quantile: NaN outside [0, 1], ∓∞ at 0 and 1, else the lower-tail
/// quantile of min(p, 1 - p) (1 - p is exact in f64 for an f32 p), negated above 1/2.
pub fn ndtri(p: f32) -> f32 {
    let p = f64::from(p);
    let value = if !(0.0..=1.0).contains(&p) {
        f64::NAN
    } else if p == 0.0 {
        f64::NEG_INFINITY
    } else if p == 1.0 {
        f64::INFINITY
    } else if p > 0.5 {
        -lower_quantile(1.0 - p)
    } else {
        lower_quantile(p)
    };
    value as f32
}

/// Φ⁻¹(p) for 0 < p ≤ 1/2: a rational start in t = sqrt(-2 ln p) (Abramowitz and Stegun
/// 26.2.23, error below 4.5e-4), then three Halley steps on Φ(x) = p with Φ from erfc, which keeps
/// its relative accuracy deep in the tail (each step cubes the relative error).
fn lower_quantile(p: f64) -> f64 {
    if p == 0.5 {
        return 0.0;
    }
    let t = (-2.0 * p.ln()).sqrt();
    let numerator = 2.515517 + t * (0.802853 + t * 0.010328);
    let denominator = 1.0 + t * (1.432788 + t * (0.189269 + t * 0.001308));
    let mut x = numerator / denominator - t;
    for _ in 0..3 {
        let excess = 0.5 * libm::erfc(-x * FRAC_1_SQRT_2) - p;
        let ratio = excess * (2.0 * PI).sqrt() * (0.5 * x * x).exp();
        x -= ratio / (1.0 + 0.5 * x * ratio);
    }
    x
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_values() {
        // erfcx(1) = e erfc(1); Φ⁻¹(0.975) = 1.959964; log Φ(0) = -ln 2.
        assert!((erfcx(1.0) - 0.427_583_57).abs() < 1e-7);
        assert!((ndtri(0.975) - 1.959_964).abs() < 1e-6);
        assert!((log_ndtr(0.0) + std::f32::consts::LN_2).abs() < 1e-7);
        assert_eq!(ndtri(0.5), 0.0);
        assert!(ndtri(1.5).is_nan() && ndtri(0.0) == f32::NEG_INFINITY);
        // Deep tails stay finite: log Φ(-40) ≈ -804.6084, Φ⁻¹(1e-40) ≈ -13.3109.
        assert!((log_ndtr(-40.0) + 804.608_4).abs() < 1e-3);
        assert!((ndtri(1e-40) + 13.310_9).abs() < 1e-3);
    }
}
