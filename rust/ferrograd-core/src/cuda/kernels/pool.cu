// Pooling straight from NCHW images, forward and backward: max pooling, and average pooling over
// per-axis windows.
//
// Max pooling: one thread per output scans its window's in-image taps in row-major order; the
// first maximum wins ties and a NaN wins outright, as on the CPU and in PyTorch. The winner's
// index within its plane is kept for the backward pass, which adds each output's gradient at that
// index (atomically: overlapping windows can share a winner). Replaces pooling over im2col
// columns, whose arg-reduction across the taps read with a stride of N * oh * ow.
// Measured (H200, benches/gpu_kernels.py): 2×2 max pooling forward of 128 × 64 × 32² in 1.18×
// PyTorch's time.

extern "C" __global__ void max_pool_f32(float* out, long long* argmax, const float* x, WindowGeometry g) {
    long long total = g.n * g.c * g.oh * g.ow;
    FG_FOR_EACH(i, total) {
        long long ox = i % g.ow, r = i / g.ow;
        long long oy = r % g.oh, plane = r / g.oh;
        const float* p = x + plane * g.h * g.w;
        float best = -FG_INF;
        long long at = -1;
        bool nan = false;
        for (long long ki = 0; ki < g.kh && !nan; ++ki) {
            long long iy = oy * g.sh - g.ph + ki * g.dh;
            if (iy < 0 || iy >= g.h) continue;
            for (long long kj = 0; kj < g.kw; ++kj) {
                long long ix = ox * g.sw - g.pw + kj * g.dw;
                if (ix < 0 || ix >= g.w) continue;
                float v = p[iy * g.w + ix];
                if (v > best || at < 0 || v != v) {
                    best = v;
                    at = iy * g.w + ix;
                    if (v != v) { nan = true; break; }
                }
            }
        }
        out[i] = best;
        argmax[i] = at;
    }
}

// dx must arrive zeroed.
extern "C" __global__ void max_pool_backward_f32(float* dx, const float* grad, const long long* argmax,
                                                 WindowGeometry g) {
    long long per_plane = g.oh * g.ow, total = g.n * g.c * per_plane;
    FG_FOR_EACH(i, total) {
        long long at = argmax[i];
        if (at >= 0) atomicAdd(dx + (i / per_plane) * g.h * g.w + at, grad[i]);
    }
}

// Average pooling (avg_pool2d, adaptive_avg_pool2d) over the windows of `cpu::pool::Windows`:
// output (oy, ox) averages input rows rows[oy] and columns cols[ox] (clipped to the image; empty
// for a window wholly in the padding), divided by divisor[oy * ow + ox] (PyTorch's rule for the
// window). The backward pass is a gather, not a scatter: windows start and end in order, so the
// outputs whose windows hold an input row are one range (`row_cover`, and `col_cover` for
// columns), and each input pixel sums its outputs' shares with no atomics. Both passes add in the
// CPU kernels' order (a window row by row, each row left to right; the shares in row-major output
// order), so both devices give the same bits.
// Measured: not yet run on a GPU.

// Each table holds [start, end) pairs.
struct AvgWindows {
    const int* rows;       // [oh][2]: the input rows of each output row
    const int* cols;       // [ow][2]
    const int* row_cover;  // [h][2]: the output rows whose windows hold each input row
    const int* col_cover;  // [w][2]
    const float* divisor;  // [oh * ow]
    long long planes;
    int h, w, oh, ow;
};

extern "C" __global__ void avg_pool_f32(float* out, const float* x, AvgWindows a) {
    const long long per_plane = (long long)a.oh * a.ow;
    FG_FOR_EACH(i, a.planes * per_plane) {
        const int ox = i % a.ow, oy = i / a.ow % a.oh;
        const float* p = x + i / per_plane * a.h * a.w;
        float sum = 0.f;
        for (int iy = a.rows[2 * oy]; iy < a.rows[2 * oy + 1]; ++iy) {
            float row = 0.f;
            for (int ix = a.cols[2 * ox]; ix < a.cols[2 * ox + 1]; ++ix) row += p[iy * a.w + ix];
            sum += row;
        }
        out[i] = sum / a.divisor[oy * a.ow + ox];
    }
}

extern "C" __global__ void avg_pool_backward_f32(float* dx, const float* grad, AvgWindows a) {
    const long long per_plane = (long long)a.h * a.w;
    FG_FOR_EACH(i, a.planes * per_plane) {
        const int ix = i % a.w, iy = i / a.w % a.h;
        const float* g = grad + i / per_plane * a.oh * a.ow;
        float acc = 0.f;
        for (int oy = a.row_cover[2 * iy]; oy < a.row_cover[2 * iy + 1]; ++oy)
            for (int ox = a.col_cover[2 * ix]; ox < a.col_cover[2 * ix + 1]; ++ox)
                acc += g[oy * a.ow + ox] / a.divisor[oy * a.ow + ox];
        dx[i] = acc;
    }
}
