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

/// dz/dα for a draw z of Gamma(α, 1) held at its quantile: implicit differentiation of
/// F(z; α) = u gives -(∂F/∂α) / p(z; α), the pathwise derivative a reparametrised gamma sample
/// needs. ∂F/∂α is a central difference of the regularised incomplete gamma in f64 (P by its
/// series below α + 1, else Q by its continued fraction, whichever is not near 1, so the
/// difference keeps its relative accuracy in both tails); the step is 1e-4 of the scale on which
/// F moves with α (α itself below 1, √α above), leaving the f64 result within ~1e-8 relative.
pub fn standard_gamma_grad(alpha: f32, z: f32) -> f32 {
    let (a, x) = (f64::from(alpha), f64::from(z));
    if a.is_nan() || x.is_nan() || a <= 0.0 || x < 0.0 || a.is_infinite() || x.is_infinite() {
        return f32::NAN;
    }
    if x == 0.0 {
        return 0.0;
    }
    let h = 1e-4 * if a < 1.0 { a } else { a.sqrt() };
    let d_cdf = if x < a + 1.0 {
        (lower_regularized_gamma(a + h, x) - lower_regularized_gamma(a - h, x)) / (2.0 * h)
    } else {
        -(upper_regularized_gamma(a + h, x) - upper_regularized_gamma(a - h, x)) / (2.0 * h)
    };
    let density = ((a - 1.0) * x.ln() - x - libm::lgamma(a)).exp();
    (-d_cdf / density) as f32
}

/// The regularised incomplete gamma functions P(a, x) (`upper` false) and Q(a, x) = 1 - P
/// (`upper` true), from whichever expansion converges (the series below x = a + 1, the continued
/// fraction above) and the complement of the other, with PyTorch's edge values: NaN for negative
/// or NaN arguments and for a = x = 0 or a = x = inf; P = 1 at a = 0 or x = inf; P = 0 at x = 0 or
/// a = inf.
pub fn regularized_gamma(a: f32, x: f32, upper: bool) -> f32 {
    let (a, x) = (f64::from(a), f64::from(x));
    let undefined = a.is_nan() || x.is_nan() || a < 0.0 || x < 0.0;
    if undefined || (a == 0.0 && x == 0.0) || (a.is_infinite() && x.is_infinite()) {
        return f32::NAN;
    }
    // (P, Q), each from its own expansion where it is the smaller, the other as its complement.
    let (lower, upper_value) = if a == 0.0 || x.is_infinite() {
        (1.0, 0.0)
    } else if x == 0.0 || a.is_infinite() {
        (0.0, 1.0)
    } else if x < a + 1.0 {
        let p = lower_regularized_gamma(a, x);
        (p, 1.0 - p)
    } else {
        let q = upper_regularized_gamma(a, x);
        (1.0 - q, q)
    };
    (if upper { upper_value } else { lower }) as f32
}

/// P(a, x) = γ(a, x) / Γ(a) by its series x^a e^-x / Γ(a + 1) Σ x^n / ((a+1)...(a+n)), for
/// x < a + 1.
fn lower_regularized_gamma(a: f64, x: f64) -> f64 {
    let mut term = 1.0;
    let mut sum = 1.0;
    let mut denominator = a;
    for _ in 0..GAMMA_ITERATIONS {
        denominator += 1.0;
        term *= x / denominator;
        sum += term;
        if term < sum * 1e-17 {
            break;
        }
    }
    (a * x.ln() - x - libm::lgamma(a + 1.0)).exp() * sum
}

/// Q(a, x) = 1 - P(a, x) by its continued fraction (modified Lentz), for x >= a + 1.
fn upper_regularized_gamma(a: f64, x: f64) -> f64 {
    const TINY: f64 = 1e-300;
    let mut b = x + 1.0 - a;
    let mut c = 1.0 / TINY;
    let mut d = 1.0 / b;
    let mut fraction = d;
    for i in 1..GAMMA_ITERATIONS {
        let i = f64::from(i);
        let an = -i * (i - a);
        b += 2.0;
        d = an * d + b;
        if d.abs() < TINY {
            d = TINY;
        }
        c = b + an / c;
        if c.abs() < TINY {
            c = TINY;
        }
        d = 1.0 / d;
        let step = d * c;
        fraction *= step;
        if (step - 1.0).abs() < 1e-17 {
            break;
        }
    }
    (a * x.ln() - x - libm::lgamma(a)).exp() * fraction
}

/// Enough iterations for either expansion up to α ~ 1e7 (they take about 8 √α).
const GAMMA_ITERATIONS: u32 = 1 << 15;

/// The modified Bessel functions of the first kind I0 and I1, scaled by e^-|x| when `scaled`
/// (`i0e`, `i1e`), in f64: the power series (x/2)^ν Σ (x²/4)^k / (k! (k+ν)!), whose terms are all
/// positive, up to |x| = 30, then the asymptotic series e^|x| / sqrt(2π|x|) Σ_k
/// Π_{j<=k} (4ν² - (2j-1)²) / (k! (-8|x|)^k), summed while its terms shrink; I1 is odd.
pub fn bessel_i(order: u32, x: f32, scaled: bool) -> f32 {
    let x = f64::from(x);
    if x.is_nan() {
        return f32::NAN;
    }
    let magnitude = x.abs();
    let value = if magnitude.is_infinite() {
        if scaled {
            0.0
        } else {
            f64::INFINITY
        }
    } else if magnitude <= 30.0 {
        let quarter_square = 0.25 * magnitude * magnitude;
        let mut term = if order == 0 { 1.0 } else { 0.5 * magnitude };
        let mut sum = term;
        for k in 1..500 {
            let k = f64::from(k);
            term *= quarter_square / (k * (k + f64::from(order)));
            sum += term;
            if term < sum * 1e-17 {
                break;
            }
        }
        if scaled {
            sum * (-magnitude).exp()
        } else {
            sum
        }
    } else {
        let mu = 4.0 * f64::from(order * order);
        let sum: f64 = super::bessel::asymptotic_terms(mu, -magnitude).sum();
        let scaled_value = sum / (2.0 * PI * magnitude).sqrt();
        if scaled {
            scaled_value
        } else {
            scaled_value * magnitude.exp()
        }
    };
    (if order == 1 && x < 0.0 { -value } else { value }) as f32
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

    #[test]
    fn bessel_functions_match_known_values() {
        // I0(1) = 1.2660658777520084 and I1(1) = 0.5651591039924851; the two series meet at 30.
        assert_eq!(bessel_i(0, 1.0, false), 1.266_065_877_752_008_4_f64 as f32);
        assert_eq!(
            bessel_i(1, -1.0, false),
            -0.565_159_103_992_485_1_f64 as f32
        );
        let (below, above) = (bessel_i(0, 30.0, true), bessel_i(0, 30.000_002, true));
        assert!((below - above).abs() <= 2e-7 * below, "{below} {above}");
        let (below, above) = (bessel_i(1, 30.0, true), bessel_i(1, 30.000_002, true));
        assert!((below - above).abs() <= 2e-7 * below, "{below} {above}");
        assert_eq!(bessel_i(0, f32::INFINITY, false), f32::INFINITY);
        assert_eq!(bessel_i(0, f32::INFINITY, true), 0.0);
    }

    #[test]
    fn regularized_gamma_of_the_exponential_is_closed_form() {
        // P(1, x) = 1 - e^-x; Q(2, x) = (1 + x) e^-x.
        for &x in &[0.01f32, 0.5, 1.9, 2.1, 7.0, 30.0] {
            let xd = f64::from(x);
            assert_eq!(
                regularized_gamma(1.0, x, false),
                (-(-xd).exp_m1()) as f32,
                "{x}"
            );
            let q = regularized_gamma(2.0, x, true);
            assert!(
                (f64::from(q) - (1.0 + xd) * (-xd).exp()).abs() <= 2e-7 * f64::from(q),
                "{x}"
            );
        }
        assert!(regularized_gamma(0.0, 0.0, false).is_nan());
        assert_eq!(regularized_gamma(0.0, 1.0, false), 1.0);
        assert_eq!(regularized_gamma(f32::INFINITY, 1.0, true), 1.0);
    }

    #[test]
    fn standard_gamma_grad_is_the_quantiles_derivative() {
        // dz/dα at a fixed level u, against a finite difference of the quantile found by bisection.
        let quantile = |a: f64, u: f64| {
            // Bisection on P(a, x) = u.
            let (mut lo, mut hi) = (0.0f64, 100.0f64);
            for _ in 0..200 {
                let mid = 0.5 * (lo + hi);
                let p = if mid < a + 1.0 {
                    lower_regularized_gamma(a, mid)
                } else {
                    1.0 - upper_regularized_gamma(a, mid)
                };
                if p < u {
                    lo = mid;
                } else {
                    hi = mid;
                }
            }
            0.5 * (lo + hi)
        };
        for &(a, u) in &[(1.0f64, 0.3f64), (0.5, 0.9), (4.0, 0.05), (2.5, 0.5)] {
            let z = quantile(a, u);
            let step = 1e-5;
            let want = (quantile(a + step, u) - quantile(a - step, u)) / (2.0 * step);
            let got = f64::from(standard_gamma_grad(a as f32, z as f32));
            assert!(
                (got - want).abs() < 1e-4 * want.abs(),
                "{a} {u}: {got} vs {want}"
            );
        }
    }
}
