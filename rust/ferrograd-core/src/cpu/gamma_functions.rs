//! The gamma family (log-gamma, digamma, polygamma) and the inverse error function for f32
//! tensors, each evaluated in f64 and rounded once, so the f32 result is within an ulp of the true
//! value wherever the function is well conditioned. `kernels/gamma_functions.cuh` is the same
//! arithmetic for the GPU.
//!
//! Poles follow PyTorch: digamma(±0) = ∓inf and NaN at negative integers; polygamma(n, x) at a
//! non-positive integer is (-1)^(n+1) inf. Where PyTorch's float kernels lose their accuracy
//! (trigamma at large negative arguments, polygamma at +inf) these return the true value.

use std::f64::consts::PI;

/// log|Γ(x)|.
pub fn lgamma(x: f32) -> f32 {
    libm::lgamma(f64::from(x)) as f32
}

/// ψ(x) = Γ'(x) / Γ(x).
pub fn digamma(x: f32) -> f32 {
    let x = f64::from(x);
    if x == 0.0 {
        // The pole's sign follows the zero's, as in PyTorch.
        return if x.is_sign_negative() {
            f32::INFINITY
        } else {
            f32::NEG_INFINITY
        };
    }
    if x.is_nan() || x == f64::NEG_INFINITY || (x < 0.0 && x == x.floor()) {
        return f32::NAN;
    }
    digamma_f64(x) as f32
}

/// ψ for finite non-pole x (and +inf): the reflection ψ(x) = ψ(1 - x) - π / tan(π x) for
/// negative x, the recurrence ψ(x) = ψ(x + 1) - 1/x up to x >= 6, then the asymptotic series
/// ln x - 1/(2x) - Σ B_2k / (2k x^2k), whose truncation after x^-14 is below 2e-13 there.
fn digamma_f64(mut x: f64) -> f64 {
    let mut result = 0.0;
    if x < 0.0 {
        // tan(π x) from x's fractional part, which is exact, so large |x| keeps its accuracy.
        let fraction = x - x.floor();
        result -= PI / (PI * fraction).tan();
        x = 1.0 - x;
    }
    while x < 6.0 {
        result -= 1.0 / x;
        x += 1.0;
    }
    if x.is_infinite() {
        return f64::INFINITY;
    }
    // B_2k / 2k for k = 1..7, the series' coefficients of x^-2k.
    const SERIES: [f64; 7] = [
        1.0 / 12.0,
        -1.0 / 120.0,
        1.0 / 252.0,
        -1.0 / 240.0,
        1.0 / 132.0,
        -691.0 / 32760.0,
        1.0 / 12.0,
    ];
    let inv2 = 1.0 / (x * x);
    let mut tail = 0.0;
    for c in SERIES.iter().rev() {
        tail = (tail + c) * inv2;
    }
    result + x.ln() - 0.5 / x - tail
}

/// ψ^(n)(x), the n-th derivative of digamma (n = 0 is digamma itself).
pub fn polygamma(n: u32, x: f32) -> f32 {
    if n == 0 {
        return digamma(x);
    }
    let x = f64::from(x);
    let odd = n % 2 == 1;
    if x.is_nan() || x == f64::NEG_INFINITY {
        return f32::NAN;
    }
    if x <= 0.0 && x == x.floor() {
        return if odd {
            f32::INFINITY
        } else {
            f32::NEG_INFINITY
        };
    }
    if x == f64::INFINITY {
        return if odd { 0.0 } else { -0.0 };
    }
    if n == 1 && x < 0.0 {
        // Reflection: ψ'(x) = π² / sin²(π x) - ψ'(1 - x), sin taken of the exact fractional part.
        let s = (PI * (x - x.floor())).sin();
        return (PI * PI / (s * s) - trigamma_positive(1.0 - x)) as f32;
    }
    let factorial: f64 = (1..=n).map(f64::from).product();
    let sign = if odd { 1.0 } else { -1.0 };
    (sign * factorial * hurwitz_zeta(f64::from(n + 1), x)) as f32
}

fn trigamma_positive(x: f64) -> f64 {
    hurwitz_zeta(2.0, x)
}

/// ζ(s, q) = Σ_k (q + k)^-s for an integer s >= 2 and a non-integer or positive q: the first
/// terms summed until q + k >= s + 10, then the Euler–Maclaurin tail
/// a^(1-s) / (s-1) + a^-s / 2 + Σ_j B_2j / (2j)! s (s+1) ... (s+2j-2) a^(-s-2j+1), whose terms
/// shrink at least as fast as ((s + 2j) / (2π a))^2 each there, so 12 of them leave the f64 sum
/// exact to well below f32's rounding. A negative q is summed term by term up to that point (as
/// PyTorch's zeta does), so its cost grows with |q|.
fn hurwitz_zeta(s: f64, q: f64) -> f64 {
    // B_2j / (2j)! for j = 1..12.
    const BERNOULLI_OVER_FACTORIAL: [f64; 12] = [
        1.0 / 12.0,
        -1.0 / 720.0,
        1.0 / 30_240.0,
        -1.0 / 1_209_600.0,
        1.0 / 47_900_160.0,
        -691.0 / 1_307_674_368_000.0,
        1.0 / 74_724_249_600.0,
        -3617.0 / 10_670_622_842_880_000.0,
        43_867.0 / 5_109_094_217_170_944_000.0,
        -174_611.0 / 802_857_662_698_291_200_000.0,
        77_683.0 / 14_101_100_039_391_805_440_000.0,
        -236_364_091.0 / 1_693_824_136_731_743_669_452_800_000.0,
    ];
    let threshold = s + 10.0;
    let mut a = q;
    let mut sum = 0.0;
    while a < threshold {
        sum += a.powf(-s);
        a += 1.0;
    }
    let a_power = a.powf(-s);
    let mut tail = a * a_power / (s - 1.0) + 0.5 * a_power;
    // rising: s (s+1) ... (s+2j-2); term power a^(-s-2j+1).
    let mut rising = s;
    let mut power = a_power / a;
    for (j, c) in BERNOULLI_OVER_FACTORIAL.iter().enumerate() {
        let term = c * rising * power;
        tail += term;
        let k = 2.0 * j as f64;
        rising *= (s + k + 1.0) * (s + k + 2.0);
        power /= a * a;
    }
    sum + tail
}

/// erf⁻¹(x) for x in [-1, 1] (±inf at ±1, NaN outside): a closed-form first guess within 0.2%,
/// then Halley steps on erf (erfc beyond |x| = 1/2, where 1 - |x| is exact but erf(y) - x
/// would cancel). Each step triples the correct digits, so three reach f64's rounding.
pub fn erfinv(x: f32) -> f32 {
    let x = f64::from(x);
    if x.is_nan() || x.abs() > 1.0 {
        return f32::NAN;
    }
    if x.abs() == 1.0 {
        return (x * f64::INFINITY) as f32;
    }
    if x == 0.0 {
        return x as f32;
    }
    let magnitude = x.abs();
    let complement = 1.0 - magnitude;
    // ln(1 - x^2) without cancelling near 1.
    let log_term = (complement * (1.0 + magnitude)).ln();
    const A: f64 = 0.147;
    let b = 2.0 / (PI * A) + 0.5 * log_term;
    let mut y = ((b * b - log_term / A).sqrt() - b).sqrt();
    for _ in 0..3 {
        // f(y) = erf(y) - |x|, written as (1 - |x|) - erfc(y) past 1/2.
        let residual = if magnitude <= 0.5 {
            libm::erf(y) - magnitude
        } else {
            complement - libm::erfc(y)
        };
        let slope = std::f64::consts::FRAC_2_SQRT_PI * (-y * y).exp();
        // Halley: f'' / f' = -2y for erf.
        let newton = residual / slope;
        y -= newton / (1.0 + y * newton);
    }
    (y.copysign(x)) as f32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digamma_matches_known_values() {
        // ψ(1) = -γ, ψ(1/2) = -γ - 2 ln 2, ψ(-1/2) = ψ(1/2) + 2.
        let gamma = 0.577_215_664_901_532_9_f64;
        assert_eq!(digamma(1.0), (-gamma) as f32);
        assert_eq!(digamma(0.5), (-gamma - 2.0 * 2f64.ln()) as f32);
        assert_eq!(digamma(-0.5), (-gamma - 2.0 * 2f64.ln() + 2.0) as f32);
        assert!(digamma(-3.0).is_nan());
        assert_eq!(digamma(0.0), f32::NEG_INFINITY);
        assert_eq!(digamma(-0.0), f32::INFINITY);
    }

    #[test]
    fn polygamma_matches_zeta_values() {
        // ψ'(1) = π²/6, ψ''(1) = -2 ζ(3), ψ'(1/2) = π²/2.
        assert_eq!(polygamma(1, 1.0), (PI * PI / 6.0) as f32);
        assert_eq!(polygamma(2, 1.0), (-2.0 * 1.202_056_903_159_594_3) as f32);
        assert_eq!(polygamma(1, 0.5), (PI * PI / 2.0) as f32);
        assert_eq!(polygamma(1, -0.5), (PI * PI / 2.0 + 4.0) as f32);
        assert_eq!(polygamma(2, 0.0), f32::NEG_INFINITY);
        assert_eq!(polygamma(3, -2.0), f32::INFINITY);
    }

    #[test]
    fn erfinv_inverts_erf() {
        for &x in &[1e-30f32, 0.1, 0.5, 0.75, 0.999, 0.999_999_94, -0.3] {
            let y = f64::from(erfinv(x));
            assert!(
                (libm::erf(y) - f64::from(x)).abs() <= 1e-7 * f64::from(x).abs(),
                "{x}"
            );
        }
        assert_eq!(erfinv(1.0), f32::INFINITY);
        assert!(erfinv(1.5).is_nan());
    }
}
