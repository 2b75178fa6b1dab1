// rust/ferrograd-core/src/cuda/kernels/pool.cu's average pooling run on the host (emulate.h):
// forward and backward over sliding windows (padding, ceil mode's partial window, both divisor
// rules, strides past the kernel that leave inputs uncovered) and adaptive windows (sizes that do
// not divide). Each result must equal, bit for bit, the CPU kernels' order of additions
// (cpu/pool.rs: avg_pool, avg_pool_backward) and lie within 1e-6 of a float64 reference. Exits
// non-zero on a mismatch.
#include "emulate.h"
#include "reference.h"

#include <cstdio>
#include <random>
#include <utility>

// What pool.cu takes from common.cuh.
struct WindowGeometry {
    long long n, c, h, w, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow;
};
#define FG_FOR_EACH(i, n) \
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < (n); i += (long long)blockDim.x * gridDim.x)
inline float atomicAdd(float* at, float v) {
    return std::atomic_ref<float>(*at).fetch_add(v);
}

#include "../../rust/ferrograd-core/src/cuda/kernels/pool.cu"

namespace {

using Windows = std::vector<std::pair<int, int>>;

// cpu::pool::sliding_windows and adaptive_windows.
Windows sliding(int size, int out, int kernel, int stride, int pad) {
    Windows w;
    for (int o = 0; o < out; ++o) {
        const int start = o * stride - pad, end = start + kernel;
        w.push_back({std::max(start, 0), std::min(std::max(end, 0), size)});
    }
    return w;
}

Windows adaptive(int size, int out) {
    Windows w;
    for (int i = 0; i < out; ++i) w.push_back({i * size / out, ((i + 1) * size + out - 1) / out});
    return w;
}

// The outputs whose windows hold each input, by definition (the launcher's `covering`).
Windows cover(const Windows& windows, int size) {
    Windows c;
    for (int i = 0; i < size; ++i) {
        int first = int(windows.size()), end = 0;
        for (int o = 0; o < int(windows.size()); ++o)
            if (windows[o].first <= i && i < windows[o].second) first = std::min(first, o), end = o + 1;
        c.push_back({first, std::max(end, first)});
    }
    return c;
}

struct Case {
    const char* name;
    int planes, h, w;
    Windows rows, cols;
    bool include_pad;  // sliding windows: PyTorch's count_include_pad divisor (kernel area clipped to the padded image)
    int kh, kw, sh, sw, ph, pw;
};

bool run(const Case& c, unsigned seed) {
    const int oh = int(c.rows.size()), ow = int(c.cols.size()), P = c.planes, h = c.h, w = c.w;
    std::mt19937 gen(seed);
    std::normal_distribution<float> normal(0.f, 1.f);
    std::vector<float> x(size_t(P) * h * w), grad(size_t(P) * oh * ow);
    for (auto& v : x) v = normal(gen);
    for (auto& v : grad) v = normal(gen);
    std::vector<float> divisor;
    for (int oy = 0; oy < oh; ++oy)
        for (int ox = 0; ox < ow; ++ox) {
            if (c.include_pad) {
                const int ys = oy * c.sh, xs = ox * c.sw;
                divisor.push_back(float((std::min(ys + c.kh, h + 2 * c.ph) - ys) * (std::min(xs + c.kw, w + 2 * c.pw) - xs)));
            } else {
                const auto& ry = c.rows[oy];
                const auto& rx = c.cols[ox];
                divisor.push_back(float(std::max((ry.second - ry.first) * (rx.second - rx.first), 1)));
            }
        }
    std::vector<int> tables;
    for (const Windows* t : {&c.rows, &c.cols}) {
        for (auto [s, e] : *t) tables.push_back(s), tables.push_back(e);
    }
    for (auto [s, e] : cover(c.rows, h)) tables.push_back(s), tables.push_back(e);
    for (auto [s, e] : cover(c.cols, w)) tables.push_back(s), tables.push_back(e);
    const int* t = tables.data();
    const AvgWindows a{t, t + 2 * oh, t + 2 * (oh + ow), t + 2 * (oh + ow + h), divisor.data(), P, h, w, oh, ow};

    std::vector<float> out(grad.size(), NAN), dx(x.size(), NAN);
    emulate_launch(dim3{3}, dim3{64}, avg_pool_f32, out.data(), (const float*)x.data(), a);
    emulate_launch(dim3{3}, dim3{64}, avg_pool_backward_f32, dx.data(), (const float*)grad.data(), a);

    // The CPU kernels, in their order of additions, and float64.
    std::vector<float> cpu_out(out.size()), cpu_dx(dx.size(), 0.f);
    std::vector<double> exact_out(out.size()), exact_dx(dx.size(), 0.0);
    for (int p = 0; p < P; ++p)
        for (int oy = 0; oy < oh; ++oy)
            for (int ox = 0; ox < ow; ++ox) {
                const size_t o = (size_t(p) * oh + oy) * ow + ox;
                const float div = divisor[oy * ow + ox], share = grad[o] / div;
                float sum = 0.f;
                double exact = 0.0;
                for (int iy = c.rows[oy].first; iy < c.rows[oy].second; ++iy) {
                    float row = 0.f;
                    for (int ix = c.cols[ox].first; ix < c.cols[ox].second; ++ix) {
                        const size_t i = (size_t(p) * h + iy) * w + ix;
                        row += x[i];
                        exact += x[i];
                        cpu_dx[i] += share;
                        exact_dx[i] += double(grad[o]) / div;
                    }
                    sum += row;
                }
                cpu_out[o] = sum / div;
                exact_out[o] = exact / div;
            }
    const bool same = std::memcmp(out.data(), cpu_out.data(), out.size() * sizeof(float)) == 0 &&
                      std::memcmp(dx.data(), cpu_dx.data(), dx.size() * sizeof(float)) == 0;
    const double e_out = worst_error(out, exact_out), e_dx = worst_error(dx, exact_dx);
    const bool ok = same && e_out < 1e-6 && e_dx < 1e-6;
    printf("%s: %d x %dx%d -> %dx%d, bitwise like the CPU %s, errors %.1e %.1e (out dx) %s\n", c.name, P, h, w, oh,
           ow, same ? "yes" : "NO", e_out, e_dx, ok ? "ok" : "FAILED");
    return ok;
}

}  // namespace

int main() {
    const Case cases[] = {
        // avg_pool2d(3, 2, padding 1, ceil_mode) on 7 x 6: four windows each way, the last partial.
        {"sliding, count_include_pad", 5, 7, 6, sliding(7, 4, 3, 2, 1), sliding(6, 4, 3, 2, 1), true, 3, 3, 2, 2, 1, 1},
        {"sliding, in-image divisor", 5, 7, 6, sliding(7, 4, 3, 2, 1), sliding(6, 4, 3, 2, 1), false, 3, 3, 2, 2, 1, 1},
        // kernel 2, stride 4: every other pair of rows and columns is in no window.
        {"stride past the kernel", 3, 9, 10, sliding(9, 2, 2, 4, 0), sliding(10, 3, 2, 4, 0), false, 2, 2, 4, 4, 0, 0},
        {"adaptive 7x10 -> 3x4", 4, 7, 10, adaptive(7, 3), adaptive(10, 4), false, 0, 0, 0, 0, 0, 0},
        {"adaptive 3x5 -> 7x5", 2, 3, 5, adaptive(3, 7), adaptive(5, 5), false, 0, 0, 0, 0, 0, 0},
        {"global 4x4 -> 1x1", 40, 4, 4, adaptive(4, 1), adaptive(4, 1), false, 0, 0, 0, 0, 0, 0},
    };
    int failed = 0;
    unsigned seed = 1;
    for (const Case& c : cases) failed += !run(c, seed++);
    printf(failed ? "%d cases FAILED\n" : "all cases passed\n", failed);
    return failed != 0;
}
