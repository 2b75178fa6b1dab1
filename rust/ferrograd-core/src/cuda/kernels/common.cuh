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

// Four consecutive elements per thread, for the memory-bound pointwise kernels: their four loads
// are in flight together, and consecutive elements usually share one offset computation and one
// 16-byte access. Launch with `grid_for4` (a quarter of the threads).
#define FG_FOR_EACH4(base, n)                                                              \
    for (long long base = ((long long)blockIdx.x * blockDim.x + threadIdx.x) * 4; base < (n); \
         base += (long long)blockDim.x * gridDim.x * 4)

// The logical elements base..base+3 (those below n) of a strided operand. When all four lie in
// one row of an innermost-stride-1 layout (any contiguous one included), one offset computation
// serves them; the float version loads such a run as one float4 when it is 16-byte aligned.
template <typename T>
__device__ __forceinline__ bool fg_run4(const StridedLayout& l, long long base, long long n) {
    if (base + 4 > n) return false;
    if (l.contiguous) return true;
    if (l.ndim == 0 || l.strides[l.ndim - 1] != 1) return false;
    long long last = l.shape[l.ndim - 1];
    return base % last + 4 <= last;
}

template <typename T>
__device__ __forceinline__ void fg_load4(const T* x, const StridedLayout& l, long long base, long long n, T v[4]) {
    if (fg_run4<T>(l, base, n)) {
        long long off = fg_offset(l, base);
#pragma unroll
        for (int k = 0; k < 4; ++k) v[k] = x[off + k];
    } else {
#pragma unroll
        for (int k = 0; k < 4; ++k) v[k] = base + k < n ? x[fg_offset(l, base + k)] : T{};
    }
}

template <>
__device__ __forceinline__ void fg_load4<float>(const float* x, const StridedLayout& l, long long base,
                                                long long n, float v[4]) {
    if (fg_run4<float>(l, base, n)) {
        long long off = fg_offset(l, base);
        if ((off & 3) == 0) {
            float4 q = *reinterpret_cast<const float4*>(x + off);
            v[0] = q.x, v[1] = q.y, v[2] = q.z, v[3] = q.w;
        } else {
#pragma unroll
            for (int k = 0; k < 4; ++k) v[k] = x[off + k];
        }
    } else {
#pragma unroll
        for (int k = 0; k < 4; ++k) v[k] = base + k < n ? x[fg_offset(l, base + k)] : 0.f;
    }
}

// Stores elements base..base+3 (those below n) of a fresh contiguous output, whose start is
// aligned, so a full float run is one 16-byte store.
template <typename T>
__device__ __forceinline__ void fg_store4(T* out, long long base, long long n, const T v[4]) {
#pragma unroll
    for (int k = 0; k < 4; ++k)
        if (base + k < n) out[base + k] = v[k];
}

template <>
__device__ __forceinline__ void fg_store4<float>(float* out, long long base, long long n, const float v[4]) {
    if (base + 4 <= n) {
        *reinterpret_cast<float4*>(out + base) = make_float4(v[0], v[1], v[2], v[3]);
    } else {
        for (int k = 0; k < 4; ++k)
            if (base + k < n) out[base + k] = v[k];
    }
}

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

// d += a @ b on 16-bit tensor cores for one warp: a 16 x 16, b 16 x 8, d 16 x 8 with f32
// accumulation, each operand in its mma.m16n8k16 fragment layout (PTX ISA, "Matrix Fragments for
// mma.m16n8k16 with floating point type"): `fg_mma_bf16_16816` on bf16 operands,
// `fg_mma_f16_16816` on f16. sm_80 and later; launchers check the architecture.
#define FG_MMA_16816(TYPE)                                                                                \
    __device__ __forceinline__ void fg_mma_##TYPE##_16816(float d[4], const unsigned a[4], const unsigned b[2]) { \
        FG_MMA_16816_ASM(TYPE)                                                                            \
    }
#if __CUDA_ARCH__ >= 800
#define FG_MMA_16816_ASM(TYPE)                                                                            \
    asm volatile("mma.sync.aligned.m16n8k16.row.col.f32." #TYPE "." #TYPE                                 \
                 ".f32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, {%0, %1, %2, %3};\n"                  \
                 : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])                                         \
                 : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
#else
#define FG_MMA_16816_ASM(TYPE) __trap();
#endif
FG_MMA_16816(bf16)
FG_MMA_16816(f16)
