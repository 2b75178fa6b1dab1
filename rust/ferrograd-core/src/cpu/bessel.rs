//! Bessel functions of the first and second kind (J0, J1, Y0, Y1), the modified Bessel functions
//! of the second kind (K0, K1 and their e^x-scaled forms) and the Airy function Ai with its
//! derivative, evaluated in f64 and rounded once. `cuda/kernels/special_functions.cuh` spells
//! the same arithmetic for the GPU.
//!
//! Each function switches between a convergent power series near 0 and an asymptotic series far
//! out; K and Ai use, in between, the trapezoid rule on e^x K_ν(x) = ∫₀^∞ e^{-x (cosh t - 1)}
//! cosh(νt) dt, whose integrand is analytic and decays doubly exponentially, so the rule
//! converges geometrically (step 0.1: below 1e-13 relative for 2 ≤ x ≤ 15).

use std::f64::consts::{FRAC_1_SQRT_2, PI};

const EULER_GAMMA: f64 = 0.577_215_664_901_532_9;
/// Where J and Y leave their power series for Hankel's asymptotic expansion: the series loses
/// about 4 digits to cancellation there, and the expansion's smallest term is near e^-24.
const JY_ASYMPTOTIC_FROM: f64 = 12.0;
/// Where K0 and K1 leave their power series for the integral.
const K_SERIES_UP_TO: f64 = 2.0;
/// Where the scaled K leaves the integral for its asymptotic series (smallest term near e^-30).
const K_ASYMPTOTIC_FROM: f64 = 15.0;

/// The terms a_k = Π_{j ≤ k} (μ - (2j-1)²) / (k! (8x)^k), k ≥ 0, of the large-argument
/// expansions of I, J, Y and K (μ = 4ν²; a negative x gives I's alternating signs), while they
/// shrink and the last stays above 1e-17 (the series diverge past their smallest term), at most
/// 200 of them.
pub(crate) fn asymptotic_terms(mu: f64, x: f64) -> impl Iterator<Item = f64> {
    let mut k = 0u32;
    std::iter::successors(Some(1.0f64), move |&term| {
        k += 1;
        let odd = f64::from(2 * k - 1);
        let next = term * (mu - odd * odd) / (f64::from(k) * 8.0 * x);
        (next.abs() < term.abs() && term.abs() >= 1e-17).then_some(next)
    })
    .take(200)
}

/// Hankel's P and Q for order `order` at x: J = sqrt(2/(πx)) (P cos χ - Q sin χ) and
/// Y = sqrt(2/(πx)) (P sin χ + Q cos χ), χ = x - (order/2 + 1/4) π; the terms a_k go to P (even
/// k) and Q (odd k) with alternating signs.
fn hankel_pq(order: u32, x: f64) -> (f64, f64) {
    let mu = 4.0 * f64::from(order * order);
    let (mut p, mut q) = (0.0f64, 0.0f64);
    for (k, term) in asymptotic_terms(mu, x).enumerate() {
        let signed = if (k / 2) % 2 == 0 { term } else { -term };
        match k % 2 {
            0 => p += signed,
            _ => q += signed,
        }
    }
    (p, q)
}

/// cos χ and sin χ for χ = x - π/4 (order 0) or x - 3π/4 (order 1), from sin x and cos x, so
/// large x loses nothing to subtracting a rounded multiple of π.
fn hankel_phase(order: u32, x: f64) -> (f64, f64) {
    let (s, c) = x.sin_cos();
    match order {
        0 => ((c + s) * FRAC_1_SQRT_2, (s - c) * FRAC_1_SQRT_2),
        _ => ((s - c) * FRAC_1_SQRT_2, (-s - c) * FRAC_1_SQRT_2),
    }
}

/// J0 or J1 at x ≥ 0 in f64: Σ_k (-x²/4)^k (x/2)^ν / (k! (k+ν)!), or Hankel's expansion.
fn bessel_j_f64(order: u32, x: f64) -> f64 {
    if x > JY_ASYMPTOTIC_FROM {
        let (p, q) = hankel_pq(order, x);
        let (cos_chi, sin_chi) = hankel_phase(order, x);
        return (2.0 / (PI * x)).sqrt() * (p * cos_chi - q * sin_chi);
    }
    let quarter_square = 0.25 * x * x;
    let mut term = if order == 0 { 1.0 } else { 0.5 * x };
    let mut sum = term;
    for k in 1..300u32 {
        let k = f64::from(k);
        term *= -quarter_square / (k * (k + f64::from(order)));
        sum += term;
        if term.abs() <= sum.abs() * 1e-17 && k > quarter_square {
            break;
        }
    }
    sum
}

/// J0 (even) or J1 (odd).
pub fn bessel_j(order: u32, x: f32) -> f32 {
    let x = f64::from(x);
    let value = bessel_j_f64(order, x.abs());
    (if order == 1 && x < 0.0 { -value } else { value }) as f32
}

/// Y0 or Y1: NaN below 0, -∞ at 0. The series (Abramowitz and Stegun 9.1.11)
/// Y0 = (2/π) [(ln(x/2) + γ) J0 + Σ_{k≥1} (-1)^{k+1} H_k (x²/4)^k / (k!)²] and
/// Y1 = (2/π) ln(x/2) J1 - 2/(πx) - (1/π) Σ_{k≥0} (-1)^k (ψ(k+1) + ψ(k+2)) (x/2)^{2k+1} / (k! (k+1)!)
/// up to x = 12, Hankel's expansion past it.
pub fn bessel_y(order: u32, x: f32) -> f32 {
    let x = f64::from(x);
    let value = if x.is_nan() || x < 0.0 {
        f64::NAN
    } else if x == 0.0 {
        f64::NEG_INFINITY
    } else if x > JY_ASYMPTOTIC_FROM {
        let (p, q) = hankel_pq(order, x);
        let (cos_chi, sin_chi) = hankel_phase(order, x);
        (2.0 / (PI * x)).sqrt() * (p * sin_chi + q * cos_chi)
    } else {
        let quarter_square = 0.25 * x * x;
        let log_half = (0.5 * x).ln();
        match order {
            0 => {
                let (mut term, mut harmonic, mut sum) = (1.0f64, 0.0f64, 0.0f64);
                for k in 1..300u32 {
                    let kf = f64::from(k);
                    term *= -quarter_square / (kf * kf);
                    harmonic += 1.0 / kf;
                    sum -= harmonic * term;
                    if (harmonic * term).abs() <= sum.abs() * 1e-17 && kf > quarter_square {
                        break;
                    }
                }
                (2.0 / PI) * ((log_half + EULER_GAMMA) * bessel_j_f64(0, x) + sum)
            }
            _ => {
                let mut term = 0.5 * x;
                let (mut psi_k, mut psi_k1) = (-EULER_GAMMA, 1.0 - EULER_GAMMA);
                let mut sum = (psi_k + psi_k1) * term;
                for k in 1..300u32 {
                    let kf = f64::from(k);
                    term *= -quarter_square / (kf * (kf + 1.0));
                    psi_k += 1.0 / kf;
                    psi_k1 += 1.0 / (kf + 1.0);
                    sum += (psi_k + psi_k1) * term;
                    if term.abs() <= sum.abs() * 1e-17 && kf > quarter_square {
                        break;
                    }
                }
                (2.0 / PI) * log_half * bessel_j_f64(1, x) - 2.0 / (PI * x) - sum / PI
            }
        }
    };
    value as f32
}

/// e^x K_ν(x) for x > 0 and any real order ν: the trapezoid rule (step 0.1) on
/// ∫₀^∞ e^{-x (cosh t - 1)} cosh(νt) dt, stopped once the exponent passes 45, up to x = 15;
/// the asymptotic series sqrt(π/(2x)) Σ_k Π_{j ≤ k} (4ν² - (2j-1)²) / (k! (8x)^k) past it.
fn scaled_k(nu: f64, x: f64) -> f64 {
    if x > K_ASYMPTOTIC_FROM {
        let sum: f64 = asymptotic_terms(4.0 * nu * nu, x).sum();
        return (PI / (2.0 * x)).sqrt() * sum;
    }
    const STEP: f64 = 0.1;
    let mut sum = 0.5;
    for j in 1..2000u32 {
        let t = f64::from(j) * STEP;
        let exponent = x * (t.cosh() - 1.0);
        if exponent > 45.0 {
            break;
        }
        sum += (-exponent).exp() * (nu * t).cosh();
    }
    STEP * sum
}

/// K0 or K1 at 0 < x ≤ 2 (Abramowitz and Stegun 9.6.13 and 9.6.11):
/// K0 = -(ln(x/2) + γ) I0 + Σ_{k≥1} H_k (x²/4)^k / (k!)² and
/// K1 = 1/x + ln(x/2) I1 - (x/4) Σ_{k≥0} (ψ(k+1) + ψ(k+2)) (x²/4)^k / (k! (k+1)!).
fn small_k(order: u32, x: f64) -> f64 {
    let quarter_square = 0.25 * x * x;
    let log_half = (0.5 * x).ln();
    match order {
        0 => {
            let (mut term, mut harmonic, mut sum, mut i0) = (1.0f64, 0.0f64, 0.0f64, 1.0f64);
            for k in 1..100u32 {
                let kf = f64::from(k);
                term *= quarter_square / (kf * kf);
                harmonic += 1.0 / kf;
                sum += harmonic * term;
                i0 += term;
                if term < i0 * 1e-17 {
                    break;
                }
            }
            -(log_half + EULER_GAMMA) * i0 + sum
        }
        _ => {
            let mut term = 0.5 * x;
            let (mut psi_k, mut psi_k1) = (-EULER_GAMMA, 1.0 - EULER_GAMMA);
            let (mut sum, mut i1) = ((psi_k + psi_k1) * term, term);
            for k in 1..100u32 {
                let kf = f64::from(k);
                term *= quarter_square / (kf * (kf + 1.0));
                psi_k += 1.0 / kf;
                psi_k1 += 1.0 / (kf + 1.0);
                sum += (psi_k + psi_k1) * term;
                i1 += term;
                if term < i1 * 1e-17 {
                    break;
                }
            }
            1.0 / x + log_half * i1 - 0.5 * sum
        }
    }
}

/// K0 or K1, times e^x when `scaled`: NaN below 0, +∞ at 0.
pub fn bessel_k(order: u32, x: f32, scaled: bool) -> f32 {
    let x = f64::from(x);
    let value = if x.is_nan() || x < 0.0 {
        f64::NAN
    } else if x == 0.0 {
        f64::INFINITY
    } else if x == f64::INFINITY {
        0.0
    } else if x <= K_SERIES_UP_TO {
        let k = small_k(order, x);
        if scaled {
            k * x.exp()
        } else {
            k
        }
    } else {
        let k = scaled_k(f64::from(order), x);
        if scaled {
            k
        } else {
            k * (-x).exp()
        }
    };
    value as f32
}

/// Ai(0) and -Ai'(0).
const AIRY_C1: f64 = 0.355_028_053_887_817_2;
const AIRY_C2: f64 = 0.258_819_403_792_806_8;

/// Ai (or Ai' when `derivative`) from its Maclaurin series Ai = c1 f - c2 g with
/// f = Σ_k 3^k (1/3)_k x^{3k} / (3k)! and g = Σ_k 3^k (2/3)_k x^{3k+1} / (3k+1)!: each term is the
/// previous one times x³ / ((3k-1) 3k) in f and x³ / (3k (3k+1)) in g. Differentiated term by
/// term, f' starts at x²/2 with factors x³ / (3k (3k+2)) and g' at 1 with x³ / ((3k-2) 3k).
fn airy_maclaurin(x: f64, derivative: bool) -> f64 {
    let cube = x * x * x;
    let (mut f_term, mut g_term) = match derivative {
        false => (1.0, x),
        true => (0.5 * x * x, 1.0),
    };
    let (mut f, mut g) = (f_term, g_term);
    for k in 1..200u32 {
        let k3 = f64::from(3 * k);
        let (f_divisor, g_divisor) = match derivative {
            false => ((k3 - 1.0) * k3, k3 * (k3 + 1.0)),
            true => (k3 * (k3 + 2.0), (k3 - 2.0) * k3),
        };
        f_term *= cube / f_divisor;
        g_term *= cube / g_divisor;
        f += f_term;
        g += g_term;
        if f_term.abs() <= 1e-18 * f.abs() && g_term.abs() <= 1e-18 * g.abs() && k > 3 {
            break;
        }
    }
    AIRY_C1 * f - AIRY_C2 * g
}

/// Ai(-y) (or Ai'(-y)) for y > 8 from the oscillating asymptotic expansions in ζ = (2/3) y^{3/2}
/// (Abramowitz and Stegun 10.4.60 and 10.4.62): with u_0 = 1,
/// u_k = u_{k-1} (6k-5)(6k-3)(6k-1) / ((2k-1) 216 k) and v_k = -u_k (6k+1) / (6k-1),
/// Ai(-y) = (sin(ζ+π/4) P - cos(ζ+π/4) Q) / (√π y^{1/4}) and
/// Ai'(-y) = -y^{1/4} (cos(ζ+π/4) P + sin(ζ+π/4) Q) / √π, P and Q the alternating sums of the
/// even and odd terms c_k / ζ^k, taken while they shrink.
fn airy_oscillating(y: f64, derivative: bool) -> f64 {
    let zeta = 2.0 / 3.0 * y * y.sqrt();
    let (mut u, mut p, mut q, mut last) = (1.0f64, 0.0f64, 0.0f64, f64::INFINITY);
    let mut zeta_power = 1.0f64;
    for k in 0..60u32 {
        if k > 0 {
            let kf = f64::from(k);
            zeta_power *= zeta;
            u *= (6.0 * kf - 5.0) * (6.0 * kf - 3.0) * (6.0 * kf - 1.0)
                / ((2.0 * kf - 1.0) * 216.0 * kf);
        }
        let kf = f64::from(k);
        let coefficient = match derivative {
            false => u,
            true => -u * (6.0 * kf + 1.0) / (6.0 * kf - 1.0),
        };
        let term = coefficient / zeta_power;
        if term.abs() >= last {
            break;
        }
        last = term.abs();
        let signed = if (k / 2) % 2 == 0 { term } else { -term };
        match k % 2 {
            0 => p += signed,
            _ => q += signed,
        }
    }
    let (s, c) = (zeta + 0.25 * PI).sin_cos();
    let fourth_root = y.sqrt().sqrt();
    match derivative {
        false => (s * p - c * q) / (PI.sqrt() * fourth_root),
        true => -fourth_root * (c * p + s * q) / PI.sqrt(),
    }
}

/// The Airy function Ai, or its derivative Ai' when `derivative`: the Maclaurin series on
/// [-8, 2]; above, Ai = (1/π) sqrt(x/3) K_{1/3}(ζ) and Ai' = -x / (π √3) K_{2/3}(ζ) with
/// ζ = (2/3) x^{3/2}; below, the oscillating expansions.
pub fn airy_ai(x: f32, derivative: bool) -> f32 {
    let x = f64::from(x);
    let value = if x.is_nan() {
        x
    } else if x > 2.0 {
        let zeta = 2.0 / 3.0 * x * x.sqrt();
        let decay = (-zeta).exp();
        match derivative {
            false => (x / 3.0).sqrt() / PI * scaled_k(1.0 / 3.0, zeta) * decay,
            true => -x / (PI * 3f64.sqrt()) * scaled_k(2.0 / 3.0, zeta) * decay,
        }
    } else if x >= -8.0 {
        airy_maclaurin(x, derivative)
    } else {
        airy_oscillating(-x, derivative)
    };
    value as f32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_values() {
        let close = |a: f32, b: f64| ((f64::from(a) - b) / b).abs() < 2e-7;
        assert!(close(bessel_j(0, 1.0), 0.765_197_686_557_966_6));
        assert!(close(bessel_j(1, -30.0), 0.118_751_062_616_623_05));
        assert!(close(bessel_y(0, 1.0), 0.088_256_964_215_676_96));
        assert!(close(bessel_y(1, 20.0), -0.165_511_614_362_521_6));
        assert!(close(bessel_k(0, 0.5, false), 0.924_419_071_227_665_9));
        assert!(close(bessel_k(1, 5.0, true), 0.600_273_858_788_312_5));
        assert!(close(bessel_k(1, 40.0, true), 0.200_009_967_254_433_46));
        assert!(close(airy_ai(1.0, false), 0.135_292_416_312_881_4));
        assert!(close(airy_ai(-10.0, true), 0.996_265_044_132_790_5));
        assert!(bessel_y(0, -1.0).is_nan() && bessel_y(1, 0.0) == f32::NEG_INFINITY);
        assert!(bessel_k(0, 0.0, true) == f32::INFINITY && bessel_k(1, -1.0, false).is_nan());
    }
}
