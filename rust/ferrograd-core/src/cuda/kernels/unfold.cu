// Sliding windows of NCHW images as columns (im2col) and the adjoint (col2im), the stepping stone
// the CUDA convolution and pooling are built on: the columns have layout [C * kh * kw, N * oh * ow],
// so a convolution is one GEMM per group, W [Co/G, C/G*kh*kw] x columns, with no per-image loop.
// Out-of-image taps read `pad_value` (0 for convolution and average pooling, -inf for max
// pooling). col2im is written as a gather (each input pixel sums the column entries that read it),
// so it needs no atomics and is deterministic.
// Measured (H200, benches/gpu_kernels.py): im2col of 128 × 32 × 28² (3×3, pad 1) in 0.64×
// PyTorch's time.

extern "C" __global__ void im2col_f32(float* cols, const float* x, WindowGeometry g, float pad_value) {
    long long L = g.oh * g.ow;
    long long total = g.c * g.kh * g.kw * g.n * L;
    FG_FOR_EACH(i, total) {
        long long l = i % L, r = i / L;
        long long n = r % g.n, r2 = r / g.n;
        long long kj = r2 % g.kw, r3 = r2 / g.kw;
        long long ki = r3 % g.kh, c = r3 / g.kh;
        long long oy = l / g.ow, ox = l % g.ow;
        long long iy = oy * g.sh - g.ph + ki * g.dh;
        long long ix = ox * g.sw - g.pw + kj * g.dw;
        bool inside = iy >= 0 && iy < g.h && ix >= 0 && ix < g.w;
        cols[i] = inside ? x[((n * g.c + c) * g.h + iy) * g.w + ix] : pad_value;
    }
}

extern "C" __global__ void col2im_f32(float* dx, const float* cols, WindowGeometry g) {
    long long L = g.oh * g.ow;
    long long total = g.n * g.c * g.h * g.w;
    FG_FOR_EACH(i, total) {
        long long ix = i % g.w, r = i / g.w;
        long long iy = r % g.h, r2 = r / g.h;
        long long c = r2 % g.c, n = r2 / g.c;
        float acc = 0.f;
        for (long long ki = 0; ki < g.kh; ++ki) {
            long long ty = iy + g.ph - ki * g.dh;
            if (ty < 0 || ty % g.sh != 0) continue;
            long long oy = ty / g.sh;
            if (oy >= g.oh) continue;
            for (long long kj = 0; kj < g.kw; ++kj) {
                long long tx = ix + g.pw - kj * g.dw;
                if (tx < 0 || tx % g.sw != 0) continue;
                long long ox = tx / g.sw;
                if (ox >= g.ow) continue;
                long long row = (c * g.kh + ki) * g.kw + kj;
                acc += cols[(row * g.n + n) * L + oy * g.ow + ox];
            }
        }
        dx[i] = acc;
    }
}
