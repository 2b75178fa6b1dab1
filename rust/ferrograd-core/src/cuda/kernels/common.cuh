// Shared by every kernel file (prepended at compile time).
//
// A tensor operand arrives as a base pointer plus a StridedLayout passed by value (kernel
// parameters live in constant memory, so every thread reads the shape and strides for free).
// Kernels iterate over the output's elements in row-major order and map each linear index to the
// operand's element offset; broadcast dimensions have stride 0. `contiguous` short-cuts the
// division chain for the common dense case.
#define FG_MAX_DIMS 8

// NVRTC has no <cmath>: infinity and a quiet NaN from their bit patterns.
#define FG_INF __int_as_float(0x7f800000)
#define FG_NAN __int_as_float(0x7fc00000)

struct StridedLayout {
    long long shape[FG_MAX_DIMS];
    long long strides[FG_MAX_DIMS];
    long long offset;
    int ndim;
    int contiguous;
};

__device__ __forceinline__ long long fg_offset(const StridedLayout& l, long long i) {
    if (l.contiguous) return l.offset + i;
    long long off = l.offset;
    for (int d = l.ndim - 1; d >= 0; --d) {
        long long s = l.shape[d];
        off += (i % s) * l.strides[d];
        i /= s;
    }
    return off;
}

// Sliding windows over NCHW images (`WindowGeometry` of `ops/unfold.rs`, field for field): batch,
// channels, image, kernel, stride, padding, dilation, output size.
struct WindowGeometry {
    long long n, c, h, w, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow;
};

// Device-side index checks. An index outside [0, bound) is recorded in `fault` = {op code, value,
// bound} (the first one wins) and the caller skips that element; the host reads `fault` at its
// next synchronisation and raises the error there, so a training step never waits for a check.
__device__ __forceinline__ bool fg_index_ok(long long v, long long bound, long long* fault, long long code) {
    if (v >= 0 && v < bound) return true;
    if (atomicCAS((unsigned long long*)fault, 0ull, (unsigned long long)code) == 0ull) {
        fault[1] = v;
        fault[2] = bound;
    }
    return false;
}

// Grid-stride loop over n elements.
#define FG_FOR_EACH(i, n) \
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < (n); \
         i += (long long)blockDim.x * gridDim.x)

// Block-wide reductions. kind: 0 sum, 1 max, 2 min; max and min propagate NaN, as PyTorch does.
#define FG_SUM 0
#define FG_MAX 1
#define FG_MIN 2

__device__ __forceinline__ float fg_combine(int kind, float a, float b) {
    if (kind == FG_SUM) return a + b;
    if (a != a || b != b) return FG_NAN;
    return kind == FG_MAX ? fmaxf(a, b) : fminf(a, b);
}

__device__ __forceinline__ float fg_identity(int kind) {
    return kind == FG_SUM ? 0.f : (kind == FG_MAX ? -FG_INF : FG_INF);
}

// Combines one value per thread across the block (blockDim a multiple of 32, at most 1024) and
// returns the result to every thread: warp shuffles, then one pass over the 32 warp partials.
// Safe to call repeatedly: the trailing barrier protects the shared slots.
__device__ float fg_block_reduce(int kind, float v) {
    __shared__ float partial[32];
    __shared__ float result;
    for (int o = 16; o > 0; o >>= 1) v = fg_combine(kind, v, __shfl_down_sync(0xffffffffu, v, o));
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    if (lane == 0) partial[warp] = v;
    __syncthreads();
    if (threadIdx.x == 0) {
        float r = partial[0];
        for (int w = 1; w < (int)(blockDim.x >> 5); ++w) r = fg_combine(kind, r, partial[w]);
        result = r;
    }
    __syncthreads();
    float r = result;
    __syncthreads();
    return r;
}
