// bf16 and f16 elements (shared by every kernel file, after common.cuh). Buffers hold their bits
// (`fg_bf16`, `fg_f16`: two bytes each, as the host's `half::bf16` / `half::f16`); kernels widen
// them to float for arithmetic and round results back to nearest even.

struct fg_bf16 {
    unsigned short bits;
};
struct fg_f16 {
    unsigned short bits;
};

// The bf16 bits of x rounded to nearest even: adding 0x7fff plus the lowest kept bit carries into
// the kept half exactly when the dropped half is above the tie, or at it with an odd kept half.
// NaN becomes the quiet NaN 0x7fc0.
__device__ __forceinline__ unsigned short fg_bf16_bits(float x) {
    const unsigned u = __float_as_uint(x);
    if ((u & 0x7fffffffu) > 0x7f800000u) return 0x7fc0;
    return (unsigned short)((u + 0x7fffu + ((u >> 16) & 1u)) >> 16);
}

// The f16 bits of x rounded to nearest even (the hardware conversion on a GPU; the same rounding
// in software where these files run on the host for tests).
__device__ __forceinline__ unsigned short fg_f16_bits(float x) {
#ifdef __CUDA_ARCH__
    unsigned short h;
    asm("cvt.rn.f16.f32 %0, %1;" : "=h"(h) : "f"(x));
    return h;
#else
    const unsigned u = __float_as_uint(x);
    const unsigned short sign = (unsigned short)((u >> 16) & 0x8000u);
    const unsigned a = u & 0x7fffffffu;
    if (a > 0x7f800000u) return sign | 0x7e00;   // NaN
    if (a >= 0x477ff000u) return sign | 0x7c00;  // from 65520 up (65504 and a half unit): infinity
    if (a >= 0x38800000u)                         // normal (2^-14 and up): round at bit 13, rebias by 112
        return sign | (unsigned short)((a + 0xfffu + ((a >> 13) & 1u) - 0x38000000u) >> 13);
    // Subnormal: a count of 2^-24 units, scaled exactly and rounded to nearest even.
    return sign | (unsigned short)rintf(__uint_as_float(a) * 16777216.0f);
#endif
}

__device__ __forceinline__ float fg_f16_float(unsigned short h) {
#ifdef __CUDA_ARCH__
    float f;
    asm("cvt.f32.f16 %0, %1;" : "=f"(f) : "h"(h));
    return f;
#else
    const unsigned sign = (unsigned)(h & 0x8000u) << 16;
    const unsigned e = (h >> 10) & 0x1fu, m = h & 0x3ffu;
    if (e == 0) return (sign ? -1.f : 1.f) * (float)m * (1.f / 16777216.f);
    if (e == 31) return __uint_as_float(sign | 0x7f800000u | (m << 13));
    return __uint_as_float(sign | ((e + 112u) << 23) | (m << 13));
#endif
}

// An element as the type arithmetic runs in: float for bf16 and f16, itself otherwise.
__device__ __forceinline__ float fg_widen(fg_bf16 x) { return __uint_as_float((unsigned)x.bits << 16); }
__device__ __forceinline__ float fg_widen(fg_f16 x) { return fg_f16_float(x.bits); }
template <typename T>
__device__ __forceinline__ T fg_widen(T x) {
    return x;
}

// A value converted to D: a C cast, or rounding to nearest even for bf16 and f16.
template <typename D>
struct FgNarrow {
    template <typename S>
    __device__ static D from(S v) {
        return (D)v;
    }
};
template <>
struct FgNarrow<fg_bf16> {
    template <typename S>
    __device__ static fg_bf16 from(S v) {
        return {fg_bf16_bits((float)v)};
    }
};
template <>
struct FgNarrow<fg_f16> {
    template <typename S>
    __device__ static fg_f16 from(S v) {
        return {fg_f16_bits((float)v)};
    }
};
