// Flash attention over f32 operands: softmax(q k^T * scale + mask) @ v, forward and backward,
// without ever writing the [Lq, Lk] score matrix. Scores live one tile at a time in shared
// memory; the forward pass keeps a running row maximum and row sum (online softmax) and rescales
// its output accumulators when the maximum grows, and saves each row's log-sum-exp. The backward
// pass recomputes each tile's probabilities from it: p = exp(s - lse), ds = p * (dp - delta)
// with dp = dO v^T and delta = rowsum(dO * O); one kernel gives dq per query tile, another dk and
// dv per key tile, so every gradient is written once (no atomics: the same inputs give the same
// bits).
//
// Operands are read through per-slice start offsets and row / column strides (heads permuted out
// of a [B, L, H * d] projection, or a batch broadcast, need no copy). The mask is optional and
// additive; `causal` lets query i see keys 0..=i.
//
// Tiling: FA_THREADS threads; thread t owns tile row t / 4 and, of that row, the columns
// (t % 4) + 4 j of the score tile and of the output. A row's four threads compute its softmax
// statistics redundantly from the shared score tile (same operations, same values), which
// needs no shuffles. f32 FMAs on CUDA cores, head dims up to FA_MAX_D.
// Measured: not yet run on a GPU.

#define FA_LANES 4

// Query rows (forward, dq) or key rows (dk / dv) per tile, and columns of the score tile. The
// forward pass holds three tiles; the backward kernels hold five, so they use half the rows to
// stay within 48 KiB of shared memory at FA_MAX_D.
#define FA_FWD_ROWS 32
#define FA_BWD_ROWS 16

// Copies rows row0.. (up to `rows`, zero past `limit`) of `cols` columns of slice `slice` into a
// shared tile with `pitch` floats per row.
__device__ __forceinline__ void fa_load_tile(float* tile, int pitch, const FaOperand& o, int slice,
                                             int row0, int rows, int limit, int cols) {
    for (int e = threadIdx.x; e < rows * cols; e += blockDim.x) {
        int r = e / cols, c = e % cols;
        tile[r * pitch + c] = row0 + r < limit ? fa_at(o, slice, row0 + r, c) : 0.f;
    }
}

// fa_load_tile for a contiguous [slices, limit, cols] array (the output's gradient).
__device__ __forceinline__ void fa_load_rows(float* tile, int pitch, const float* src, int slice,
                                             int row0, int rows, int limit, int cols) {
    for (int e = threadIdx.x; e < rows * cols; e += blockDim.x) {
        int r = e / cols, c = e % cols;
        tile[r * pitch + c] =
            row0 + r < limit ? src[((long long)slice * limit + row0 + r) * cols + c] : 0.f;
    }
}

// The scaled, masked score of query `i` and key `j` from shared rows `qrow` and `krow`, or -inf
// when the key is out of range or hidden.
__device__ __forceinline__ float fa_score(const float* qrow, const float* krow, int d, float scale,
                                          int i, int j, int lq, int lk, int causal,
                                          const FaOperand& mask, int has_mask, int slice) {
    if (j >= lk || i >= lq || (causal && j > i)) return -FG_INF;
    float s = 0.f;
    for (int x = 0; x < d; ++x) s = fmaf(qrow[x], krow[x], s);
    s *= scale;
    if (has_mask) s += fa_at(mask, slice, i, j);
    return s;
}

// acc[c] = acc[c] * alpha + sum_j w[j] * tile[j][col] for this thread's columns
// col = lane + FA_LANES * c below `cols`: a row of weights times a shared tile of `rows` rows.
__device__ __forceinline__ void fa_accumulate(float* acc, float alpha, const float* w,
                                              const float* tile, int pitch, int rows, int cols,
                                              int lane) {
#pragma unroll
    for (int c = 0; c < FA_MAX_D / FA_LANES; ++c) {
        int col = lane + FA_LANES * c;
        if (col >= cols) break;
        float a = acc[c] * alpha;
        for (int j = 0; j < rows; ++j) a = fmaf(w[j], tile[j * pitch + col], a);
        acc[c] = a;
    }
}

// row[col] = acc[c] * factor for this thread's columns below `cols`.
__device__ __forceinline__ void fa_store(float* row, const float* acc, float factor, int cols,
                                         int lane) {
#pragma unroll
    for (int c = 0; c < FA_MAX_D / FA_LANES; ++c) {
        int col = lane + FA_LANES * c;
        if (col >= cols) break;
        row[col] = acc[c] * factor;
    }
}

#define FA_COLS_PER_LANE (FA_FWD_ROWS / FA_LANES)

// Grid: (query tiles, slices); FA_FWD_ROWS * FA_LANES threads. Writes out [slices, lq, dv] and
// lse [slices, lq] (the row's log-sum-exp; -inf for a row with every key hidden, whose output is
// NaN as in the composed softmax).
extern "C" __global__ void flash_attention_forward_f32(
    float* out, float* lse, FaOperand q, FaOperand k, FaOperand v, FaOperand mask, int has_mask,
    int lq, int lk, int d, int dv, float scale, int causal) {
    __shared__ float qs[FA_FWD_ROWS * (FA_MAX_D + 1)];
    __shared__ float kv[FA_FWD_ROWS * (FA_MAX_D + 1)];
    __shared__ float ps[FA_FWD_ROWS * (FA_FWD_ROWS + 1)];
    const int slice = blockIdx.y, row0 = blockIdx.x * FA_FWD_ROWS;
    const int r = threadIdx.x / FA_LANES, lane = threadIdx.x % FA_LANES;
    const int i = row0 + r;
    const int qp = d + 1, vp = dv + 1, pp = FA_FWD_ROWS + 1;
    fa_load_tile(qs, qp, q, slice, row0, FA_FWD_ROWS, lq, d);
    float m = -FG_INF, l = 0.f;
    float acc[FA_MAX_D / FA_LANES];
#pragma unroll
    for (int c = 0; c < FA_MAX_D / FA_LANES; ++c) acc[c] = 0.f;
    // Keys past the last query row are hidden from every row of a causal tile.
    const int keys = causal ? min(lk, row0 + FA_FWD_ROWS) : lk;
    for (int col0 = 0; col0 < keys; col0 += FA_FWD_ROWS) {
        __syncthreads();  // the previous tile's readers of kv and ps are done
        fa_load_tile(kv, qp, k, slice, col0, FA_FWD_ROWS, lk, d);
        __syncthreads();
        float s[FA_COLS_PER_LANE];
        float tile_max = -FG_INF;
#pragma unroll
        for (int c = 0; c < FA_COLS_PER_LANE; ++c) {
            int jc = lane + FA_LANES * c;
            s[c] = fa_score(qs + r * qp, kv + jc * qp, d, scale, i, col0 + jc, lq, lk, causal, mask,
                            has_mask, slice);
            ps[r * pp + jc] = s[c];
        }
        __syncthreads();
        for (int jc = 0; jc < FA_FWD_ROWS; ++jc) tile_max = fmaxf(tile_max, ps[r * pp + jc]);
        const float m_new = fmaxf(m, tile_max);
        // Until a row sees a visible key its maximum stays -inf: nothing to add or rescale.
        const float alpha = m_new == -FG_INF ? 1.f : expf(m - m_new);
        __syncthreads();  // every row's maximum is read before the tile is overwritten
#pragma unroll
        for (int c = 0; c < FA_COLS_PER_LANE; ++c) {
            int jc = lane + FA_LANES * c;
            ps[r * pp + jc] = m_new == -FG_INF ? 0.f : expf(s[c] - m_new);
        }
        fa_load_tile(kv, vp, v, slice, col0, FA_FWD_ROWS, lk, dv);
        __syncthreads();
        float row_sum = 0.f;
        for (int jc = 0; jc < FA_FWD_ROWS; ++jc) row_sum += ps[r * pp + jc];
        l = l * alpha + row_sum;
        m = m_new;
        fa_accumulate(acc, alpha, ps + r * pp, kv, vp, FA_FWD_ROWS, dv, lane);
    }
    if (i >= lq) return;
    // A row with every key hidden has l = 0: 0 * inf gives NaN, as the composed softmax does.
    fa_store(out + ((long long)slice * lq + i) * dv, acc, 1.f / l, dv, lane);
    if (lane == 0) lse[(long long)slice * lq + i] = m + logf(l);
}

#define FA_BWD_COLS (FA_BWD_ROWS / FA_LANES)

// The probability and the score gradient of query `i` and key `j` (shared rows of q, k, dO, v),
// given the row's log-sum-exp and delta = rowsum(dO * O).
__device__ __forceinline__ void fa_grad_entry(const float* qrow, const float* krow,
                                              const float* dorow, const float* vrow, int d, int dv,
                                              float scale, int i, int j, int lq, int lk,
                                              int causal, const FaOperand& mask, int has_mask,
                                              int slice, float row_lse, float row_delta,
                                              float* p_out, float* ds_out) {
    float s = fa_score(qrow, krow, d, scale, i, j, lq, lk, causal, mask, has_mask, slice);
    if (s == -FG_INF) {
        *p_out = 0.f;
        *ds_out = 0.f;
        return;
    }
    float p = expf(s - row_lse);
    float dp = 0.f;
    for (int x = 0; x < dv; ++x) dp = fmaf(dorow[x], vrow[x], dp);
    *p_out = p;
    *ds_out = p * (dp - row_delta);
}

// Grid: (query tiles, slices); FA_BWD_ROWS * FA_LANES threads. dq [slices, lq, d] from the saved
// lse and delta [slices, lq]: dq_i = scale * sum_j ds_ij k_j.
extern "C" __global__ void flash_attention_backward_dq_f32(
    float* dq, const float* lse, const float* delta, const float* dout, FaOperand q, FaOperand k,
    FaOperand v, FaOperand mask, int has_mask, int lq, int lk, int d, int dv, float scale,
    int causal) {
    __shared__ float qs[FA_BWD_ROWS * (FA_MAX_D + 1)];
    __shared__ float dos[FA_BWD_ROWS * (FA_MAX_D + 1)];
    __shared__ float ks[FA_BWD_ROWS * (FA_MAX_D + 1)];
    __shared__ float vs[FA_BWD_ROWS * (FA_MAX_D + 1)];
    __shared__ float dss[FA_BWD_ROWS * (FA_BWD_ROWS + 1)];
    const int slice = blockIdx.y, row0 = blockIdx.x * FA_BWD_ROWS;
    const int r = threadIdx.x / FA_LANES, lane = threadIdx.x % FA_LANES;
    const int i = row0 + r;
    const int qp = d + 1, vp = dv + 1, pp = FA_BWD_ROWS + 1;
    fa_load_tile(qs, qp, q, slice, row0, FA_BWD_ROWS, lq, d);
    fa_load_rows(dos, vp, dout, slice, row0, FA_BWD_ROWS, lq, dv);
    const float row_lse = i < lq ? lse[(long long)slice * lq + i] : 0.f;
    const float row_delta = i < lq ? delta[(long long)slice * lq + i] : 0.f;
    float acc[FA_MAX_D / FA_LANES];
#pragma unroll
    for (int c = 0; c < FA_MAX_D / FA_LANES; ++c) acc[c] = 0.f;
    const int keys = causal ? min(lk, row0 + FA_BWD_ROWS) : lk;
    for (int col0 = 0; col0 < keys; col0 += FA_BWD_ROWS) {
        __syncthreads();
        fa_load_tile(ks, qp, k, slice, col0, FA_BWD_ROWS, lk, d);
        fa_load_tile(vs, vp, v, slice, col0, FA_BWD_ROWS, lk, dv);
        __syncthreads();
#pragma unroll
        for (int c = 0; c < FA_BWD_COLS; ++c) {
            int jc = lane + FA_LANES * c;
            float p, ds;
            fa_grad_entry(qs + r * qp, ks + jc * qp, dos + r * vp, vs + jc * vp, d, dv, scale, i,
                          col0 + jc, lq, lk, causal, mask, has_mask, slice, row_lse, row_delta, &p,
                          &ds);
            dss[r * pp + jc] = ds;
        }
        __syncthreads();
        fa_accumulate(acc, 1.f, dss + r * pp, ks, qp, FA_BWD_ROWS, d, lane);
    }
    if (i >= lq) return;
    fa_store(dq + ((long long)slice * lq + i) * d, acc, scale, d, lane);
}

// Grid: (key tiles, slices); FA_BWD_ROWS * FA_LANES threads. Thread t owns key row t / 4 of the
// tile. dv_j = sum_i p_ij dO_i and dk_j = scale * sum_i ds_ij q_i into dk [slices, lk, d] and
// dv [slices, lk, dv].
extern "C" __global__ void flash_attention_backward_dkv_f32(
    float* dk, float* dvalue, const float* lse, const float* delta, const float* dout, FaOperand q,
    FaOperand k, FaOperand v, FaOperand mask, int has_mask, int lq, int lk, int d, int dv,
    float scale, int causal) {
    __shared__ float ks[FA_BWD_ROWS * (FA_MAX_D + 1)];
    __shared__ float vs[FA_BWD_ROWS * (FA_MAX_D + 1)];
    __shared__ float qs[FA_BWD_ROWS * (FA_MAX_D + 1)];
    __shared__ float dos[FA_BWD_ROWS * (FA_MAX_D + 1)];
    __shared__ float pt[FA_BWD_ROWS * (FA_BWD_ROWS + 1)];
    __shared__ float dst[FA_BWD_ROWS * (FA_BWD_ROWS + 1)];
    __shared__ float lse_s[FA_BWD_ROWS];
    __shared__ float delta_s[FA_BWD_ROWS];
    const int slice = blockIdx.y, key0 = blockIdx.x * FA_BWD_ROWS;
    const int r = threadIdx.x / FA_LANES, lane = threadIdx.x % FA_LANES;
    const int j = key0 + r;
    const int qp = d + 1, vp = dv + 1, pp = FA_BWD_ROWS + 1;
    fa_load_tile(ks, qp, k, slice, key0, FA_BWD_ROWS, lk, d);
    fa_load_tile(vs, vp, v, slice, key0, FA_BWD_ROWS, lk, dv);
    float dk_acc[FA_MAX_D / FA_LANES], dv_acc[FA_MAX_D / FA_LANES];
#pragma unroll
    for (int c = 0; c < FA_MAX_D / FA_LANES; ++c) {
        dk_acc[c] = 0.f;
        dv_acc[c] = 0.f;
    }
    // Query rows before this tile's first key see none of it under a causal mask (query and key
    // tiles have the same height, so that is a whole number of query tiles).
    const int first_row = causal ? key0 : 0;
    for (int row0 = first_row; row0 < lq; row0 += FA_BWD_ROWS) {
        __syncthreads();
        fa_load_tile(qs, qp, q, slice, row0, FA_BWD_ROWS, lq, d);
        fa_load_rows(dos, vp, dout, slice, row0, FA_BWD_ROWS, lq, dv);
        if (threadIdx.x < FA_BWD_ROWS) {
            int ii = row0 + threadIdx.x;
            lse_s[threadIdx.x] = ii < lq ? lse[(long long)slice * lq + ii] : 0.f;
            delta_s[threadIdx.x] = ii < lq ? delta[(long long)slice * lq + ii] : 0.f;
        }
        __syncthreads();
#pragma unroll
        for (int c = 0; c < FA_BWD_COLS; ++c) {
            int ic = lane + FA_LANES * c;
            float p, ds;
            fa_grad_entry(qs + ic * qp, ks + r * qp, dos + ic * vp, vs + r * vp, d, dv, scale,
                          row0 + ic, j, lq, lk, causal, mask, has_mask, slice, lse_s[ic],
                          delta_s[ic], &p, &ds);
            pt[r * pp + ic] = p;
            dst[r * pp + ic] = ds;
        }
        __syncthreads();
        fa_accumulate(dv_acc, 1.f, pt + r * pp, dos, vp, FA_BWD_ROWS, dv, lane);
        fa_accumulate(dk_acc, 1.f, dst + r * pp, qs, qp, FA_BWD_ROWS, d, lane);
    }
    if (j >= lk) return;
    fa_store(dk + ((long long)slice * lk + j) * d, dk_acc, scale, d, lane);
    fa_store(dvalue + ((long long)slice * lk + j) * dv, dv_acc, 1.f, dv, lane);
}
