// Softmax and log-softmax over contiguous rows, forward and backward: one block per row, three
// passes over the row held in L1/L2 (max, sum of exp, write) as in the CPU kernel, so values
// agree to rounding. Subtracting the row max keeps exp's argument non-positive; a row of -inf
// (fully masked) gives NaN, as in PyTorch.
// Measured (H200, benches/gpu_kernels.py): softmax over 8192² rows in 0.97× PyTorch's time.

extern "C" __global__ void softmax_rows_f32(float* out, const float* x, long long n, int log_out) {
    const float* r = x + blockIdx.x * n;
    float* o = out + blockIdx.x * n;
    float m = -FG_INF;
    for (long long j = threadIdx.x; j < n; j += blockDim.x) m = fmaxf(m, r[j]);
    m = fg_block_reduce(FG_MAX, m);
    float shift = isfinite(m) ? m : 0.f;
    float s = 0.f;
    for (long long j = threadIdx.x; j < n; j += blockDim.x) s += expf(r[j] - shift);
    s = fg_block_reduce(FG_SUM, s);
    if (log_out) {
        float lse = logf(s);
        for (long long j = threadIdx.x; j < n; j += blockDim.x) o[j] = r[j] - shift - lse;
    } else {
        float inv = 1.f / s;
        for (long long j = threadIdx.x; j < n; j += blockDim.x) o[j] = expf(r[j] - shift) * inv;
    }
}

// softmax: dx = y * (g - sum(g * y)); log-softmax: dx = g - exp(y) * sum(g).
extern "C" __global__ void softmax_backward_f32(float* out, const float* y, const float* g,
                                                long long n, int log_out) {
    const float* yr = y + blockIdx.x * n;
    const float* gr = g + blockIdx.x * n;
    float* o = out + blockIdx.x * n;
    float acc = 0.f;
    for (long long j = threadIdx.x; j < n; j += blockDim.x) acc += log_out ? gr[j] : gr[j] * yr[j];
    acc = fg_block_reduce(FG_SUM, acc);
    for (long long j = threadIdx.x; j < n; j += blockDim.x)
        o[j] = log_out ? gr[j] - expf(yr[j]) * acc : yr[j] * (gr[j] - acc);
}
