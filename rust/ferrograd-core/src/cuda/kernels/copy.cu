// Fills, strided copies with dtype casts (bf16 and f16 round to nearest even, through float), and
// strided in-place assignment. Memory-bound: one read and one write per element; `contiguous` layouts skip the index arithmetic, and the casts take
// four elements per thread.
// Measured (H200, benches/gpu_kernels.py): a transposing 8192² copy at 1.07 TB/s, PyTorch's
// speed (26% of a plain copy: the strided reads are the limit).

template <typename T>
__device__ void fill(T* out, long long n, T value) {
    FG_FOR_EACH(i, n) out[i] = value;
}

// Gathers the elements of `layout` row-major into `out`, converting S to D.
// Four elements per thread (`FG_FOR_EACH4`).
template <typename S, typename D>
__device__ void cast(D* out, const S* src, StridedLayout layout, long long n) {
    FG_FOR_EACH4(base, n) {
        S v[4];
        D w[4];
        fg_load4(src, layout, base, n, v);
#pragma unroll
        for (int k = 0; k < 4; ++k) w[k] = FgNarrow<D>::from(fg_widen(v[k]));
        fg_store4(out, base, n, w);
    }
}

template <typename S>
__device__ void cast_bool(unsigned char* out, const S* src, StridedLayout layout, long long n) {
    FG_FOR_EACH4(base, n) {
        S v[4];
        unsigned char w[4];
        fg_load4(src, layout, base, n, v);
#pragma unroll
        for (int k = 0; k < 4; ++k) w[k] = fg_widen(v[k]) != 0 ? 1 : 0;
        fg_store4(out, base, n, w);
    }
}

template <typename T>
__device__ void strided_assign(T* dst, StridedLayout dl, const T* src, StridedLayout sl, long long n) {
    FG_FOR_EACH(i, n) dst[fg_offset(dl, i)] = src[fg_offset(sl, i)];
}

#define FG_TYPES(X) \
    X(f32, float) X(i64, long long) X(i32, int) X(u8, unsigned char) X(bf16, fg_bf16) X(f16, fg_f16)

#define FG_FILL(name, T) \
    extern "C" __global__ void fill_##name(T* out, long long n, T value) { fill<T>(out, n, value); }
FG_TYPES(FG_FILL)

// Adds `by` to each of n int64 counters in place (BatchNorm's num_batches_tracked: counting a
// batch on the device never waits for it).
extern "C" __global__ void count_up_i64(long long* x, long long n, long long by) {
    FG_FOR_EACH(i, n) x[i] += by;
}

#define FG_ASSIGN(name, T)                                                                        \
    extern "C" __global__ void strided_assign_##name(T* dst, StridedLayout dl, const T* src,      \
                                                     StridedLayout sl, long long n) {             \
        strided_assign<T>(dst, dl, src, sl, n);                                                   \
    }
FG_TYPES(FG_ASSIGN)

#define FG_CAST(sname, S, dname, D)                                                               \
    extern "C" __global__ void cast_##sname##_##dname(D* out, const S* src, StridedLayout l,     \
                                                      long long n) {                              \
        cast<S, D>(out, src, l, n);                                                               \
    }
#define FG_CAST_FROM(sname, S)                                                                    \
    FG_CAST(sname, S, f32, float)                                                                 \
    FG_CAST(sname, S, i64, long long)                                                             \
    FG_CAST(sname, S, i32, int)                                                                   \
    FG_CAST(sname, S, u8, unsigned char)                                                          \
    FG_CAST(sname, S, bf16, fg_bf16)                                                              \
    FG_CAST(sname, S, f16, fg_f16)                                                                \
    extern "C" __global__ void cast_##sname##_bool(unsigned char* out, const S* src,              \
                                                   StridedLayout l, long long n) {                \
        cast_bool<S>(out, src, l, n);                                                             \
    }
FG_TYPES(FG_CAST_FROM)
