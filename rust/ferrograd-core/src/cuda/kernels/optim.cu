// Optimizer updates, in place, in PyTorch's tensor ops term for term and rounding as its CPU
// kernels do (see `optim/arith.rs`): `add(x, alpha)` is fmaf(x, alpha, self), `addcmul` is
// fmaf(value * t1, t2, self), `addcdiv` is self + (value * t1) / t2, `lerp` fmaf(w, end - self,
// self). This file is compiled with --fmad=false, so no other product is fused and an update
// gives the CPU backend's bits. Each element is read and written once: AdamW moves 28 bytes per
// parameter (param, grad, exp_avg, exp_avg_sq read; param, exp_avg, exp_avg_sq written).
// Measured (H200, benches/run.py --only gpu, before the explicit fmaf): AdamW over 100M
// parameters at 3.75 TB/s, 90% of a device copy, in 0.86× the time of
// torch.optim.AdamW(fused=True).

// Fused multi-tensor updates: one launch updates up to FG_LIST parameters. The tensors' pointers
// and per-tensor constants travel in the kernel parameter block (about 2 KB, under the 4 KB limit);
// each block updates one FG_CHUNK-element chunk of one tensor, found by scanning `first_block`
// (at most FG_LIST entries, the same for every thread of the block).
#define FG_LIST 32
#define FG_CHUNK 4096

struct TensorList {
    float* p[FG_LIST];
    const float* g[FG_LIST];
    float* s0[FG_LIST];  // Adam: exp_avg; SGD: momentum buffer (null without momentum); Adagrad: sum; Rprop: prev; ASGD: ax
    float* s1[FG_LIST];  // Adam: exp_avg_sq
    float* s2[FG_LIST];  // Adam: max_exp_avg_sq (null without amsgrad)
    float a[FG_LIST];    // Adam: -lr / (1 - b1^t); SGD: the buffer's factor; Adagrad: -lr_t
    float b[FG_LIST];    // Adam: sqrt(1 - b2^t); SGD: the new direction's weight
    float c[FG_LIST];    // SGD: 1 on the first step; RAdam: the rectification (0 while undefined); NAdam: momentum coefficient
    long long n[FG_LIST];
    long long first_block[FG_LIST + 1];
    int count;
};

__device__ __forceinline__ int fg_list_tensor(const TensorList& L) {
    int t = 0;
    while (t + 1 < L.count && (long long)blockIdx.x >= L.first_block[t + 1]) ++t;
    return t;
}

// Element i of tensor t of the list, visited once by one thread of the chunk's block.
#define FG_LIST_FOR(L, t, i)                                                                      \
    int t = fg_list_tensor(L);                                                                    \
    long long chunk_start = ((long long)blockIdx.x - L.first_block[t]) * FG_CHUNK;                \
    long long chunk_end = min(chunk_start + FG_CHUNK, L.n[t]);                                    \
    for (long long i = chunk_start + threadIdx.x; i < chunk_end; i += blockDim.x)

// PyTorch's tensor ops on one element (see the file's header).
__device__ __forceinline__ float fg_add(float self, float other, float alpha) { return fmaf(other, alpha, self); }
__device__ __forceinline__ float fg_addcmul(float self, float t1, float t2, float value) {
    return fmaf(value * t1, t2, self);
}
__device__ __forceinline__ float fg_addcdiv(float self, float t1, float t2, float value) {
    return self + value * t1 / t2;
}
__device__ __forceinline__ float fg_lerp(float self, float end, float w) {
    return fabsf(w) < 0.5f ? fmaf(w, end - self, self) : fmaf(w - 1.f, end - self, end);
}
// torch.maximum: NaN if either is (fmaxf would drop it; x != x tests for NaN).
__device__ __forceinline__ float fg_nan_max(float a, float b) { return (a != a || a > b) ? a : b; }
// The signed gradient with its L2 term, skipped when the decay is 0 as PyTorch skips it.
__device__ __forceinline__ float fg_decayed(float g, float p, float sign, float weight_decay) {
    float d = sign * g;
    return weight_decay != 0.f ? fg_add(d, p, weight_decay) : d;
}

// SGD: a[t] the buffer's factor (momentum), b[t] the new direction's weight (1 - dampening),
// c[t] 1 on the first step (the buffer starts as the direction); nesterov steps along
// d + momentum * buf.
extern "C" __global__ void sgd_list_f32(TensorList L, float neg_lr, float sign, float weight_decay,
                                        float momentum, float nesterov) {
    FG_LIST_FOR(L, t, i) {
        float* p = L.p[t];
        float d = fg_decayed(L.g[t][i], p[i], sign, weight_decay);
        float* buf = L.s0[t];
        if (buf == nullptr) {
            p[i] = fg_add(p[i], d, neg_lr);
        } else {
            float b = L.c[t] != 0.f ? d : fg_add(buf[i] * L.a[t], d, L.b[t]);
            buf[i] = b;
            p[i] = fg_add(p[i], nesterov != 0.f ? fg_add(d, b, momentum) : b, neg_lr);
        }
    }
}

// Adam's moment update of one element (Adam, RAdam, NAdam): the gradient with its sign and L2
// term, m.lerp_(g, 1 - b1), v.mul_(b2).addcmul_(g, g, value=1 - b2); returns the gradient used.
__device__ __forceinline__ float adam_moments(float p, float g, float* m, float* v, float sign, float l2, float w1,
                                              float b2, float w2) {
    float gi = fg_decayed(g, p, sign, l2);
    *m = fg_lerp(*m, gi, w1);
    *v = fg_addcmul(*v * b2, gi, gi, w2);
    return gi;
}

// Decoupled decay scales p by `shrink`; L2 decay adds l2 * p to the gradient (one is a no-op).
// a[t] = -lr / (1 - b1^t), b[t] = sqrt(1 - b2^t).
extern "C" __global__ void adam_list_f32(TensorList L, float shrink, float l2, float w1, float b2, float w2,
                                         float eps, float sign) {
    FG_LIST_FOR(L, t, i) {
        float *p = L.p[t], *m = L.s0[t], *v = L.s1[t], *vmax = L.s2[t];
        float mi = m[i], vi = v[i];
        adam_moments(p[i], L.g[t][i], &mi, &vi, sign, l2, w1, b2, w2);
        m[i] = mi;
        v[i] = vi;
        float denom_v = vi;
        if (vmax != nullptr) {
            denom_v = fg_nan_max(vmax[i], vi);
            vmax[i] = denom_v;
        }
        p[i] = fg_addcdiv(p[i] * shrink, mi, sqrtf(denom_v) / L.b[t] + eps, L.a[t]);
    }
}

// Adagrad: s0 is the running sum of squares, a[t] minus the step's learning rate
// -lr / (1 + (t - 1) * decay).
extern "C" __global__ void adagrad_list_f32(TensorList L, float sign, float weight_decay, float eps) {
    FG_LIST_FOR(L, t, i) {
        float *p = L.p[t], *sum = L.s0[t];
        float gi = fg_decayed(L.g[t][i], p[i], sign, weight_decay);
        float si = fmaf(gi, gi, sum[i]);
        sum[i] = si;
        p[i] = fg_addcdiv(p[i], gi, sqrtf(si) + eps, L.a[t]);
    }
}

// Adamax: s0 exp_avg, s1 the infinity norm u, a[t] = -lr / (1 - b1^t).
extern "C" __global__ void adamax_list_f32(TensorList L, float sign, float weight_decay, float w1, float b2,
                                           float eps) {
    FG_LIST_FOR(L, t, i) {
        float *p = L.p[t], *m = L.s0[t], *u = L.s1[t];
        float gi = fg_decayed(L.g[t][i], p[i], sign, weight_decay);
        float mi = fg_lerp(m[i], gi, w1);
        float ui = fg_nan_max(u[i] * b2, fabsf(gi) + eps);
        m[i] = mi;
        u[i] = ui;
        p[i] = fg_addcdiv(p[i], mi, ui, L.a[t]);
    }
}

// RAdam: s0 exp_avg, s1 exp_avg_sq; a[t] = 1 - b1^t, b[t] = sqrt(1 - b2^t), c[t] the
// rectification (0 while undefined: the bias-corrected momentum alone). The adaptive factor is
// a float over a tensor, which PyTorch evaluates as the tensor's reciprocal times the float.
extern "C" __global__ void radam_list_f32(TensorList L, float lr, float shrink, float l2, float w1, float b2,
                                          float w2, float eps, float sign) {
    FG_LIST_FOR(L, t, i) {
        float *p = L.p[t], *m = L.s0[t], *v = L.s1[t];
        float pi = p[i] * shrink, mi = m[i], vi = v[i];
        adam_moments(pi, L.g[t][i], &mi, &vi, sign, l2, w1, b2, w2);
        m[i] = mi;
        v[i] = vi;
        float step = mi / L.a[t] * lr;
        if (L.c[t] > 0.f) step = step * (1.f / (sqrtf(vi) + eps) * L.b[t]) * L.c[t];
        p[i] = pi - step;
    }
}

// NAdam: s0 exp_avg, s1 exp_avg_sq; a[t] = 1 - b2^t, b[t] and c[t] the coefficients of the
// gradient and of the momentum (from the float32 product of the momentum coefficients).
extern "C" __global__ void nadam_list_f32(TensorList L, float shrink, float l2, float w1, float b2, float w2,
                                          float eps, float sign) {
    FG_LIST_FOR(L, t, i) {
        float *p = L.p[t], *m = L.s0[t], *v = L.s1[t];
        float pi = p[i] * shrink, mi = m[i], vi = v[i];
        float gi = adam_moments(pi, L.g[t][i], &mi, &vi, sign, l2, w1, b2, w2);
        m[i] = mi;
        v[i] = vi;
        float denom = sqrtf(vi / L.a[t]) + eps;
        pi = fg_addcdiv(pi, gi, denom, L.b[t]);
        p[i] = fg_addcdiv(pi, mi, denom, L.c[t]);
    }
}

// Adadelta: s0 square_avg, s1 acc_delta; w = 1 - rho.
extern "C" __global__ void adadelta_list_f32(TensorList L, float neg_lr, float rho, float w, float eps,
                                             float weight_decay, float sign) {
    FG_LIST_FOR(L, t, i) {
        float *p = L.p[t], *sq = L.s0[t], *acc = L.s1[t];
        float gi = fg_decayed(L.g[t][i], p[i], sign, weight_decay);
        float si = fg_addcmul(sq[i] * rho, gi, gi, w);
        float delta = sqrtf(acc[i] + eps) / sqrtf(si + eps) * gi;
        sq[i] = si;
        acc[i] = fg_addcmul(acc[i] * rho, delta, delta, w);
        p[i] = fg_add(p[i], delta, neg_lr);
    }
}

// ASGD: s0 the averaged iterate ax; a[t] = 1 - lambd * eta, b[t] = -eta, c[t] = mu (ax follows
// p exactly while mu is 1).
extern "C" __global__ void asgd_list_f32(TensorList L, float sign, float weight_decay) {
    FG_LIST_FOR(L, t, i) {
        float *p = L.p[t], *ax = L.s0[t];
        float gi = fg_decayed(L.g[t][i], p[i], sign, weight_decay);
        float pi = fg_add(p[i] * L.a[t], gi, L.b[t]);
        p[i] = pi;
        ax[i] = L.c[t] == 1.f ? pi : ax[i] + (pi - ax[i]) * L.c[t];
    }
}

// torch.sign: -1, 0 or 1, NaN kept.
__device__ __forceinline__ float fg_sign(float x) { return x > 0.f ? 1.f : (x < 0.f ? -1.f : x * 0.f); }

// Rprop: s0 the previous gradient (0 where its sign flipped), s1 the step sizes.
extern "C" __global__ void rprop_list_f32(TensorList L, float eta_minus, float eta_plus, float low, float high,
                                          float sign) {
    FG_LIST_FOR(L, t, i) {
        float *p = L.p[t], *prev = L.s0[t], *step = L.s1[t];
        float gi = sign * L.g[t][i];
        float agreement = fg_sign(gi * prev[i]);
        float factor = agreement > 0.f ? eta_plus : (agreement < 0.f ? eta_minus : (agreement == 0.f ? 1.f : agreement));
        float scaled = step[i] * factor;
        float si = scaled != scaled ? scaled : fminf(fmaxf(scaled, low), high);  // clamp keeps NaN
        float used = agreement < 0.f ? 0.f : gi;
        step[i] = si;
        p[i] -= fg_sign(used) * si;
        prev[i] = used;
    }
}

// `ga` (centered) and `buf` (momentum) are only touched by the variants that have them.
// w = 1 - alpha.
template <bool CENTERED, bool MOMENTUM>
__device__ void rmsprop(float* p, const float* g, float* sq, float* ga, float* buf, long long n,
                        float neg_lr, float alpha, float w, float eps, float weight_decay, float momentum,
                        float sign) {
    FG_FOR_EACH(i, n) {
        float gi = fg_decayed(g[i], p[i], sign, weight_decay);
        sq[i] = fg_addcmul(sq[i] * alpha, gi, gi, w);
        float avg;
        if (CENTERED) {
            ga[i] = fg_lerp(ga[i], gi, w);
            avg = sqrtf(fg_addcmul(sq[i], ga[i], ga[i], -1.f)) + eps;
        } else {
            avg = sqrtf(sq[i]) + eps;
        }
        if (MOMENTUM) {
            buf[i] = fg_addcdiv(buf[i] * momentum, gi, avg, 1.f);
            p[i] = fg_add(p[i], buf[i], neg_lr);
        } else {
            p[i] = fg_addcdiv(p[i], gi, avg, neg_lr);
        }
    }
}

#define FG_RMSPROP_SCALARS                                                                        \
    long long n, float neg_lr, float alpha, float w, float eps, float weight_decay, float momentum, float sign
#define FG_RMSPROP_ARGS n, neg_lr, alpha, w, eps, weight_decay, momentum, sign

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
