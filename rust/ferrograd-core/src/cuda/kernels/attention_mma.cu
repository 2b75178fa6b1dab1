// Flash attention on 16-bit tensor cores (mma.sync.m16n8k16, f32 accumulation; sm_80 and later):
// the products of attention.cu's kernels, forward and backward, where q, k, v and the output's
// gradient hold bf16 values (a bf16 autocast scope, or bf16 tensors) or f16 values (f16 tensors).
// The format is a template parameter (`FaBf16`, `FaF16`: its rounding and its mma instruction).
// As in PyTorch's flash kernels, the probabilities (for O = P V and dV = P^T dO) and the score
// gradients (for dQ = dS K and dK = dS^T Q) are rounded to the 16-bit format for their products;
// the row statistics (maximum, sum,
// log-sum-exp, delta) and every accumulation stay f32. The [Lq, Lk] scores are never stored and
// no gradient needs atomics (one kernel for dq per query tile, one for dk and dv per key tile), so
// the same inputs give the same bits.
//
// Tiling (the FlashAttention-2 arrangement): a block is ROWS / 16 warps; each warp owns 16 rows
// (queries in the forward and dq kernels, keys in the dk / dv kernel) and holds its rows of the
// current score tile in mma accumulators. The accumulators of two adjacent 16 x 8 tiles are
// exactly the A fragment of a 16 x 16 operand, so probabilities and score gradients go from one
// product into the next in registers, never through shared memory. Row maxima and sums combine
// the four lanes that share a row with two shuffles.
//
// Operands are staged in shared memory in the 16-bit format (rounded to nearest even: exact for
// values of that format),
// row-major [row][col] or transposed [col][row], whichever makes each fragment register one 32-bit
// load of two consecutive values (a product X Y^T wants X as [m][k] and Y as [n][k]). Rows are
// padded by 8 values, which spreads a warp's 32 fragment loads over the 32 banks. Head dims are
// zero-padded to D = 32, 64 or 128 (a template parameter), and each D has tile heights that keep
// the static shared memory under 48 KiB (the instantiations at the end).
// Measured: not yet run on a GPU (written while none was lent); ldmatrix fragment loads and
// cp.async double buffering are the next steps once it is.

#define FA_PAD 8

// The 16-bit formats: the bits of a float rounded to nearest even, and the product on them.
struct FaBf16 {
    static __device__ __forceinline__ unsigned short bits(float x) { return fg_bf16_bits(x); }
    static __device__ __forceinline__ void mma(float d[4], const unsigned a[4], const unsigned b[2]) {
        fg_mma_bf16_16816(d, a, b);
    }
};
struct FaF16 {
    static __device__ __forceinline__ unsigned short bits(float x) { return fg_f16_bits(x); }
    static __device__ __forceinline__ void mma(float d[4], const unsigned a[4], const unsigned b[2]) {
        fg_mma_f16_16816(d, a, b);
    }
};

// Two values as one fragment register, the first in the low half.
template <class Fmt>
__device__ __forceinline__ unsigned fa_pack(float first, float second) {
    return (unsigned)Fmt::bits(first) | ((unsigned)Fmt::bits(second) << 16);
}

// A ROWS x COLS 16-bit tile in shared memory, rows padded; aligned for 32-bit fragment loads.
template <int ROWS, int COLS>
struct alignas(16) FaTile {
    unsigned short at[ROWS][COLS + FA_PAD];

    // Elements k and k + 1 of row r as one fragment register.
    __device__ __forceinline__ unsigned pair(int r, int k) const { return *(const unsigned*)(&at[r][k]); }
};

// `FaProblem` of `cuda/attention.rs`, field for field.
struct FaProblem {
    FaOperand q, k, v, mask;
    int has_mask, lq, lk, d, dv, causal;
    float scale;
};

// Stages rows row0 .. row0 + ROWS of fetch(row, col), columns 0 .. COLS (zero past `limit` rows
// and `width` columns), into `rows` as [row][col] and, when given, into `cols` as [col][row].
template <class Fmt, int ROWS, int COLS, class Fetch>
__device__ __forceinline__ void fa_stage(FaTile<ROWS, COLS>* rows, FaTile<COLS, ROWS>* cols, int row0,
                                         int limit, int width, Fetch fetch) {
    for (int e = threadIdx.x; e < ROWS * COLS; e += blockDim.x) {
        const int r = e / COLS, c = e % COLS;
        const unsigned short b = row0 + r < limit && c < width ? Fmt::bits(fetch(row0 + r, c)) : 0;
        if (rows) rows->at[r][c] = b;
        if (cols) cols->at[c][r] = b;
    }
}

// acc[n] += X Y^T for one warp over k < K: X is rows x0 .. x0 + 16 of `x`, and accumulator tile n
// takes rows 8n .. 8n + 8 of `y` (both [row][k]).
template <class Fmt, int N, int K, int XR, int XC, int YR, int YC>
__device__ __forceinline__ void fa_mma_rows(float (&acc)[N][4], const FaTile<XR, XC>& x, int x0,
                                            const FaTile<YR, YC>& y) {
    const int lane = threadIdx.x % 32, g = lane >> 2, t = lane & 3;
#pragma unroll
    for (int k0 = 0; k0 < K; k0 += 16) {
        const unsigned a[4] = {x.pair(x0 + g, k0 + 2 * t), x.pair(x0 + g + 8, k0 + 2 * t),
                               x.pair(x0 + g, k0 + 2 * t + 8), x.pair(x0 + g + 8, k0 + 2 * t + 8)};
#pragma unroll
        for (int n = 0; n < N; ++n) {
            const unsigned b[2] = {y.pair(8 * n + g, k0 + 2 * t), y.pair(8 * n + g, k0 + 2 * t + 8)};
            Fmt::mma(acc[n], a, b);
        }
    }
}

// acc[n] += P Y^T for one warp, P (16 x K) held as K / 8 accumulator tiles and rounded to the
// 16-bit format as it becomes the A fragment; accumulator tile n takes rows 8n .. 8n + 8 of `y`
// ([row][k]).
template <class Fmt, int N, int K, int YR, int YC>
__device__ __forceinline__ void fa_mma_held(float (&acc)[N][4], const float (&p)[K / 8][4],
                                            const FaTile<YR, YC>& y) {
    const int lane = threadIdx.x % 32, g = lane >> 2, t = lane & 3;
#pragma unroll
    for (int k0 = 0; k0 < K; k0 += 16) {
        const int h = k0 / 8;
        const unsigned a[4] = {fa_pack<Fmt>(p[h][0], p[h][1]), fa_pack<Fmt>(p[h][2], p[h][3]),
                               fa_pack<Fmt>(p[h + 1][0], p[h + 1][1]), fa_pack<Fmt>(p[h + 1][2], p[h + 1][3])};
#pragma unroll
        for (int n = 0; n < N; ++n) {
            const unsigned b[2] = {y.pair(8 * n + g, k0 + 2 * t), y.pair(8 * n + g, k0 + 2 * t + 8)};
            Fmt::mma(acc[n], a, b);
        }
    }
}

// The maximum and the sum over the four lanes that hold a row's accumulators.
__device__ __forceinline__ float fa_row_max(float v) {
    v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, 1));
    return fmaxf(v, __shfl_xor_sync(0xffffffffu, v, 2));
}

__device__ __forceinline__ float fa_row_sum(float v) {
    v += __shfl_xor_sync(0xffffffffu, v, 1);
    return v + __shfl_xor_sync(0xffffffffu, v, 2);
}

// The scaled, masked score of query i and key j from their product, or -inf when the key or the
// query is out of range or the key is hidden.
__device__ __forceinline__ float fa_masked_score(const FaProblem& p, int slice, float product, int i, int j) {
    if (i >= p.lq || j >= p.lk || (p.causal && j > i)) return -FG_INF;
    float s = product * p.scale;
    if (p.has_mask) s += fa_at(p.mask, slice, i, j);
    return s;
}

// Accumulator element c of tile n lies in row g (c < 2) or g + 8, column 8n + 2t + (c & 1).
#define FA_ROW(c) (g + ((c) >= 2 ? 8 : 0))
#define FA_COL(n, c) (8 * (n) + 2 * t + ((c) & 1))

// Grid (query tiles of ROWS, slices), ROWS / 16 warps; key tiles of COLS. Writes out [slices, lq,
// dv] and lse [slices, lq] (-inf for a row with every key hidden, whose output is NaN as in the
// composed softmax).
template <class Fmt, int D, int ROWS, int COLS>
__device__ __forceinline__ void fa16_forward(float* out, float* lse, const FaProblem& p) {
    __shared__ FaTile<ROWS, D> qs;
    __shared__ FaTile<COLS, D> ks;
    __shared__ FaTile<D, COLS> vt;
    const int slice = blockIdx.y, row0 = blockIdx.x * ROWS, w0 = threadIdx.x / 32 * 16;
    const int lane = threadIdx.x % 32, g = lane >> 2, t = lane & 3;
    fa_stage<Fmt, ROWS, D>(&qs, nullptr, row0, p.lq, p.d, [&](int r, int c) { return fa_at(p.q, slice, r, c); });
    float m[2] = {-FG_INF, -FG_INF}, l[2] = {0.f, 0.f};
    float o[D / 8][4] = {};
    // Keys past the block's last query row are hidden from all of it under a causal mask.
    const int keys = p.causal ? min(p.lk, row0 + ROWS) : p.lk;
    for (int col0 = 0; col0 < keys; col0 += COLS) {
        __syncthreads();  // the previous tile's readers of ks and vt are done
        fa_stage<Fmt, COLS, D>(&ks, nullptr, col0, p.lk, p.d, [&](int r, int c) { return fa_at(p.k, slice, r, c); });
        fa_stage<Fmt, COLS, D>(nullptr, &vt, col0, p.lk, p.dv, [&](int r, int c) { return fa_at(p.v, slice, r, c); });
        __syncthreads();
        float s[COLS / 8][4] = {};
        fa_mma_rows<Fmt, COLS / 8, D>(s, qs, w0, ks);
        float tile_max[2] = {-FG_INF, -FG_INF};
#pragma unroll
        for (int n = 0; n < COLS / 8; ++n)
#pragma unroll
            for (int c = 0; c < 4; ++c) {
                s[n][c] = fa_masked_score(p, slice, s[n][c], row0 + w0 + FA_ROW(c), col0 + FA_COL(n, c));
                tile_max[c / 2] = fmaxf(tile_max[c / 2], s[n][c]);
            }
        float alpha[2];
#pragma unroll
        for (int h = 0; h < 2; ++h) {
            const float m_new = fmaxf(m[h], fa_row_max(tile_max[h]));
            // Until a row sees a visible key its maximum stays -inf: nothing to add or rescale.
            alpha[h] = m_new == -FG_INF ? 1.f : expf(m[h] - m_new);
            m[h] = m_new;
            l[h] *= alpha[h];
        }
#pragma unroll
        for (int n = 0; n < COLS / 8; ++n)
#pragma unroll
            for (int c = 0; c < 4; ++c) {
                s[n][c] = m[c / 2] == -FG_INF ? 0.f : expf(s[n][c] - m[c / 2]);
                l[c / 2] += s[n][c];
            }
#pragma unroll
        for (int n = 0; n < D / 8; ++n)
#pragma unroll
            for (int c = 0; c < 4; ++c) o[n][c] *= alpha[c / 2];
        fa_mma_held<Fmt, D / 8, COLS>(o, s, vt);
    }
#pragma unroll
    for (int h = 0; h < 2; ++h) {
        l[h] = fa_row_sum(l[h]);
        const int i = row0 + w0 + g + 8 * h;
        if (t == 0 && i < p.lq) lse[(long long)slice * p.lq + i] = m[h] + logf(l[h]);
    }
    // A row with every key hidden has l = 0: 0 * inf gives NaN, as the composed softmax does.
    const float inv[2] = {1.f / l[0], 1.f / l[1]};
#pragma unroll
    for (int n = 0; n < D / 8; ++n)
#pragma unroll
        for (int c = 0; c < 4; ++c) {
            const int i = row0 + w0 + FA_ROW(c), col = FA_COL(n, c);
            if (i < p.lq && col < p.dv) out[((long long)slice * p.lq + i) * p.dv + col] = o[n][c] * inv[c / 2];
        }
}

// Grid (query tiles of ROWS, slices), ROWS / 16 warps; key tiles of COLS. dq [slices, lq, d] from
// the saved lse and delta = rowsum(dO * O) [slices, lq]: dS = P * (dO V^T - delta), dQ = scale * dS K.
template <class Fmt, int D, int ROWS, int COLS>
__device__ __forceinline__ void fa16_backward_dq(float* dq, const float* lse, const float* delta,
                                                    const float* dout, const FaProblem& p) {
    __shared__ FaTile<ROWS, D> qs, dos;
    __shared__ FaTile<COLS, D> ks, vs;
    __shared__ FaTile<D, COLS> kt;
    const int slice = blockIdx.y, row0 = blockIdx.x * ROWS, w0 = threadIdx.x / 32 * 16;
    const int lane = threadIdx.x % 32, g = lane >> 2, t = lane & 3;
    const long long rows_before = (long long)slice * p.lq;
    fa_stage<Fmt, ROWS, D>(&qs, nullptr, row0, p.lq, p.d, [&](int r, int c) { return fa_at(p.q, slice, r, c); });
    fa_stage<Fmt, ROWS, D>(&dos, nullptr, row0, p.lq, p.dv,
                      [&](int r, int c) { return dout[(rows_before + r) * p.dv + c]; });
    float row_lse[2], row_delta[2];
#pragma unroll
    for (int h = 0; h < 2; ++h) {
        const int i = row0 + w0 + g + 8 * h;
        row_lse[h] = i < p.lq ? lse[rows_before + i] : 0.f;
        row_delta[h] = i < p.lq ? delta[rows_before + i] : 0.f;
    }
    float acc[D / 8][4] = {};
    const int keys = p.causal ? min(p.lk, row0 + ROWS) : p.lk;
    for (int col0 = 0; col0 < keys; col0 += COLS) {
        __syncthreads();
        fa_stage<Fmt, COLS, D>(&ks, &kt, col0, p.lk, p.d, [&](int r, int c) { return fa_at(p.k, slice, r, c); });
        fa_stage<Fmt, COLS, D>(&vs, nullptr, col0, p.lk, p.dv, [&](int r, int c) { return fa_at(p.v, slice, r, c); });
        __syncthreads();
        float s[COLS / 8][4] = {}, dp[COLS / 8][4] = {};
        fa_mma_rows<Fmt, COLS / 8, D>(s, qs, w0, ks);
        fa_mma_rows<Fmt, COLS / 8, D>(dp, dos, w0, vs);
#pragma unroll
        for (int n = 0; n < COLS / 8; ++n)
#pragma unroll
            for (int c = 0; c < 4; ++c) {
                const float sc = fa_masked_score(p, slice, s[n][c], row0 + w0 + FA_ROW(c), col0 + FA_COL(n, c));
                s[n][c] = sc == -FG_INF ? 0.f : expf(sc - row_lse[c / 2]) * (dp[n][c] - row_delta[c / 2]);
            }
        fa_mma_held<Fmt, D / 8, COLS>(acc, s, kt);
    }
#pragma unroll
    for (int n = 0; n < D / 8; ++n)
#pragma unroll
        for (int c = 0; c < 4; ++c) {
            const int i = row0 + w0 + FA_ROW(c), col = FA_COL(n, c);
            if (i < p.lq && col < p.d) dq[(rows_before + i) * p.d + col] = acc[n][c] * p.scale;
        }
}

// Grid (key tiles of ROWS, slices), ROWS / 16 warps, each owning 16 keys; query tiles of COLS.
// With the transposed scores S^T = K Q^T and dP^T = V dO^T: dV = P^T dO and
// dK = scale * dS^T Q, into dk [slices, lk, d] and dv [slices, lk, dv].
template <class Fmt, int D, int ROWS, int COLS>
__device__ __forceinline__ void fa16_backward_dkv(float* dk, float* dvalue, const float* lse,
                                                     const float* delta, const float* dout, const FaProblem& p) {
    __shared__ FaTile<ROWS, D> ks, vs;
    __shared__ FaTile<COLS, D> qs, dos;
    __shared__ FaTile<D, COLS> qt, dot;
    __shared__ float lse_s[COLS], delta_s[COLS];
    const int slice = blockIdx.y, key0 = blockIdx.x * ROWS, w0 = threadIdx.x / 32 * 16;
    const int lane = threadIdx.x % 32, g = lane >> 2, t = lane & 3;
    const long long rows_before = (long long)slice * p.lq;
    fa_stage<Fmt, ROWS, D>(&ks, nullptr, key0, p.lk, p.d, [&](int r, int c) { return fa_at(p.k, slice, r, c); });
    fa_stage<Fmt, ROWS, D>(&vs, nullptr, key0, p.lk, p.dv, [&](int r, int c) { return fa_at(p.v, slice, r, c); });
    float dk_acc[D / 8][4] = {}, dv_acc[D / 8][4] = {};
    // Query rows before this block's first key see none of its keys under a causal mask.
    const int first_row = p.causal ? key0 / COLS * COLS : 0;
    for (int row0 = first_row; row0 < p.lq; row0 += COLS) {
        __syncthreads();
        fa_stage<Fmt, COLS, D>(&qs, &qt, row0, p.lq, p.d, [&](int r, int c) { return fa_at(p.q, slice, r, c); });
        fa_stage<Fmt, COLS, D>(&dos, &dot, row0, p.lq, p.dv,
                          [&](int r, int c) { return dout[(rows_before + r) * p.dv + c]; });
        for (int e = threadIdx.x; e < COLS; e += blockDim.x) {
            const bool inside = row0 + e < p.lq;
            lse_s[e] = inside ? lse[rows_before + row0 + e] : 0.f;
            delta_s[e] = inside ? delta[rows_before + row0 + e] : 0.f;
        }
        __syncthreads();
        float s[COLS / 8][4] = {}, dp[COLS / 8][4] = {};
        fa_mma_rows<Fmt, COLS / 8, D>(s, ks, w0, qs);
        fa_mma_rows<Fmt, COLS / 8, D>(dp, vs, w0, dos);
#pragma unroll
        for (int n = 0; n < COLS / 8; ++n)
#pragma unroll
            for (int c = 0; c < 4; ++c) {
                const int ic = FA_COL(n, c);
                const float sc = fa_masked_score(p, slice, s[n][c], row0 + ic, key0 + w0 + FA_ROW(c));
                const float prob = sc == -FG_INF ? 0.f : expf(sc - lse_s[ic]);
                s[n][c] = prob;
                dp[n][c] = prob * (dp[n][c] - delta_s[ic]);
            }
        fa_mma_held<Fmt, D / 8, COLS>(dv_acc, s, dot);
        fa_mma_held<Fmt, D / 8, COLS>(dk_acc, dp, qt);
    }
#pragma unroll
    for (int n = 0; n < D / 8; ++n)
#pragma unroll
        for (int c = 0; c < 4; ++c) {
            const int j = key0 + w0 + FA_ROW(c), col = FA_COL(n, c);
            if (j >= p.lk) continue;
            if (col < p.d) dk[((long long)slice * p.lk + j) * p.d + col] = dk_acc[n][c] * p.scale;
            if (col < p.dv) dvalue[((long long)slice * p.lk + j) * p.dv + col] = dv_acc[n][c];
        }
}

// The kernels for head dims up to D in format FMT (kernel-name suffix NAME), with (rows, columns)
// tiles for the forward, dq and dk / dv kernels (`TENSOR_CORE_TILES` in `cuda/attention.rs`
// repeats the rows). At D = 128, ptxas (sm_90) gives forward 36,352 bytes of shared memory and
// 124 registers, dq 45,056 and 128, dk / dv 38,528 and 168, no spills (bf16).
#define FA_KERNELS(FMT, NAME, D, FR, FC, QR, QC, KR, KC)                                                        \
    extern "C" __global__ void flash_attention_forward_##NAME##_d##D(float* out, float* lse, FaProblem p) {     \
        fa16_forward<FMT, D, FR, FC>(out, lse, p);                                                              \
    }                                                                                                           \
    extern "C" __global__ void flash_attention_backward_dq_##NAME##_d##D(float* dq, const float* lse,           \
                                                                         const float* delta, const float* dout, \
                                                                         FaProblem p) {                         \
        fa16_backward_dq<FMT, D, QR, QC>(dq, lse, delta, dout, p);                                              \
    }                                                                                                           \
    extern "C" __global__ void flash_attention_backward_dkv_##NAME##_d##D(                                      \
        float* dk, float* dv, const float* lse, const float* delta, const float* dout, FaProblem p) {           \
        fa16_backward_dkv<FMT, D, KR, KC>(dk, dv, lse, delta, dout, p);                                         \
    }
#define FA_BOTH_FORMATS(...) FA_KERNELS(FaBf16, bf16, __VA_ARGS__) FA_KERNELS(FaF16, f16, __VA_ARGS__)

FA_BOTH_FORMATS(32, 64, 64, 64, 64, 64, 64)
FA_BOTH_FORMATS(64, 64, 64, 64, 64, 64, 32)
FA_BOTH_FORMATS(128, 64, 32, 32, 32, 32, 16)
