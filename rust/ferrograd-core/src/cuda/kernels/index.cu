// Indexing: rows picked by a 1-D index (index_select, embedding), torch.gather, and their
// adjoints, which add with atomicAdd (several indices may name the same row; the order of those
// additions, and so the last bits of a repeated row's sum, varies from run to run as in PyTorch).
// Indices are int64 and were checked against the bound before the launch.

// out[o, j, t] = src[o, idx[j], t] over (outer, k, inner); src has `size` rows on that axis.
extern "C" __global__ void index_select_f32(float* out, const float* src, const long long* idx,
                                            long long outer, long long size, long long inner,
                                            long long k) {
    long long n = outer * k * inner;
    FG_FOR_EACH(i, n) {
        long long t = i % inner, r = i / inner;
        long long j = r % k, o = r / k;
        out[i] = src[(o * size + idx[j]) * inner + t];
    }
}

// dst[o, idx[j], t] += src[o, j, t].
extern "C" __global__ void index_add_f32(float* dst, const float* src, const long long* idx,
                                         long long outer, long long size, long long inner,
                                         long long k) {
    long long n = outer * k * inner;
    FG_FOR_EACH(i, n) {
        long long t = i % inner, r = i / inner;
        long long j = r % k, o = r / k;
        atomicAdd(&dst[(o * size + idx[j]) * inner + t], src[i]);
    }
}

// torch.gather: `pos` walks the index's shape with the source's strides, the gathered axis'
// stride zeroed; the index value times that axis' stride completes the source offset.
extern "C" __global__ void gather_f32(float* out, const float* src, const long long* idx,
                                      StridedLayout pos, long long axis_stride, long long n) {
    FG_FOR_EACH(i, n) out[i] = src[fg_offset(pos, i) + idx[i] * axis_stride];
}

// torch.scatter_add's adjoint of gather: dst[position of i] += src[i].
extern "C" __global__ void scatter_add_f32(float* dst, const float* src, const long long* idx,
                                           StridedLayout pos, long long axis_stride, long long n) {
    FG_FOR_EACH(i, n) atomicAdd(&dst[fg_offset(pos, i) + idx[i] * axis_stride], src[i]);
}

// out (zeroed) gets a 1 at column idx[r] of row r.
extern "C" __global__ void one_hot_f32(float* out, const long long* idx, long long rows,
                                       long long classes) {
    FG_FOR_EACH(r, rows) out[r * classes + idx[r]] = 1.f;
}
