//! The Hurwitz zeta function ζ(x, q) = Σ_{k≥0} (q + k)^{-x}, evaluated in f64 and rounded once;
//! `cuda/kernels/special_functions.cuh` spells the same arithmetic for the GPU.

/// B_{2j} / (2j)!, j = 1..12: the Euler-Maclaurin correction coefficients.
const BERNOULLI_OVER_FACTORIAL: [f64; 12] = [
    0.083_333_333_333_333_33,
    -0.001_388_888_888_888_889,
    3.306_878_306_878_307e-5,
    -8.267_195_767_195_768e-7,
    2.087_675_698_786_81e-8,
    -5.284_190_138_687_493e-10,
    1.338_253_653_068_467_9e-11,
    -3.389_680_296_322_582_7e-13,
    8.586_062_056_277_845e-15,
    -2.174_868_698_558_062e-16,
    5.509_002_828_360_229_5e-18,
    -1.395_446_468_581_252_2e-19,
];

/// Shifts past which a negative q is refused (NaN): each costs one term.
const MAX_SHIFT: f64 = 1_048_576.0;

/// ζ(x, q) with PyTorch's conventions: ∞ at x = 1 and at q a non-positive integer, NaN for x < 1
/// and for a negative q with a non-integer x. Euler-Maclaurin: the terms up to w = q + n
/// (n = 9, plus enough that w ≥ 9 for a negative q) summed directly, then
/// w^{1-x}/(x-1) + w^{-x}/2 + Σ_j B_{2j}/(2j)! x(x+1)…(x+2j-2) w^{-x-2j+1}, stopped once a
/// correction falls below 1e-17 of the sum (within about 1e-15 of the true value).
pub fn hurwitz_zeta(x: f32, q: f32) -> f32 {
    let (x, q) = (f64::from(x), f64::from(q));
    if x.is_nan() || q.is_nan() || x < 1.0 {
        return f32::NAN;
    }
    if x == 1.0 || (q <= 0.0 && q == q.floor()) {
        return f32::INFINITY;
    }
    if q < 0.0 && (x != x.floor() || q < -MAX_SHIFT) {
        return f32::NAN;
    }
    if x == f64::INFINITY {
        return q.powf(-x) as f32;
    }
    if q == f64::INFINITY {
        return 0.0;
    }
    let terms = 9 + (-q).ceil().max(0.0) as u32;
    let mut sum = 0.0;
    for k in 0..terms {
        sum += (q + f64::from(k)).powf(-x);
    }
    let w = q + f64::from(terms);
    sum += w.powf(1.0 - x) / (x - 1.0) + 0.5 * w.powf(-x);
    let (mut rising, mut power) = (x, w.powf(-x - 1.0));
    for (j, coefficient) in BERNOULLI_OVER_FACTORIAL.iter().enumerate() {
        let correction = coefficient * rising * power;
        sum += correction;
        if correction.abs() < 1e-17 * sum.abs() {
            break;
        }
        let j = j as f64;
        rising *= (x + 2.0 * j + 1.0) * (x + 2.0 * j + 2.0);
        power /= w * w;
    }
    sum as f32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_values() {
        // ζ(2, 1) = π²/6, ζ(3, 2) = ζ(3) - 1, ζ(2, -1.5) = ζ(2, 1/2) + 4 + 4/9.
        let pi2 = std::f64::consts::PI.powi(2);
        assert!((f64::from(hurwitz_zeta(2.0, 1.0)) - pi2 / 6.0).abs() < 2e-7);
        assert!((f64::from(hurwitz_zeta(3.0, 2.0)) - 0.202_056_903_159_594_3).abs() < 2e-8);
        assert!((f64::from(hurwitz_zeta(2.0, -1.5)) - (pi2 / 2.0 + 4.0 + 4.0 / 9.0)).abs() < 2e-6);
        assert_eq!(hurwitz_zeta(1.0, 1.0), f32::INFINITY);
        assert_eq!(hurwitz_zeta(2.0, -1.0), f32::INFINITY);
        assert!(hurwitz_zeta(0.5, 1.0).is_nan() && hurwitz_zeta(2.5, -1.5).is_nan());
    }
}
