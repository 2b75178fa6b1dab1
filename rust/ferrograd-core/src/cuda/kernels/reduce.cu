// Row reductions: the caller permutes the reduced axes last, so output element `row` reduces the
// `inner` consecutive logical elements row*inner .. row*inner+inner-1 (read through a strided
// layout, no copy). One block per row: each thread folds a strided share of the row, then warp
// shuffles and one shared-memory pass combine the 32-wide partials. Sums accumulate in f32 along a
// tree, so the error grows with log(inner), not inner.

//
// Few long rows (a bias gradient: 64 channels of N*H*W values) would leave most multiprocessors
// idle, so a row may be split into `parts` blocks writing partial results out[row * parts + part],
// which a second launch (parts = 1) over those partials combines.
extern "C" __global__ void reduce_rows_f32(float* out, const float* x, StridedLayout l,
                                           long long inner, int kind, long long parts) {
    long long row = blockIdx.x / parts, part = blockIdx.x % parts;
    long long chunk = (inner + parts - 1) / parts;
    long long begin = part * chunk, end = min(inner, begin + chunk);
    float acc = fg_identity(kind);
    for (long long j = begin + threadIdx.x; j < end; j += blockDim.x)
        acc = fg_combine(kind, acc, x[fg_offset(l, row * inner + j)]);
    acc = fg_block_reduce(kind, acc);
    if (threadIdx.x == 0) out[blockIdx.x] = acc;
}

// (value, index) is better than (bv, bi) for argmax (want_max) or argmin: NaN wins (PyTorch's
// rule), then the larger (smaller) value, then the smaller index (the first one at ties).
__device__ __forceinline__ bool fg_better(bool want_max, float v, long long i, float bv, long long bi) {
    bool vn = v != v, bn = bv != bv;
    if (vn || bn) return vn && (!bn || i < bi);
    if (v == bv) return i < bi;
    return want_max ? v > bv : v < bv;
}

extern "C" __global__ void arg_rows_f32(long long* out, const float* x, StridedLayout l,
                                        long long inner, int want_max) {
    __shared__ float best_v[32];
    __shared__ long long best_i[32];
    long long row = blockIdx.x;
    float bv = want_max ? -FG_INF : FG_INF;
    long long bi = inner;  // past the end: loses to any real element
    for (long long j = threadIdx.x; j < inner; j += blockDim.x) {
        float v = x[fg_offset(l, row * inner + j)];
        if (fg_better(want_max, v, j, bv, bi)) { bv = v; bi = j; }
    }
    for (int o = 16; o > 0; o >>= 1) {
        float ov = __shfl_down_sync(0xffffffffu, bv, o);
        long long oi = __shfl_down_sync(0xffffffffu, bi, o);
        if (fg_better(want_max, ov, oi, bv, bi)) { bv = ov; bi = oi; }
    }
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    if (lane == 0) { best_v[warp] = bv; best_i[warp] = bi; }
    __syncthreads();
    if (threadIdx.x == 0) {
        for (int w = 1; w < (int)(blockDim.x >> 5); ++w)
            if (fg_better(want_max, best_v[w], best_i[w], bv, bi)) { bv = best_v[w]; bi = best_i[w]; }
        out[row] = bi;
    }
}
