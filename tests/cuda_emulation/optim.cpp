// rust/ferrograd-core/src/cuda/kernels/optim.cu's fused multi-tensor updates run on the host
// (emulate.h): one launch updates a list of parameters whose sizes straddle the 4096-element
// chunk that each block takes (1, 4095, 4096, 4097, 9000 and 37 elements), so every block must
// find its tensor and chunk from `first_block`. SGD (plain, momentum, Nesterov), Adam (L2 and
// decoupled decay, amsgrad), Adagrad (decaying rate, initial accumulator) and Adamax each take
// three steps, RAdam eight (five before its rectification starts, three after), NAdam four, Adadelta and Rprop five, ASGD
// seven (averaging from the fifth), the per-tensor
// constants computed as the launcher does, against a float64 reference of PyTorch's formulas. Prints each case's worst relative error; exits non-zero past 1e-5.
#include "emulate.h"
#include "reference.h"

#include <algorithm>
#include <cstdio>
#include <functional>
#include <random>
#include <string>

#define FG_FOR_EACH(i, n) \
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < (n); i += (long long)blockDim.x * gridDim.x)

#include "../../rust/ferrograd-core/src/cuda/kernels/optim.cu"

namespace {

const std::vector<int> SIZES = {1, 4095, 4096, 4097, 9000, 37};

// One tensor of the list: parameter, gradient and up to three state buffers, in float32 for the
// kernel and float64 for the reference.
struct Tensor {
    std::vector<float> p, g, s[3];
    std::vector<double> rp, rs[3];
};

// Builds the launch's list over `ts`, each with `states` state buffers (a null pointer past
// them) and the per-tensor constants `a`, `b`, `c`, and returns the number of blocks.
long long fill_list(TensorList& L, std::vector<Tensor>& ts, int states, float a, float b, float c = 0.f) {
    long long blocks = 0;
    L.count = int(ts.size());
    for (size_t t = 0; t < ts.size(); ++t) {
        L.p[t] = ts[t].p.data();
        L.g[t] = ts[t].g.data();
        float** slots[3] = {L.s0, L.s1, L.s2};
        for (int k = 0; k < 3; ++k) slots[k][t] = k < states ? ts[t].s[k].data() : nullptr;
        L.a[t] = a;
        L.b[t] = b;
        L.c[t] = c;
        L.n[t] = (long long)ts[t].p.size();
        L.first_block[t] = blocks;
        blocks += (L.n[t] + FG_CHUNK - 1) / FG_CHUNK;
    }
    L.first_block[ts.size()] = blocks;
    return blocks;
}

std::vector<Tensor> make_tensors(unsigned seed, double initial_state) {
    std::mt19937 gen(seed);
    std::normal_distribution<float> normal(0.f, 1.f);
    std::vector<Tensor> ts(SIZES.size());
    for (size_t t = 0; t < SIZES.size(); ++t) {
        Tensor& x = ts[t];
        for (int i = 0; i < SIZES[t]; ++i) x.p.push_back(normal(gen));
        x.rp.assign(x.p.begin(), x.p.end());
        for (int k = 0; k < 3; ++k) {
            x.s[k].assign(SIZES[t], float(initial_state));
            x.rs[k].assign(SIZES[t], initial_state);
        }
    }
    return ts;
}

void new_gradients(std::vector<Tensor>& ts, std::mt19937& gen) {
    std::normal_distribution<float> normal(0.f, 1.f);
    for (Tensor& x : ts) {
        x.g.resize(x.p.size());
        for (float& v : x.g) v = normal(gen);
    }
}

bool report(const std::string& name, const std::vector<Tensor>& ts) {
    double worst = 0;
    for (const Tensor& x : ts) worst = std::max(worst, worst_error(x.p, x.rp));
    const bool ok = worst < 1e-5;
    printf("%s: worst error %.1e %s\n", name.c_str(), worst, ok ? "ok" : "FAILED");
    return ok;
}

// Runs `launch(step, list)` for each of `steps` steps and `reference(step, tensor)` on every tensor.
bool run(const std::string& name, double initial_state, unsigned seed,
         const std::function<void(int, std::vector<Tensor>&)>& launch,
         const std::function<void(int, Tensor&)>& reference, int steps = 3) {
    std::vector<Tensor> ts = make_tensors(seed, initial_state);
    std::mt19937 gen(seed + 100);
    for (int step = 1; step <= steps; ++step) {
        new_gradients(ts, gen);
        launch(step, ts);
        for (Tensor& x : ts) reference(step, x);
    }
    return report(name, ts);
}

// The float64 reference of the moment update Adam, RAdam and NAdam share: decoupled decay scales
// p, L2 decay adds wd * p to the gradient; then both moments. Returns the gradient used.
double adam_moments(double& p, double g, double& m, double& v, bool decoupled, double lr, double wd, double b1,
                    double b2) {
    if (decoupled) p *= 1 - lr * wd;
    else g += wd * p;
    m = b1 * m + (1 - b1) * g;
    v = b2 * v + (1 - b2) * g * g;
    return g;
}

bool sgd(bool momentum, bool nesterov) {
    const float lr = 0.1f, mom = 0.9f, wd = 0.01f, dampening = nesterov ? 0.f : 0.25f;
    auto launch = [&](int step, std::vector<Tensor>& ts) {
        TensorList L{};
        // The launcher's per-tensor constants: the buffer's factor, the direction's weight, and
        // 1 on step 1, when the buffer starts as the direction.
        const long long blocks = fill_list(L, ts, momentum ? 1 : 0, mom, 1.f - dampening, step == 1 ? 1.f : 0.f);
        emulate_launch({unsigned(blocks)}, {256}, sgd_list_f32, L, -lr, 1.f, wd, mom, nesterov ? 1.f : 0.f);
    };
    auto reference = [&](int step, Tensor& x) {
        for (size_t i = 0; i < x.p.size(); ++i) {
            const double d = double(x.g[i]) + wd * x.rp[i];
            if (!momentum) {
                x.rp[i] -= lr * d;
                continue;
            }
            double& b = x.rs[0][i];
            b = step == 1 ? d : mom * b + (1 - dampening) * d;
            x.rp[i] -= lr * (nesterov ? d + mom * b : b);
        }
    };
    const std::string name = std::string("sgd") + (momentum ? (nesterov ? ", nesterov" : ", momentum") : "");
    return run(name, 0.0, 1, launch, reference);
}

bool adam(bool decoupled, bool amsgrad) {
    const double lr = 0.01, b1 = 0.8, b2 = 0.95, eps = 1e-6, wd = 0.1;
    auto launch = [&](int step, std::vector<Tensor>& ts) {
        TensorList L{};
        const float neg_step_size = float(-(lr / (1 - std::pow(b1, step))));
        const float bias2_sqrt = float(std::sqrt(1 - std::pow(b2, step)));
        const long long blocks = fill_list(L, ts, amsgrad ? 3 : 2, neg_step_size, bias2_sqrt);
        const float shrink = decoupled ? float(1 - lr * wd) : 1.f, l2 = decoupled ? 0.f : float(wd);
        emulate_launch({unsigned(blocks)}, {256}, adam_list_f32, L, shrink, l2, float(1 - b1), float(b2),
                       float(1 - b2), float(eps), 1.f);
    };
    auto reference = [&](int step, Tensor& x) {
        for (size_t i = 0; i < x.p.size(); ++i) {
            double& p = x.rp[i];
            double &m = x.rs[0][i], &v = x.rs[1][i], &vmax = x.rs[2][i];
            adam_moments(p, x.g[i], m, v, decoupled, lr, wd, b1, b2);
            vmax = std::max(vmax, v);
            const double denom = std::sqrt(amsgrad ? vmax : v) / std::sqrt(1 - std::pow(b2, step)) + eps;
            p -= lr / (1 - std::pow(b1, step)) * m / denom;
        }
    };
    return run(std::string("adam") + (decoupled ? "w" : "") + (amsgrad ? ", amsgrad" : ""), 0.0, 2, launch, reference);
}

bool adagrad(bool maximize) {
    const double lr = 0.05, lr_decay = 0.3, wd = 0.02, eps = 1e-10, initial = 0.1;
    const double sign = maximize ? -1 : 1;
    auto launch = [&](int step, std::vector<Tensor>& ts) {
        TensorList L{};
        const long long blocks = fill_list(L, ts, 1, float(-(lr / (1 + (step - 1) * lr_decay))), 0.f);
        emulate_launch({unsigned(blocks)}, {256}, adagrad_list_f32, L, float(sign), float(wd), float(eps));
    };
    auto reference = [&](int step, Tensor& x) {
        for (size_t i = 0; i < x.p.size(); ++i) {
            const double g = sign * x.g[i] + wd * x.rp[i];
            double& sum = x.rs[0][i];
            sum += g * g;
            x.rp[i] -= lr / (1 + (step - 1) * lr_decay) * g / (std::sqrt(sum) + eps);
        }
    };
    return run(std::string("adagrad") + (maximize ? ", maximize" : ""), initial, 3, launch, reference);
}

bool adamax() {
    const double lr = 0.02, b1 = 0.8, b2 = 0.9, eps = 1e-6, wd = 0.05;
    auto launch = [&](int step, std::vector<Tensor>& ts) {
        TensorList L{};
        const long long blocks = fill_list(L, ts, 2, float(-(lr / (1 - std::pow(b1, step)))), 0.f);
        emulate_launch({unsigned(blocks)}, {256}, adamax_list_f32, L, 1.f, float(wd), float(1 - b1), float(b2),
                       float(eps));
    };
    auto reference = [&](int step, Tensor& x) {
        for (size_t i = 0; i < x.p.size(); ++i) {
            const double g = x.g[i] + wd * x.rp[i];
            double &m = x.rs[0][i], &u = x.rs[1][i];
            m = b1 * m + (1 - b1) * g;
            u = std::max(b2 * u, std::fabs(g) + eps);
            x.rp[i] -= lr / (1 - std::pow(b1, step)) * m / u;
        }
    };
    return run("adamax", 0.0, 4, launch, reference);
}

// With b2 = 0.9 the rectification is undefined for steps 1 to 5 (rho_t <= 5) and applies from step 6.
bool radam(bool decoupled) {
    const double lr = 0.01, b1 = 0.8, b2 = 0.9, eps = 1e-7, wd = 0.1;
    const double rho_inf = 2 / (1 - b2) - 1;
    auto rectification = [&](int step) {
        const double rho = rho_inf - 2 * step * std::pow(b2, step) / (1 - std::pow(b2, step));
        return rho > 5 ? std::sqrt((rho - 4) * (rho - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho)) : 0.0;
    };
    auto launch = [&](int step, std::vector<Tensor>& ts) {
        TensorList L{};
        const long long blocks = fill_list(L, ts, 2, float(1 - std::pow(b1, step)),
                                           float(std::sqrt(1 - std::pow(b2, step))), float(rectification(step)));
        const float shrink = decoupled ? float(1 - lr * wd) : 1.f, l2 = decoupled ? 0.f : float(wd);
        emulate_launch({unsigned(blocks)}, {256}, radam_list_f32, L, float(lr), shrink, l2, float(1 - b1), float(b2),
                       float(1 - b2), float(eps), 1.f);
    };
    auto reference = [&](int step, Tensor& x) {
        const double rect = rectification(step);
        for (size_t i = 0; i < x.p.size(); ++i) {
            double& p = x.rp[i];
            double &m = x.rs[0][i], &v = x.rs[1][i];
            adam_moments(p, x.g[i], m, v, decoupled, lr, wd, b1, b2);
            const double corrected = m / (1 - std::pow(b1, step));
            p -= rect > 0 ? corrected * lr * (std::sqrt(1 - std::pow(b2, step)) / (std::sqrt(v) + eps)) * rect
                          : corrected * lr;
        }
    };
    return run(std::string("radam") + (decoupled ? ", decoupled decay" : ""), 0.0, 5, launch, reference, 8);
}

// The momentum coefficient mu_t warms up with the momentum decay; the launcher keeps the product of
// the mu_t in float32 and passes the two update coefficients per tensor.
bool nadam(bool decoupled) {
    const double lr = 0.01, b1 = 0.8, b2 = 0.9, eps = 1e-7, wd = 0.1, psi = 0.05;
    auto mu = [&](int step) { return b1 * (1 - 0.5 * std::pow(0.96, step * psi)); };
    float product = 1.f;
    double ref_product = 1.0;
    auto launch = [&](int step, std::vector<Tensor>& ts) {
        TensorList L{};
        product *= float(mu(step));
        const double grad_coef = -lr * (1 - mu(step)) / (1 - double(product));
        const double momentum_coef = -lr * mu(step + 1) / (1 - double(product) * mu(step + 1));
        const long long blocks = fill_list(L, ts, 2, float(1 - std::pow(b2, step)), float(grad_coef),
                                           float(momentum_coef));
        const float shrink = decoupled ? float(1 - lr * wd) : 1.f, l2 = decoupled ? 0.f : float(wd);
        emulate_launch({unsigned(blocks)}, {256}, nadam_list_f32, L, shrink, l2, float(1 - b1), float(b2),
                       float(1 - b2), float(eps), 1.f);
    };
    int last_step = 0;
    auto reference = [&](int step, Tensor& x) {
        if (step != last_step) {
            ref_product *= mu(step);
            last_step = step;
        }
        const double mu_next_product = ref_product * mu(step + 1);
        for (size_t i = 0; i < x.p.size(); ++i) {
            double& p = x.rp[i];
            double &m = x.rs[0][i], &v = x.rs[1][i];
            const double g = adam_moments(p, x.g[i], m, v, decoupled, lr, wd, b1, b2);
            const double denom = std::sqrt(v / (1 - std::pow(b2, step))) + eps;
            p -= lr * (1 - mu(step)) / (1 - ref_product) * g / denom;
            p -= lr * mu(step + 1) / (1 - mu_next_product) * m / denom;
        }
    };
    return run(std::string("nadam") + (decoupled ? ", decoupled decay" : ""), 0.0, 6, launch, reference, 4);
}

bool adadelta(bool maximize) {
    const double lr = 0.5, rho = 0.8, eps = 1e-6, wd = 0.05, sign = maximize ? -1 : 1;
    auto launch = [&](int, std::vector<Tensor>& ts) {
        TensorList L{};
        const long long blocks = fill_list(L, ts, 2, 0.f, 0.f);
        emulate_launch({unsigned(blocks)}, {256}, adadelta_list_f32, L, float(-lr), float(rho), float(1 - rho),
                       float(eps), float(wd), float(sign));
    };
    auto reference = [&](int, Tensor& x) {
        for (size_t i = 0; i < x.p.size(); ++i) {
            const double g = sign * x.g[i] + wd * x.rp[i];
            double &s = x.rs[0][i], &a = x.rs[1][i];
            s = rho * s + (1 - rho) * g * g;
            const double delta = std::sqrt(a + eps) / std::sqrt(s + eps) * g;
            a = rho * a + (1 - rho) * delta * delta;
            x.rp[i] -= lr * delta;
        }
    };
    return run(std::string("adadelta") + (maximize ? ", maximize" : ""), 0.0, 7, launch, reference, 5);
}

// The step sizes start at lr (the optimizer creates the buffer so). The gradients are fresh normal
// draws, so a coordinate's sign agrees with its last one half the time: sizes grow and shrink.
bool rprop() {
    const double lr = 0.01, eta_minus = 0.5, eta_plus = 1.2, low = 1e-4, high = 0.015;
    auto sgn = [](double x) { return x > 0 ? 1.0 : (x < 0 ? -1.0 : 0.0); };
    auto launch = [&](int step, std::vector<Tensor>& ts) {
        TensorList L{};
        if (step == 1)
            for (Tensor& x : ts) x.s[1].assign(x.p.size(), float(lr));
        const long long blocks = fill_list(L, ts, 2, 0.f, 0.f);
        emulate_launch({unsigned(blocks)}, {256}, rprop_list_f32, L, float(eta_minus), float(eta_plus), float(low),
                       float(high), 1.f);
    };
    auto reference = [&](int step, Tensor& x) {
        if (step == 1) x.rs[1].assign(x.p.size(), lr);
        for (size_t i = 0; i < x.p.size(); ++i) {
            double &prev = x.rs[0][i], &size = x.rs[1][i];
            const double g = x.g[i], agreement = sgn(g * prev);
            size = std::clamp(size * (agreement > 0 ? eta_plus : (agreement < 0 ? eta_minus : 1.0)), low, high);
            const double used = agreement < 0 ? 0.0 : g;
            x.rp[i] -= sgn(used) * size;
            prev = used;
        }
    };
    return run("rprop", 0.0, 8, launch, reference, 5);
}

// ASGD: the step size of step t is lr, then lr / (1 + lambd lr (t - 1))^alpha; ax is the iterate
// while mu is 1 and averages with mu = 1 / (t - 1 - t0) after (from step 5 with t0 = 2).
bool asgd() {
    const double lr = 0.05, lambd = 0.1, alpha = 0.5, t0 = 2, wd = 0.01;
    auto eta = [&](int step) { return step == 1 ? lr : lr / std::pow(1 + lambd * lr * (step - 1), alpha); };
    auto mu = [&](int step) { return step == 1 ? 1.0 : 1 / std::max(1.0, step - 1 - t0); };
    auto launch = [&](int step, std::vector<Tensor>& ts) {
        TensorList L{};
        const double e = float(eta(step));  // the launcher reads eta from float32 state
        const long long blocks = fill_list(L, ts, 1, float(1 - lambd * e), float(-e), float(mu(step)));
        emulate_launch({unsigned(blocks)}, {256}, asgd_list_f32, L, 1.f, float(wd));
    };
    auto reference = [&](int step, Tensor& x) {
        for (size_t i = 0; i < x.p.size(); ++i) {
            double& p = x.rp[i];
            double& ax = x.rs[0][i];
            const double g = x.g[i] + wd * p;
            p = p * (1 - lambd * eta(step)) - eta(step) * g;
            ax = mu(step) == 1 ? p : ax + (p - ax) * mu(step);
        }
    };
    return run("asgd", 0.0, 9, launch, reference, 7);
}

}  // namespace

int main() {
    int failed = 0;
    failed += !sgd(false, false);
    failed += !sgd(true, false);
    failed += !sgd(true, true);
    failed += !adam(false, false);
    failed += !adam(true, true);
    failed += !adagrad(false);
    failed += !adagrad(true);
    failed += !adamax();
    failed += !radam(false);
    failed += !radam(true);
    failed += !nadam(false);
    failed += !nadam(true);
    failed += !adadelta(false);
    failed += !adadelta(true);
    failed += !rprop();
    failed += !asgd();
    printf(failed ? "%d cases FAILED\n" : "all cases passed\n", failed);
    return failed != 0;
}
