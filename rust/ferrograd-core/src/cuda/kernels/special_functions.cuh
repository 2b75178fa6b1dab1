// erfcx, the normal log-CDF and quantile, Bessel J0 / J1 / Y0 / Y1, K0 / K1 (and e^x-scaled) and
// the Airy function with its derivative for the pointwise kernels (elementwise.cu's unary codes
// 54-66), and the Hurwitz zeta function (binary code 14): the CPU backend's arithmetic
// (cpu/normal_functions.rs, cpu/bessel.rs, cpu/zeta.rs, which describe the algorithms) in double, rounded once to float. Emulated on the host against the CPU backend by
// tests/test_cuda_emulation.py.

__device__ double fg_erfcx_double(double x) {
    const double PI = 3.14159265358979323846;
    if (x != x) return x;
    if (x < 26.0) return exp(x * x) * erfc(x);
    const double inverse = 1.0 / (2.0 * x * x);
    double term = 1.0, sum = 1.0;
    for (int k = 1; k < 40; ++k) {
        const double next = -term * (double)(2 * k - 1) * inverse;
        if (fabs(next) >= fabs(term) || fabs(next) < fabs(sum) * 1e-17) break;
        term = next;
        sum += term;
    }
    return sum / (x * sqrt(PI));
}

__device__ float fg_erfcx(float x) { return (float)fg_erfcx_double((double)x); }

__device__ float fg_log_ndtr(float xf) {
    const double FRAC_1_SQRT_2 = 0.70710678118654752440;
    const double x = (double)xf;
    if (x >= 0.0) return (float)log1p(-0.5 * erfc(x * FRAC_1_SQRT_2));
    return (float)(log(0.5 * fg_erfcx_double(-x * FRAC_1_SQRT_2)) - 0.5 * x * x);
}

__device__ double fg_lower_normal_quantile(double p) {
    const double PI = 3.14159265358979323846, FRAC_1_SQRT_2 = 0.70710678118654752440;
    if (p == 0.5) return 0.0;
    const double t = sqrt(-2.0 * log(p));
    const double numerator = 2.515517 + t * (0.802853 + t * 0.010328);
    const double denominator = 1.0 + t * (1.432788 + t * (0.189269 + t * 0.001308));
    double x = numerator / denominator - t;
    for (int i = 0; i < 3; ++i) {
        const double excess = 0.5 * erfc(-x * FRAC_1_SQRT_2) - p;
        const double ratio = excess * sqrt(2.0 * PI) * exp(0.5 * x * x);
        x -= ratio / (1.0 + 0.5 * x * ratio);
    }
    return x;
}

__device__ float fg_ndtri(float pf) {
    const double p = (double)pf, inf = (double)FG_INF;
    if (!(p >= 0.0 && p <= 1.0)) return FG_NAN;
    if (p == 0.0) return (float)-inf;
    if (p == 1.0) return (float)inf;
    return (float)(p > 0.5 ? -fg_lower_normal_quantile(1.0 - p) : fg_lower_normal_quantile(p));
}

#define FG_EULER_GAMMA 0.57721566490153286061
#define FG_JY_ASYMPTOTIC_FROM 12.0
#define FG_K_SERIES_UP_TO 2.0
#define FG_K_ASYMPTOTIC_FROM 15.0

// Hankel's P and Q (see cpu/bessel.rs, hankel_pq).
__device__ void fg_hankel_pq(int order, double x, double* p_out, double* q_out) {
    const double mu = 4.0 * (double)(order * order);
    double term = 1.0, p = 1.0, q = 0.0;
    for (int k = 1; k < 200 && fg_asymptotic_next(mu, x, k, &term); ++k) {
        const double signed_term = (k / 2) % 2 == 0 ? term : -term;
        if (k % 2 == 0) p += signed_term;
        else q += signed_term;
    }
    *p_out = p;
    *q_out = q;
}

__device__ void fg_hankel_phase(int order, double x, double* cos_chi, double* sin_chi) {
    const double FRAC_1_SQRT_2 = 0.70710678118654752440;
    const double s = sin(x), c = cos(x);
    if (order == 0) {
        *cos_chi = (c + s) * FRAC_1_SQRT_2;
        *sin_chi = (s - c) * FRAC_1_SQRT_2;
    } else {
        *cos_chi = (s - c) * FRAC_1_SQRT_2;
        *sin_chi = (-s - c) * FRAC_1_SQRT_2;
    }
}

__device__ double fg_bessel_j_double(int order, double x) {
    const double PI = 3.14159265358979323846;
    if (x > FG_JY_ASYMPTOTIC_FROM) {
        double p, q, cos_chi, sin_chi;
        fg_hankel_pq(order, x, &p, &q);
        fg_hankel_phase(order, x, &cos_chi, &sin_chi);
        return sqrt(2.0 / (PI * x)) * (p * cos_chi - q * sin_chi);
    }
    const double quarter_square = 0.25 * x * x;
    double term = order == 0 ? 1.0 : 0.5 * x, sum = term;
    for (int ki = 1; ki < 300; ++ki) {
        const double k = (double)ki;
        term *= -quarter_square / (k * (k + (double)order));
        sum += term;
        if (fabs(term) <= fabs(sum) * 1e-17 && k > quarter_square) break;
    }
    return sum;
}

__device__ __noinline__ float fg_bessel_j(int order, float xf) {
    const double x = (double)xf;
    const double value = fg_bessel_j_double(order, fabs(x));
    return (float)(order == 1 && x < 0.0 ? -value : value);
}

__device__ __noinline__ float fg_bessel_y(int order, float xf) {
    const double PI = 3.14159265358979323846, inf = (double)FG_INF;
    const double x = (double)xf;
    if (x != x || x < 0.0) return FG_NAN;
    if (x == 0.0) return (float)-inf;
    if (x > FG_JY_ASYMPTOTIC_FROM) {
        double p, q, cos_chi, sin_chi;
        fg_hankel_pq(order, x, &p, &q);
        fg_hankel_phase(order, x, &cos_chi, &sin_chi);
        return (float)(sqrt(2.0 / (PI * x)) * (p * sin_chi + q * cos_chi));
    }
    const double quarter_square = 0.25 * x * x, log_half = log(0.5 * x);
    if (order == 0) {
        double term = 1.0, harmonic = 0.0, sum = 0.0;
        for (int ki = 1; ki < 300; ++ki) {
            const double k = (double)ki;
            term *= -quarter_square / (k * k);
            harmonic += 1.0 / k;
            sum -= harmonic * term;
            if (fabs(harmonic * term) <= fabs(sum) * 1e-17 && k > quarter_square) break;
        }
        return (float)((2.0 / PI) * ((log_half + FG_EULER_GAMMA) * fg_bessel_j_double(0, x) + sum));
    }
    double term = 0.5 * x, psi_k = -FG_EULER_GAMMA, psi_k1 = 1.0 - FG_EULER_GAMMA;
    double sum = (psi_k + psi_k1) * term;
    for (int ki = 1; ki < 300; ++ki) {
        const double k = (double)ki;
        term *= -quarter_square / (k * (k + 1.0));
        psi_k += 1.0 / k;
        psi_k1 += 1.0 / (k + 1.0);
        sum += (psi_k + psi_k1) * term;
        if (fabs(term) <= fabs(sum) * 1e-17 && k > quarter_square) break;
    }
    return (float)((2.0 / PI) * log_half * fg_bessel_j_double(1, x) - 2.0 / (PI * x) - sum / PI);
}

// e^x K_nu(x) for x > 0 (see cpu/bessel.rs, scaled_k).
__device__ double fg_scaled_k(double nu, double x) {
    const double PI = 3.14159265358979323846;
    if (x > FG_K_ASYMPTOTIC_FROM) {
        double term = 1.0, sum = 1.0;
        for (int k = 1; k < 200 && fg_asymptotic_next(4.0 * nu * nu, x, k, &term); ++k) sum += term;
        return sqrt(PI / (2.0 * x)) * sum;
    }
    const double STEP = 0.1;
    double sum = 0.5;
    for (int j = 1; j < 2000; ++j) {
        const double t = (double)j * STEP;
        const double exponent = x * (cosh(t) - 1.0);
        if (exponent > 45.0) break;
        sum += exp(-exponent) * cosh(nu * t);
    }
    return STEP * sum;
}

__device__ double fg_small_k(int order, double x) {
    const double quarter_square = 0.25 * x * x, log_half = log(0.5 * x);
    if (order == 0) {
        double term = 1.0, harmonic = 0.0, sum = 0.0, i0 = 1.0;
        for (int ki = 1; ki < 100; ++ki) {
            const double k = (double)ki;
            term *= quarter_square / (k * k);
            harmonic += 1.0 / k;
            sum += harmonic * term;
            i0 += term;
            if (term < i0 * 1e-17) break;
        }
        return -(log_half + FG_EULER_GAMMA) * i0 + sum;
    }
    double term = 0.5 * x, psi_k = -FG_EULER_GAMMA, psi_k1 = 1.0 - FG_EULER_GAMMA;
    double sum = (psi_k + psi_k1) * term, i1 = term;
    for (int ki = 1; ki < 100; ++ki) {
        const double k = (double)ki;
        term *= quarter_square / (k * (k + 1.0));
        psi_k += 1.0 / k;
        psi_k1 += 1.0 / (k + 1.0);
        sum += (psi_k + psi_k1) * term;
        i1 += term;
        if (term < i1 * 1e-17) break;
    }
    return 1.0 / x + log_half * i1 - 0.5 * sum;
}

__device__ __noinline__ float fg_bessel_k(int order, float xf, bool scaled) {
    const double x = (double)xf, inf = (double)FG_INF;
    if (x != x || x < 0.0) return FG_NAN;
    if (x == 0.0) return (float)inf;
    if (x == inf) return 0.f;
    if (x <= FG_K_SERIES_UP_TO) {
        const double k = fg_small_k(order, x);
        return (float)(scaled ? k * exp(x) : k);
    }
    const double k = fg_scaled_k((double)order, x);
    return (float)(scaled ? k : k * exp(-x));
}

__device__ double fg_airy_maclaurin(double x, bool derivative) {
    const double C1 = 0.35502805388781723926, C2 = 0.25881940379280679840;
    const double cube = x * x * x;
    double f_term = derivative ? 0.5 * x * x : 1.0, g_term = derivative ? 1.0 : x;
    double f = f_term, g = g_term;
    for (int k = 1; k < 200; ++k) {
        const double k3 = (double)(3 * k);
        const double f_divisor = derivative ? k3 * (k3 + 2.0) : (k3 - 1.0) * k3;
        const double g_divisor = derivative ? (k3 - 2.0) * k3 : k3 * (k3 + 1.0);
        f_term *= cube / f_divisor;
        g_term *= cube / g_divisor;
        f += f_term;
        g += g_term;
        if (fabs(f_term) <= 1e-18 * fabs(f) && fabs(g_term) <= 1e-18 * fabs(g) && k > 3) break;
    }
    return C1 * f - C2 * g;
}

__device__ double fg_airy_oscillating(double y, bool derivative) {
    const double PI = 3.14159265358979323846;
    const double zeta = 2.0 / 3.0 * y * sqrt(y);
    double u = 1.0, p = 0.0, q = 0.0, last = (double)FG_INF, zeta_power = 1.0;
    for (int k = 0; k < 60; ++k) {
        const double kf = (double)k;
        if (k > 0) zeta_power *= zeta;
        if (k > 0) u *= (6.0 * kf - 5.0) * (6.0 * kf - 3.0) * (6.0 * kf - 1.0) / ((2.0 * kf - 1.0) * 216.0 * kf);
        const double coefficient = derivative ? -u * (6.0 * kf + 1.0) / (6.0 * kf - 1.0) : u;
        const double term = coefficient / zeta_power;
        if (fabs(term) >= last) break;
        last = fabs(term);
        const double signed_term = (k / 2) % 2 == 0 ? term : -term;
        if (k % 2 == 0) p += signed_term;
        else q += signed_term;
    }
    const double s = sin(zeta + 0.25 * PI), c = cos(zeta + 0.25 * PI);
    const double fourth_root = sqrt(sqrt(y));
    return derivative ? -fourth_root * (c * p + s * q) / sqrt(PI) : (s * p - c * q) / (sqrt(PI) * fourth_root);
}

__device__ __noinline__ float fg_airy_ai(float xf, bool derivative) {
    const double PI = 3.14159265358979323846;
    const double x = (double)xf;
    if (x != x) return xf;
    if (x > 2.0) {
        const double zeta = 2.0 / 3.0 * x * sqrt(x), decay = exp(-zeta);
        return (float)(derivative ? -x / (PI * sqrt(3.0)) * fg_scaled_k(2.0 / 3.0, zeta) * decay
                                  : sqrt(x / 3.0) / PI * fg_scaled_k(1.0 / 3.0, zeta) * decay);
    }
    if (x >= -8.0) return (float)fg_airy_maclaurin(x, derivative);
    return (float)fg_airy_oscillating(-x, derivative);
}

// The Hurwitz zeta function (binary code 14; see cpu/zeta.rs for the conventions and the
// Euler-Maclaurin scheme).
__device__ __noinline__ float fg_hurwitz_zeta(float xf, float qf) {
    const double BERNOULLI_OVER_FACTORIAL[12] = {
        0.08333333333333333,     -0.001388888888888889,   3.306878306878307e-05,
        -8.267195767195768e-07,  2.08767569878681e-08,    -5.284190138687493e-10,
        1.3382536530684679e-11,  -3.3896802963225827e-13, 8.586062056277845e-15,
        -2.174868698558062e-16,  5.5090028283602295e-18,  -1.3954464685812522e-19};
    const double MAX_SHIFT = 1048576.0, inf = (double)FG_INF;
    const double x = (double)xf, q = (double)qf;
    if (x != x || q != q || x < 1.0) return FG_NAN;
    if (x == 1.0 || (q <= 0.0 && q == floor(q))) return FG_INF;
    if (q < 0.0 && (x != floor(x) || q < -MAX_SHIFT)) return FG_NAN;
    if (x == inf) return (float)pow(q, -x);
    if (q == inf) return 0.f;
    const unsigned terms = 9u + (unsigned)fmax(ceil(-q), 0.0);
    double sum = 0.0;
    for (unsigned k = 0; k < terms; ++k) sum += pow(q + (double)k, -x);
    const double w = q + (double)terms;
    sum += pow(w, 1.0 - x) / (x - 1.0) + 0.5 * pow(w, -x);
    double rising = x, power = pow(w, -x - 1.0);
    for (int j = 0; j < 12; ++j) {
        const double correction = BERNOULLI_OVER_FACTORIAL[j] * rising * power;
        sum += correction;
        if (fabs(correction) < 1e-17 * fabs(sum)) break;
        rising *= (x + 2.0 * j + 1.0) * (x + 2.0 * j + 2.0);
        power /= w * w;
    }
    return (float)sum;
}
