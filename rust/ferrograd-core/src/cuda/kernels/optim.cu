// Optimizer updates, in place, with PyTorch's formulas term for term (the same order of
// operations as the CPU kernels in `optim/kernels.rs`, so results agree to rounding). One thread
// per element; each reads the gradient and the state once and writes parameter and state once
// (Adam: 16 bytes read + 12 written per parameter plus the gradient's 4).

extern "C" __global__ void sgd_f32(float* p, const float* g, long long n, float lr, float sign,
                                   float weight_decay) {
    FG_FOR_EACH(i, n) p[i] -= lr * (sign * g[i] + weight_decay * p[i]);
}

// keep/take: momentum and 1 - dampening (0 and 1 on the first step, when the buffer starts as the
// gradient); from_d/from_b: nesterov steps along d + momentum * b, plain momentum along b.
extern "C" __global__ void sgd_momentum_f32(float* p, const float* g, float* b, long long n,
                                            float lr, float sign, float weight_decay, float keep,
                                            float take, float from_d, float from_b) {
    FG_FOR_EACH(i, n) {
        float d = sign * g[i] + weight_decay * p[i];
        b[i] = keep * b[i] + take * d;
        p[i] -= lr * (from_d * d + from_b * b[i]);
    }
}

// Decoupled decay scales p by `shrink`; L2 decay adds l2 * p to the gradient (one is a no-op).
template <bool AMSGRAD>
__device__ void adam(float* p, const float* g, float* m, float* v, float* vmax, long long n,
                     float step_size, float bias2_sqrt, float shrink, float l2, float b1, float b2,
                     float eps, float sign) {
    FG_FOR_EACH(i, n) {
        float gi = sign * g[i] + l2 * p[i];
        float mi = m[i] + (gi - m[i]) * (1.f - b1);
        float vi = b2 * v[i] + (1.f - b2) * gi * gi;
        m[i] = mi;
        v[i] = vi;
        float denom_v = vi;
        if (AMSGRAD) {
            denom_v = fmaxf(vmax[i], vi);
            vmax[i] = denom_v;
        }
        p[i] = p[i] * shrink - step_size * mi / (sqrtf(denom_v) / bias2_sqrt + eps);
    }
}

extern "C" __global__ void adam_f32(float* p, const float* g, float* m, float* v, long long n,
                                    float step_size, float bias2_sqrt, float shrink, float l2,
                                    float b1, float b2, float eps, float sign) {
    adam<false>(p, g, m, v, nullptr, n, step_size, bias2_sqrt, shrink, l2, b1, b2, eps, sign);
}

extern "C" __global__ void adam_amsgrad_f32(float* p, const float* g, float* m, float* v,
                                            float* vmax, long long n, float step_size,
                                            float bias2_sqrt, float shrink, float l2, float b1,
                                            float b2, float eps, float sign) {
    adam<true>(p, g, m, v, vmax, n, step_size, bias2_sqrt, shrink, l2, b1, b2, eps, sign);
}

// `ga` (centered) and `buf` (momentum) are only touched by the variants that have them.
template <bool CENTERED, bool MOMENTUM>
__device__ void rmsprop(float* p, const float* g, float* sq, float* ga, float* buf, long long n,
                        float lr, float alpha, float eps, float weight_decay, float momentum,
                        float sign) {
    FG_FOR_EACH(i, n) {
        float gi = sign * g[i] + weight_decay * p[i];
        sq[i] = alpha * sq[i] + (1.f - alpha) * gi * gi;
        float avg;
        if (CENTERED) {
            ga[i] = alpha * ga[i] + (1.f - alpha) * gi;
            avg = sqrtf(sq[i] - ga[i] * ga[i]) + eps;
        } else {
            avg = sqrtf(sq[i]) + eps;
        }
        if (MOMENTUM) {
            buf[i] = momentum * buf[i] + gi / avg;
            p[i] -= lr * buf[i];
        } else {
            p[i] -= lr * gi / avg;
        }
    }
}

#define FG_RMSPROP_SCALARS                                                                        \
    long long n, float lr, float alpha, float eps, float weight_decay, float momentum, float sign
#define FG_RMSPROP_ARGS n, lr, alpha, eps, weight_decay, momentum, sign

extern "C" __global__ void rmsprop_f32(float* p, const float* g, float* sq, FG_RMSPROP_SCALARS) {
    rmsprop<false, false>(p, g, sq, nullptr, nullptr, FG_RMSPROP_ARGS);
}
extern "C" __global__ void rmsprop_centered_f32(float* p, const float* g, float* sq, float* ga,
                                                FG_RMSPROP_SCALARS) {
    rmsprop<true, false>(p, g, sq, ga, nullptr, FG_RMSPROP_ARGS);
}
extern "C" __global__ void rmsprop_momentum_f32(float* p, const float* g, float* sq, float* buf,
                                                FG_RMSPROP_SCALARS) {
    rmsprop<false, true>(p, g, sq, nullptr, buf, FG_RMSPROP_ARGS);
}
extern "C" __global__ void rmsprop_centered_momentum_f32(float* p, const float* g, float* sq,
                                                         float* ga, float* buf,
                                                         FG_RMSPROP_SCALARS) {
    rmsprop<true, true>(p, g, sq, ga, buf, FG_RMSPROP_ARGS);
}
