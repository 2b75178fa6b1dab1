// Row reductions: the caller permutes the reduced axes last, so output element `row` reduces the
// `inner` consecutive logical elements row*inner .. row*inner+inner-1 (read through a strided
// layout, no copy). One block per row: each thread folds a strided share of the row, then warp
// shuffles and one shared-memory pass combine the 32-wide partials. Sums accumulate in f32 along a
// tree, so the error grows with log(inner), not inner.
// Measured (H200, benches/gpu_kernels.py) on 8192²: row sums at 2.25 TB/s (54% of a device copy,
// 1.26× PyTorch's time), column sums at 2.88 TB/s (1.08×), argmax over rows 1.70×.

//
// Few long rows (a bias gradient: 64 channels of N*H*W values) would leave most multiprocessors
// idle, so a row may be split into `parts` blocks writing partial results out[row * parts + part],
// which a second launch (parts = 1) over those partials combines.
extern "C" __global__ void reduce_rows_f32(float* out, const float* x, StridedLayout l,
                                           long long inner, int kind, long long parts) {
    long long row = blockIdx.x / parts, part = blockIdx.x % parts;
    long long chunk = (inner + parts - 1) / parts;
    long long begin = part * chunk, end = min(inner, begin + chunk);
    // Four loads in flight per thread, into four accumulators combined at the end.
    float acc[4] = {fg_identity(kind), fg_identity(kind), fg_identity(kind), fg_identity(kind)};
    long long step = blockDim.x, j = begin + threadIdx.x;
    for (; j + 3 * step < end; j += 4 * step) {
        float v[4];
#pragma unroll
        for (int k = 0; k < 4; ++k) v[k] = x[fg_offset(l, row * inner + j + k * step)];
#pragma unroll
        for (int k = 0; k < 4; ++k) acc[k] = fg_combine(kind, acc[k], v[k]);
    }
    for (; j < end; j += step) acc[0] = fg_combine(kind, acc[0], x[fg_offset(l, row * inner + j)]);
    float total = fg_combine(kind, fg_combine(kind, acc[0], acc[1]), fg_combine(kind, acc[2], acc[3]));
    total = fg_block_reduce(kind, total);
    if (threadIdx.x == 0) out[blockIdx.x] = total;
}

// Column reductions of a contiguous [R, K] block (the reduced axes lead: a bias gradient summed
// over the batch): out[k] folds x[r, k] over r. Rows read across a warp are 128 contiguous bytes,
// where the row kernel above would read them with a stride of K. A block is 32 columns by 8 row
// slices combined in shared memory; with few column tiles, gridDim.y splits the rows into parts
// (out[part * K + k]) that a second launch combines.
extern "C" __global__ void reduce_columns_f32(float* out, const float* x, long long offset,
                                              long long rows, long long cols, int kind) {
    __shared__ float partial[8][33];
    long long k = (long long)blockIdx.x * 32 + threadIdx.x;
    long long chunk = (rows + gridDim.y - 1) / gridDim.y;
    long long begin = blockIdx.y * chunk, end = min(rows, begin + chunk);
    float acc = fg_identity(kind);
    if (k < cols)
        for (long long r = begin + threadIdx.y; r < end; r += 8)
            acc = fg_combine(kind, acc, x[offset + r * cols + k]);
    partial[threadIdx.y][threadIdx.x] = acc;
    __syncthreads();
    if (threadIdx.y == 0 && k < cols) {
        for (int s = 1; s < 8; ++s) acc = fg_combine(kind, acc, partial[s][threadIdx.x]);
        out[blockIdx.y * cols + k] = acc;
    }
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
