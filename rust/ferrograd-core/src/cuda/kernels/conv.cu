// Convolution as implicit GEMM: the three products of a convolution (forward, input gradient,
// weight gradient) run as tiled matrix products whose operand tiles are gathered straight from the
// images and the contiguous [Co, C/G, kh, kw] weights, so no column matrix (im2col) is ever
// written. Images are [N, C, H, W] tensors addressed through their element strides (`ImageStrides`):
// NCHW, channels-last (NHWC) and other views are read and written in place, the input side (x, dx)
// and the output side (y, dy) each in its own layout.
//
//   forward        y[co, (img, oy, ox)]   = sum over (ci, ki, kj)   of w  * x(img, ci, oy*sh - ph + ki*dh, ...)
//   input grad     dx[ci, (img, iy, ix)]  = sum over (co, ki, kj)   of w  * dy(img, co, (iy + ph - ki*dh) / sh, ...)
//   weight grad    dw[co, (ci, ki, kj)]   = sum over (img, oy, ox)  of dy * x(img, ci, oy*sh - ph + ki*dh, ...)
//
// each per group (blockIdx.z). Out-of-image taps, and for the input gradient output positions
// the stride skips, read 0.
//
// Tiling: a block of 256 threads computes a 64 x 64 tile of the product, 16 reduction steps at a
// time. Each step the block stages a 64 x 16 tile of the left operand and a 16 x 64 tile of the
// right one in shared memory (four elements per thread each), then accumulates them with one of two
// tile policies, each holding 16 accumulators per thread:
// - `SimtTile` (f32): every thread accumulates a 4 x 4 sub-tile, rows ty + 16 i and columns
//   tx + 16 j (thread (ty, tx) = (t / 16, t % 16)), so a warp's reads of the staged f32 tiles are
//   broadcasts (left) and 16 consecutive words (right): no bank conflicts.
// - `MmaTile` (bf16 tensor cores, sm_80 and later): each warp owns a 16 x 32 sub-tile, four
//   mma.m16n8k16 per step, with f32 accumulation. The tiles are staged as bf16 with the reduction
//   index contiguous, so each fragment register is one 32-bit shared load; rows are padded to 24
//   values (12 words), which puts the 32 lanes' fragment loads in 32 different banks. It is used
//   only for operands that are bf16 values already (inside a bf16 autocast scope), so staging them
//   as bf16 (the high half of each f32) is exact.
// The gathers decode each reduction index once per step into a shared table
// (`ConvTaps`), and each thread decodes its one column of the right operand once per block, so
// the inner loads cost a few additions and bounds checks. Two barriers a step suffice: the table
// for the next step is written while others may still be accumulating (they no longer read it),
// and the staged tiles are overwritten only after the next step's first barrier.
//
// The weight gradient reduces over every output position (N * oh * ow of them) into a small
// [Co/G, C/G * kh * kw] matrix, so its reduction is split over `splits` blocks, each writing its own
// partial product; the launcher sums the partials in a fixed order (deterministic, no atomics).
//
// Not yet timed on a GPU (written while none was lent); double-buffered staging (cp.async) and
// ldmatrix fragment loads are the next steps once it is. In channels-last images consecutive
// output positions (a warp's right-operand gathers) sit C floats apart, so those loads are not
// coalesced; a tiling that runs the reduction over channels innermost would fix that for NHWC.

#define CONV_BM 64
#define CONV_BN 64
#define CONV_BK 16
#define CONV_THREADS 256

// Element strides of an [N, C, H, W] image tensor: (C H W, H W, W, 1) for NCHW, (H W C, 1, W C, C)
// for channels-last.
struct ImageStrides {
    int n, c, h, w;
};

// `ConvShape` of `cuda/conv.rs`, field for field. All sizes, and every element offset an operand
// is addressed at, fit in int (the launcher checks).
struct ConvShape {
    int n, c, h, w;              // input
    int co, oh, ow;              // output
    int kh, kw, sh, sw, ph, pw, dh, dw;
    int groups;
    int splits;                  // weight gradient: reduction splits per group
    ImageStrides in, out;        // x (read) or dx (written); y (written) or dy (read)
};

// f32 tiles, 4 x 4 accumulators per thread.
struct SimtTile {
    struct Staging {
        float left[CONV_BK][CONV_BM];
        float right[CONV_BK][CONV_BN];
    };
    float acc[4][4] = {};

    static __device__ __forceinline__ void stage_left(Staging& s, int row, int k, float v) { s.left[k][row] = v; }
    static __device__ __forceinline__ void stage_right(Staging& s, int k, int col, float v) { s.right[k][col] = v; }

    __device__ __forceinline__ void accumulate(const Staging& s) {
        const int ty = threadIdx.x / 16, tx = threadIdx.x % 16;
#pragma unroll
        for (int kk = 0; kk < CONV_BK; ++kk) {
            float a[4], b[4];
#pragma unroll
            for (int i = 0; i < 4; ++i) a[i] = s.left[kk][ty + 16 * i];
#pragma unroll
            for (int j = 0; j < 4; ++j) b[j] = s.right[kk][tx + 16 * j];
#pragma unroll
            for (int i = 0; i < 4; ++i)
#pragma unroll
                for (int j = 0; j < 4; ++j) acc[i][j] += a[i] * b[j];
        }
    }

    // f(row, col, value) for each accumulator, rows and columns within the block's tile.
    template <class F>
    __device__ __forceinline__ void for_each(F f) const {
        const int ty = threadIdx.x / 16, tx = threadIdx.x % 16;
#pragma unroll
        for (int i = 0; i < 4; ++i)
#pragma unroll
            for (int j = 0; j < 4; ++j) f(ty + 16 * i, tx + 16 * j, acc[i][j]);
    }
};

// bf16 tensor-core tiles: warp w owns rows 16 (w / 2) .. + 16 and columns 32 (w % 2) .. + 32, as
// four 16 x 8 mma tiles whose accumulators c0..c3 sit in acc[q] (mma fragment layouts: PTX ISA,
// "Matrix Fragments for mma.m16n8k16 with floating point type").
struct MmaTile {
    // Fragment registers are read as 32-bit words (`pair`): the tiles must be 4-byte aligned,
    // which bf16 arrays alone are not.
    struct alignas(16) Staging {
        unsigned short left[CONV_BM][CONV_BK + 8];
        unsigned short right[CONV_BN][CONV_BK + 8];
    };
    float acc[4][4] = {};

    // The bf16 bits of v, which is a bf16 value: the high half of its f32 bits.
    static __device__ __forceinline__ unsigned short bf16_bits(float v) {
        return (unsigned short)(__float_as_uint(v) >> 16);
    }
    static __device__ __forceinline__ void stage_left(Staging& s, int row, int k, float v) {
        s.left[row][k] = bf16_bits(v);
    }
    static __device__ __forceinline__ void stage_right(Staging& s, int k, int col, float v) {
        s.right[col][k] = bf16_bits(v);
    }
    // Elements k and k + 1 of a staged row as one fragment register (element k in the low half).
    static __device__ __forceinline__ unsigned pair(const unsigned short* row, int k) {
        return *(const unsigned*)(row + k);
    }

    __device__ __forceinline__ void accumulate(const Staging& s) {
        const int warp = threadIdx.x / 32, lane = threadIdx.x % 32, g = lane >> 2, t = lane & 3;
        const int r0 = warp / 2 * 16, c0 = warp % 2 * 32;
        const unsigned a[4] = {pair(s.left[r0 + g], 2 * t), pair(s.left[r0 + g + 8], 2 * t),
                               pair(s.left[r0 + g], 2 * t + 8), pair(s.left[r0 + g + 8], 2 * t + 8)};
#pragma unroll
        for (int q = 0; q < 4; ++q) {
            const unsigned short* col = s.right[c0 + 8 * q + g];
            const unsigned b[2] = {pair(col, 2 * t), pair(col, 2 * t + 8)};
            fg_mma_bf16_16816(acc[q], a, b);
        }
    }

    template <class F>
    __device__ __forceinline__ void for_each(F f) const {
        const int warp = threadIdx.x / 32, lane = threadIdx.x % 32, g = lane >> 2, t = lane & 3;
        const int r0 = warp / 2 * 16, c0 = warp % 2 * 32;
#pragma unroll
        for (int q = 0; q < 4; ++q)
#pragma unroll
            for (int c = 0; c < 4; ++c) f(r0 + g + (c >= 2 ? 8 : 0), c0 + 8 * q + 2 * t + (c & 1), acc[q][c]);
    }
};

// Per reduction index of a step: an offset and the vertical and horizontal shifts of its tap.
struct ConvTaps {
    int offset[CONV_BK], dy[CONV_BK], dx[CONV_BK];
    int extra[CONV_BK];  // the weight gradient's offset into dy
    bool valid[CONV_BK];
};

// The reduction loop every product shares, over steps k0 = k_begin, k_begin + CONV_BK, ... below
// k_end: the first CONV_BK threads decode the step's indices into the tap table (`decode(t, k0 +
// t)`), then each thread stages four elements of the left tile (`left(row, kk, k0)`) and four of
// the right one in its column t % CONV_BN (`right(kk)`), and the tile accumulates them.
template <class Tile, class Decode, class Left, class Right>
__device__ __forceinline__ void conv_steps(Tile& tile, typename Tile::Staging& staged, int k_begin, int k_end,
                                           Decode decode, Left left, Right right) {
    const int t = threadIdx.x;
    for (int k0 = k_begin; k0 < k_end; k0 += CONV_BK) {
        if (t < CONV_BK) decode(t, k0 + t);
        __syncthreads();
#pragma unroll
        for (int i = 0; i < 4; ++i) {
            const int e = t + CONV_THREADS * i, mm = e / CONV_BK, kk = e % CONV_BK;
            Tile::stage_left(staged, mm, kk, left(mm, kk, k0));
        }
#pragma unroll
        for (int i = 0; i < 4; ++i) {
            const int kk = t / CONV_BN + 4 * i;
            Tile::stage_right(staged, kk, t % CONV_BN, right(kk));
        }
        __syncthreads();
        tile.accumulate(staged);
    }
}

// y = conv(x, w) + bias, then a ReLU when `relu` (the epilogue: the clamp of the ReLU op, so NaN
// and -0 pass through): rows co of the group, columns (img, oy, ox). `bias` is read only when
// `has_bias`.
template <class Tile>
__device__ __forceinline__ void conv_forward(float* y, const float* x, const float* w, const float* bias,
                                             int has_bias, int relu, const ConvShape& s) {
    __shared__ typename Tile::Staging staged;
    __shared__ ConvTaps taps;
    const int g = blockIdx.z, t = threadIdx.x;
    const int cig = s.c / s.groups, cog = s.co / s.groups, area = s.kh * s.kw;
    const int K = cig * area, plane = s.oh * s.ow, columns = s.n * plane;
    const int m0 = blockIdx.y * CONV_BM, n0 = blockIdx.x * CONV_BN;
    // This thread's column of the right operand (the same in every step).
    const int col = n0 + t % CONV_BN;
    const bool col_ok = col < columns;
    const int img = col_ok ? col / plane : 0, pos = col_ok ? col % plane : 0;
    const int iy0 = pos / s.ow * s.sh - s.ph, ix0 = pos % s.ow * s.sw - s.pw;
    const float* image = x + (long long)img * s.in.n + (long long)g * cig * s.in.c;
    Tile tile;
    conv_steps(
        tile, staged, 0, K,
        [&](int slot, int k) {
            const int tap = k % area;
            taps.valid[slot] = k < K;
            taps.offset[slot] = k / area * s.in.c;
            taps.dy[slot] = tap / s.kw * s.dh;
            taps.dx[slot] = tap % s.kw * s.dw;
        },
        [&](int mm, int kk, int k0) {
            const int m = m0 + mm, k = k0 + kk;
            return m < cog && k < K ? w[(long long)(g * cog + m) * K + k] : 0.f;
        },
        [&](int kk) {
            const int iy = iy0 + taps.dy[kk], ix = ix0 + taps.dx[kk];
            const bool inside = col_ok && taps.valid[kk] && iy >= 0 && iy < s.h && ix >= 0 && ix < s.w;
            return inside ? image[taps.offset[kk] + iy * s.in.h + ix * s.in.w] : 0.f;
        });
    tile.for_each([&](int row, int column, float v) {
        const int m = m0 + row, n = n0 + column;
        if (m >= cog || n >= columns) return;
        const int channel = g * cog + m, p = n % plane;
        const long long out =
            (long long)(n / plane) * s.out.n + (long long)channel * s.out.c + p / s.ow * s.out.h + p % s.ow * s.out.w;
        const float value = v + (has_bias ? bias[channel] : 0.f);
        y[out] = relu && value < 0.f ? 0.f : value;
    });
}

// dx = conv's adjoint applied to dy: rows ci of the group, columns (img, iy, ix).
template <class Tile>
__device__ __forceinline__ void conv_backward_input(float* dx, const float* dy, const float* w, const ConvShape& s) {
    __shared__ typename Tile::Staging staged;
    __shared__ ConvTaps taps;
    const int g = blockIdx.z, t = threadIdx.x;
    const int cig = s.c / s.groups, cog = s.co / s.groups, area = s.kh * s.kw;
    const int K = cog * area, in_plane = s.h * s.w, columns = s.n * in_plane;
    const int m0 = blockIdx.y * CONV_BM, n0 = blockIdx.x * CONV_BN;
    const int col = n0 + t % CONV_BN;
    const bool col_ok = col < columns;
    const int img = col_ok ? col / in_plane : 0, pos = col_ok ? col % in_plane : 0;
    const int iy = pos / s.w, ix = pos % s.w;
    const float* grad = dy + (long long)img * s.out.n + (long long)g * cog * s.out.c;
    Tile tile;
    conv_steps(
        tile, staged, 0, K,
        [&](int slot, int k) {
            const int tap = k % area;
            taps.valid[slot] = k < K;
            taps.offset[slot] = k / area * s.out.c;
            // Weight element (g * cog + co, ci, ki, kj) sits at extra + ci * area.
            taps.extra[slot] = (g * cog + k / area) * cig * area + tap;
            taps.dy[slot] = s.ph - tap / s.kw * s.dh;
            taps.dx[slot] = s.pw - tap % s.kw * s.dw;
        },
        [&](int mm, int kk, int) {
            const int m = m0 + mm;
            return m < cig && taps.valid[kk] ? w[taps.extra[kk] + (long long)m * area] : 0.f;
        },
        [&](int kk) {
            // Output position (oy, ox) reads this pixel through tap (ki, kj) when
            // oy * sh = iy + ph - ki * dh, and likewise across.
            const int sy = iy + taps.dy[kk], sx = ix + taps.dx[kk];
            if (col_ok && taps.valid[kk] && sy >= 0 && sx >= 0 && sy % s.sh == 0 && sx % s.sw == 0) {
                const int oy = sy / s.sh, ox = sx / s.sw;
                if (oy < s.oh && ox < s.ow) return grad[taps.offset[kk] + oy * s.out.h + ox * s.out.w];
            }
            return 0.f;
        });
    tile.for_each([&](int row, int column, float v) {
        const int m = m0 + row, n = n0 + column;
        if (m >= cig || n >= columns) return;
        const int p = n % in_plane;
        dx[(long long)(n / in_plane) * s.in.n + (long long)(g * cig + m) * s.in.c + p / s.w * s.in.h + p % s.w * s.in.w] = v;
    });
}

// Partial weight gradients: split `blockIdx.z % splits` of group `blockIdx.z / splits` sums its
// share of the output positions into partials[split] ([Co, C/G * kh * kw] each). Rows co of the
// group, columns (ci, ki, kj), reduction over (img, oy, ox).
template <class Tile>
__device__ __forceinline__ void conv_backward_weight(float* partials, const float* dy, const float* x,
                                                     const ConvShape& s) {
    __shared__ typename Tile::Staging staged;
    __shared__ ConvTaps taps;
    const int g = blockIdx.z / s.splits, split = blockIdx.z % s.splits, t = threadIdx.x;
    const int cig = s.c / s.groups, cog = s.co / s.groups, area = s.kh * s.kw;
    const int columns = cig * area, plane = s.oh * s.ow;
    const int K = s.n * plane;
    // Each split takes a run of whole steps.
    const int steps = (K + CONV_BK - 1) / CONV_BK, per_split = (steps + s.splits - 1) / s.splits;
    const long long begin = (long long)split * per_split * CONV_BK;
    const int k_begin = (int)min((long long)K, begin), k_end = (int)min((long long)K, begin + per_split * CONV_BK);
    const int m0 = blockIdx.y * CONV_BM, n0 = blockIdx.x * CONV_BN;
    const int col = n0 + t % CONV_BN;
    const bool col_ok = col < columns;
    const int ci = col_ok ? col / area : 0, tap = col_ok ? col % area : 0;
    const int cy = tap / s.kw * s.dh - s.ph, cx = tap % s.kw * s.dw - s.pw;
    const float* channel = x + (long long)(g * cig + ci) * s.in.c;
    const float* grad = dy + (long long)g * cog * s.out.c;
    Tile tile;
    conv_steps(
        tile, staged, k_begin, k_end,
        [&](int slot, int k) {
            const int img = k / plane, pos = k % plane;
            taps.valid[slot] = k < k_end;
            const int oy = pos / s.ow, ox = pos % s.ow;
            taps.offset[slot] = img * s.in.n;
            taps.extra[slot] = img * s.out.n + oy * s.out.h + ox * s.out.w;
            taps.dy[slot] = oy * s.sh;
            taps.dx[slot] = ox * s.sw;
        },
        [&](int mm, int kk, int) {
            const int m = m0 + mm;
            return m < cog && taps.valid[kk] ? grad[taps.extra[kk] + (long long)m * s.out.c] : 0.f;
        },
        [&](int kk) {
            const int iy = taps.dy[kk] + cy, ix = taps.dx[kk] + cx;
            const bool inside = col_ok && taps.valid[kk] && iy >= 0 && iy < s.h && ix >= 0 && ix < s.w;
            return inside ? channel[(long long)taps.offset[kk] + iy * s.in.h + ix * s.in.w] : 0.f;
        });
    float* out = partials + (long long)split * s.co * columns;
    tile.for_each([&](int row, int column, float v) {
        const int m = m0 + row, n = n0 + column;
        if (m < cog && n < columns) out[(long long)(g * cog + m) * columns + n] = v;
    });
}

// The entry points: f32 on CUDA cores, and bf16 values on tensor cores.
extern "C" __global__ void conv2d_forward_f32(float* y, const float* x, const float* w, const float* bias,
                                              int has_bias, int relu, ConvShape s) {
    conv_forward<SimtTile>(y, x, w, bias, has_bias, relu, s);
}
extern "C" __global__ void conv2d_forward_bf16(float* y, const float* x, const float* w, const float* bias,
                                               int has_bias, int relu, ConvShape s) {
    conv_forward<MmaTile>(y, x, w, bias, has_bias, relu, s);
}
extern "C" __global__ void conv2d_backward_input_f32(float* dx, const float* dy, const float* w, ConvShape s) {
    conv_backward_input<SimtTile>(dx, dy, w, s);
}
extern "C" __global__ void conv2d_backward_input_bf16(float* dx, const float* dy, const float* w, ConvShape s) {
    conv_backward_input<MmaTile>(dx, dy, w, s);
}
extern "C" __global__ void conv2d_backward_weight_f32(float* partials, const float* dy, const float* x, ConvShape s) {
    conv_backward_weight<SimtTile>(partials, dy, x, s);
}
extern "C" __global__ void conv2d_backward_weight_bf16(float* partials, const float* dy, const float* x, ConvShape s) {
    conv_backward_weight<MmaTile>(partials, dy, x, s);
}
