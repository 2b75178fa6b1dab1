// Indexing: rows picked by a 1-D index (index_select, embedding), torch.gather, and their
// adjoints, which add with atomicAdd (several indices may name the same row; the order of those
// additions, and so the last bits of a repeated row's sum, varies from run to run as in PyTorch).
// Indices are int64 and were checked against the bound before the launch.

// For element i of an (outer, k, inner) selection, the offset of its row idx[j] in the indexed
// tensor of `size` rows along that axis.
__device__ __forceinline__ long long fg_selected(long long i, const long long* idx, long long size,
                                                 long long inner, long long k) {
    long long t = i % inner, r = i / inner;
    return ((r / k) * size + idx[r % k]) * inner + t;
}

// out[o, j, t] = src[o, idx[j], t].
extern "C" __global__ void index_select_f32(float* out, const float* src, const long long* idx,
                                            long long outer, long long size, long long inner,
                                            long long k) {
    FG_FOR_EACH(i, outer * k * inner) out[i] = src[fg_selected(i, idx, size, inner, k)];
}

// dst[o, idx[j], t] += src[o, j, t].
extern "C" __global__ void index_add_f32(float* dst, const float* src, const long long* idx,
                                         long long outer, long long size, long long inner,
                                         long long k) {
    FG_FOR_EACH(i, outer * k * inner) atomicAdd(&dst[fg_selected(i, idx, size, inner, k)], src[i]);
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
