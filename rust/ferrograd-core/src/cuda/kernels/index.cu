// Indexing: rows picked by a 1-D index (index_select, embedding), torch.gather, and their
// adjoints, which add with atomicAdd (several indices may name the same row; the order of those
// additions, and so the last bits of a repeated row's sum, varies from run to run as in PyTorch).
// Indices are int64, checked here against their bound (`fg_index_ok`): an out-of-range one is
// skipped (its output element is 0) and reported at the host's next synchronisation.
// Measured (H200, benches/gpu_kernels.py): an embedding gather of 65536 rows of 768 at 1.34 TB/s,
// 2.5× PyTorch's time (one thread per element, each recomputing its row's offset).

// For element i of an (outer, k, inner) selection: the index it uses, and the offset of that row
// in the indexed tensor of `size` rows along the axis.
struct Selected {
    long long index, offset;
};

__device__ __forceinline__ Selected fg_selected(long long i, const long long* idx, long long size,
                                                long long inner, long long k) {
    long long t = i % inner, r = i / inner;
    long long j = idx[r % k];
    return {j, ((r / k) * size + j) * inner + t};
}

// out[o, j, t] = src[o, idx[j], t].
extern "C" __global__ void index_select_f32(float* out, const float* src, const long long* idx,
                                            long long outer, long long size, long long inner,
                                            long long k, long long* fault, long long code) {
    FG_FOR_EACH(i, outer * k * inner) {
        Selected s = fg_selected(i, idx, size, inner, k);
        out[i] = fg_index_ok(s.index, size, fault, code) ? src[s.offset] : 0.f;
    }
}

// dst[o, idx[j], t] += src[o, j, t].
extern "C" __global__ void index_add_f32(float* dst, const float* src, const long long* idx,
                                         long long outer, long long size, long long inner,
                                         long long k, long long* fault, long long code) {
    FG_FOR_EACH(i, outer * k * inner) {
        Selected s = fg_selected(i, idx, size, inner, k);
        if (fg_index_ok(s.index, size, fault, code)) atomicAdd(&dst[s.offset], src[i]);
    }
}

// torch.gather: `pos` walks the index's shape with the source's strides, the gathered axis'
// stride zeroed; the index value (below `size`, the axis' length) times that axis' stride
// completes the source offset.
extern "C" __global__ void gather_f32(float* out, const float* src, const long long* idx,
                                      StridedLayout pos, long long axis_stride, long long size,
                                      long long n, long long* fault, long long code) {
    FG_FOR_EACH(i, n) {
        long long j = idx[i];
        out[i] = fg_index_ok(j, size, fault, code) ? src[fg_offset(pos, i) + j * axis_stride] : 0.f;
    }
}

// torch.scatter_add's adjoint of gather: dst[position of i] += src[i].
extern "C" __global__ void scatter_add_f32(float* dst, const float* src, const long long* idx,
                                           StridedLayout pos, long long axis_stride, long long size,
                                           long long n, long long* fault, long long code) {
    FG_FOR_EACH(i, n) {
        long long j = idx[i];
        if (fg_index_ok(j, size, fault, code)) atomicAdd(&dst[fg_offset(pos, i) + j * axis_stride], src[i]);
    }
}

// out (zeroed) gets a 1 at column idx[r] of row r.
extern "C" __global__ void one_hot_f32(float* out, const long long* idx, long long rows,
                                       long long classes, long long* fault, long long code) {
    FG_FOR_EACH(r, rows) {
        long long j = idx[r];
        if (fg_index_ok(j, classes, fault, code)) out[r * classes + j] = 1.f;
    }
}
