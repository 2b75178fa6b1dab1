// The gamma family and the inverse error function for the pointwise kernels (elementwise.cu's
// unary codes 46-53, binary codes 11-13): the CPU backend's arithmetic (cpu/gamma_functions.rs) in double, rounded once to
// float, so the two backends agree to the last bit wherever their double libraries do. See that
// file for the algorithms and the pole conventions (PyTorch's). Double precision costs little
// here: these functions are rare in training steps and bound by memory, not by FP64 throughput.
// tests/cuda_emulation/gamma_functions.cpp runs this file on the host against scipy.

__device__ float fg_lgamma(float x) {
    return (float)lgamma((double)x);
}

__device__ double fg_digamma_finite(double x) {
    const double PI = 3.14159265358979323846;
    double result = 0.0;
    if (x < 0.0) {
        result -= PI / tan(PI * (x - floor(x)));
        x = 1.0 - x;
    }
    while (x < 6.0) {
        result -= 1.0 / x;
        x += 1.0;
    }
    if (x == (double)FG_INF) return x;
    const double series[7] = {1.0 / 12.0,  -1.0 / 120.0,       1.0 / 252.0, -1.0 / 240.0,
                              1.0 / 132.0, -691.0 / 32760.0, 1.0 / 12.0};
    const double inv2 = 1.0 / (x * x);
    double tail = 0.0;
    for (int k = 6; k >= 0; --k) tail = (tail + series[k]) * inv2;
    return result + log(x) - 0.5 / x - tail;
}

__device__ float fg_digamma(float xf) {
    const double x = (double)xf;
    if (x == 0.0) return copysign(1.0, x) < 0.0 ? FG_INF : -FG_INF;
    if (x != x || (x < 0.0 && x == floor(x))) return FG_NAN;  // -inf is such an integer
    return (float)fg_digamma_finite(x);
}

// ζ(s, q) for an integer s >= 2: terms summed until q + k >= s + 10, then the Euler-Maclaurin
// tail with 12 Bernoulli terms.
__device__ double fg_hurwitz_zeta(double s, double q) {
    const double coefficients[12] = {
        1.0 / 12.0,
        -1.0 / 720.0,
        1.0 / 30240.0,
        -1.0 / 1209600.0,
        1.0 / 47900160.0,
        -691.0 / 1307674368000.0,
        1.0 / 74724249600.0,
        -3617.0 / 10670622842880000.0,
        43867.0 / 5109094217170944000.0,
        -174611.0 / 802857662698291200000.0,
        77683.0 / 14101100039391805440000.0,
        -236364091.0 / 1693824136731743669452800000.0};
    const double threshold = s + 10.0;
    double a = q, sum = 0.0;
    while (a < threshold) {
        sum += pow(a, -s);
        a += 1.0;
    }
    const double a_power = pow(a, -s);
    double tail = a * a_power / (s - 1.0) + 0.5 * a_power;
    double rising = s, power = a_power / a;
    for (int j = 0; j < 12; ++j) {
        tail += coefficients[j] * rising * power;
        const double k = 2.0 * j;
        rising *= (s + k + 1.0) * (s + k + 2.0);
        power /= a * a;
    }
    return sum + tail;
}

__device__ float fg_polygamma(int n, float xf) {
    if (n == 0) return fg_digamma(xf);
    const double PI = 3.14159265358979323846;
    const double x = (double)xf;
    const bool odd = n % 2 == 1;
    if (x != x || x == -(double)FG_INF) return FG_NAN;
    if (x <= 0.0 && x == floor(x)) return odd ? FG_INF : -FG_INF;
    if (x == (double)FG_INF) return odd ? 0.f : -0.f;
    if (n == 1 && x < 0.0) {
        const double s = sin(PI * (x - floor(x)));
        return (float)(PI * PI / (s * s) - fg_hurwitz_zeta(2.0, 1.0 - x));
    }
    double factorial = 1.0;
    for (int k = 2; k <= n; ++k) factorial *= (double)k;
    return (float)((odd ? 1.0 : -1.0) * factorial * fg_hurwitz_zeta((double)(n + 1), x));
}

// A closed-form guess within 0.2%, then three Halley steps on erf (erfc past 1/2).
__device__ float fg_erfinv(float xf) {
    const double PI = 3.14159265358979323846;
    const double x = (double)xf;
    const double magnitude = fabs(x);
    if (x != x || magnitude > 1.0) return FG_NAN;
    if (magnitude == 1.0) return x > 0.0 ? FG_INF : -FG_INF;
    if (x == 0.0) return xf;
    const double complement = 1.0 - magnitude;
    const double log_term = log(complement * (1.0 + magnitude));
    const double A = 0.147;
    const double b = 2.0 / (PI * A) + 0.5 * log_term;
    double y = sqrt(sqrt(b * b - log_term / A) - b);
    for (int step = 0; step < 3; ++step) {
        const double residual = magnitude <= 0.5 ? erf(y) - magnitude : complement - erfc(y);
        const double slope = 1.12837916709551257390 * exp(-y * y);  // 2 / sqrt(pi)
        const double newton = residual / slope;
        y -= newton / (1.0 + y * newton);
    }
    return (float)copysign(y, x);
}

// The iteration cap of both expansions below (they take about 8 sqrt(a) terms).
#define FG_GAMMA_ITERATIONS 32768

// P(a, x) by its series, for x < a + 1.
__device__ double fg_lower_regularized_gamma(double a, double x) {
    double term = 1.0, sum = 1.0, denominator = a;
    for (int i = 0; i < FG_GAMMA_ITERATIONS; ++i) {
        denominator += 1.0;
        term *= x / denominator;
        sum += term;
        if (term < sum * 1e-17) break;
    }
    return exp(a * log(x) - x - lgamma(a + 1.0)) * sum;
}

// Q(a, x) by its continued fraction (modified Lentz), for x >= a + 1.
__device__ double fg_upper_regularized_gamma(double a, double x) {
    const double TINY = 1e-300;
    double b = x + 1.0 - a, c = 1.0 / TINY, d = 1.0 / b, fraction = d;
    for (int i = 1; i < FG_GAMMA_ITERATIONS; ++i) {
        const double an = -(double)i * ((double)i - a);
        b += 2.0;
        d = an * d + b;
        if (fabs(d) < TINY) d = TINY;
        c = b + an / c;
        if (fabs(c) < TINY) c = TINY;
        d = 1.0 / d;
        const double step = d * c;
        fraction *= step;
        if (fabs(step - 1.0) < 1e-17) break;
    }
    return exp(a * log(x) - x - lgamma(a)) * fraction;
}

// dz/dα of a Gamma(α, 1) draw held at its quantile: -(∂F/∂α) / p(z; α), ∂F/∂α a central
// difference of whichever of P and Q is not near 1. Kept out of line so the binary kernel's other
// ops do not carry its registers.
__device__ __noinline__ float fg_standard_gamma_grad(float alpha, float z) {
    const double a = (double)alpha, x = (double)z;
    if (a != a || x != x || a <= 0.0 || x < 0.0 || a == (double)FG_INF || x == (double)FG_INF) return FG_NAN;
    if (x == 0.0) return 0.f;
    const double h = 1e-4 * (a < 1.0 ? a : sqrt(a));
    const double d_cdf = x < a + 1.0
        ? (fg_lower_regularized_gamma(a + h, x) - fg_lower_regularized_gamma(a - h, x)) / (2.0 * h)
        : -(fg_upper_regularized_gamma(a + h, x) - fg_upper_regularized_gamma(a - h, x)) / (2.0 * h);
    const double density = exp((a - 1.0) * log(x) - x - lgamma(a));
    return (float)(-d_cdf / density);
}

// P(a, x) (or Q with `upper`), the CPU's edge values: NaN for negative or NaN arguments and for
// a = x = 0 or a = x = inf; P = 1 at a = 0 or x = inf; P = 0 at x = 0 or a = inf.
__device__ __noinline__ float fg_regularized_gamma(float af, float xf, bool upper) {
    const double a = (double)af, x = (double)xf, inf = (double)FG_INF;
    if (a != a || x != x || a < 0.0 || x < 0.0 || (a == 0.0 && x == 0.0) || (a == inf && x == inf)) return FG_NAN;
    // (P, Q), each from its own expansion where it is the smaller, the other as its complement.
    double p, q;
    if (a == 0.0 || x == inf) {
        p = 1.0, q = 0.0;
    } else if (x == 0.0 || a == inf) {
        p = 0.0, q = 1.0;
    } else if (x < a + 1.0) {
        p = fg_lower_regularized_gamma(a, x), q = 1.0 - p;
    } else {
        q = fg_upper_regularized_gamma(a, x), p = 1.0 - q;
    }
    return (float)(upper ? q : p);
}

// Replaces `term` (a_{k-1}) by the next term a_k = a_{k-1} (mu - (2k-1)^2) / (k 8x) of the
// large-argument Bessel expansions (cpu/bessel.rs, asymptotic_terms); false, leaving it, once the
// terms stop shrinking or the last fell below 1e-17.
__device__ bool fg_asymptotic_next(double mu, double x, int k, double* term) {
    const double odd = (double)(2 * k - 1);
    const double next = *term * (mu - odd * odd) / ((double)k * 8.0 * x);
    if (!(fabs(next) < fabs(*term) && fabs(*term) >= 1e-17)) return false;
    *term = next;
    return true;
}

// I0 / I1 (order 0 or 1), scaled by e^-|x| when `scaled`: the power series up to |x| = 30, the
// asymptotic series past it (see cpu/gamma_functions.rs, bessel_i).
__device__ __noinline__ float fg_bessel_i(int order, float xf, bool scaled) {
    const double PI = 3.14159265358979323846;
    const double x = (double)xf, inf = (double)FG_INF;
    if (x != x) return FG_NAN;
    const double magnitude = fabs(x);
    double value;
    if (magnitude == inf) {
        value = scaled ? 0.0 : inf;
    } else if (magnitude <= 30.0) {
        const double quarter_square = 0.25 * magnitude * magnitude;
        double term = order == 0 ? 1.0 : 0.5 * magnitude, sum = term;
        for (int k = 1; k < 500; ++k) {
            term *= quarter_square / ((double)k * ((double)k + (double)order));
            sum += term;
            if (term < sum * 1e-17) break;
        }
        value = scaled ? sum * exp(-magnitude) : sum;
    } else {
        const double mu = 4.0 * (double)(order * order);
        double term = 1.0, sum = 1.0;
        for (int k = 1; k < 200 && fg_asymptotic_next(mu, -magnitude, k, &term); ++k) sum += term;
        const double scaled_value = sum / sqrt(2.0 * PI * magnitude);
        value = scaled ? scaled_value : scaled_value * exp(magnitude);
    }
    return (float)(order == 1 && x < 0.0 ? -value : value);
}
