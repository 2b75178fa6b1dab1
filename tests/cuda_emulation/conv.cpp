// rust/ferrograd-core/src/cuda/kernels/conv.cu run on the host (emulate.h) against a float64
// reference: the forward pass (with and without bias, and with the ReLU epilogue), the input
// gradient and the weight gradient (its split partials summed in order, as the launcher does),
// over strides, padding, dilation, groups (depthwise included), and sizes off the 64 x 64 x 16
// tiles in every dimension; each case runs the f32 kernels on f32 operands and the bf16
// (tensor-core) kernels on operands rounded to bf16 values, with the images in NCHW, in
// channels-last (NHWC), and with the input and output sides in different layouts. Prints each
// case's worst relative error; exits non-zero if one passes 1e-5.
#include "emulate.h"
#include "reference.h"

#include <cstdio>
#include <random>
#include <tuple>

#include "../../rust/ferrograd-core/src/cuda/kernels/conv.cu"

namespace {

struct Case {
    int n, c, h, w, co, kh, kw, sh, sw, ph, pw, dh, dw, groups, splits;
};

int tiles(int size, int tile) { return (size + tile - 1) / tile; }

// The nearest bf16 value (ties to even), as the autocast scope rounds operands.
float to_bf16(float v) {
    unsigned u = __float_as_uint(v);
    u = (u + 0x7fff + ((u >> 16) & 1)) & 0xffff0000u;
    return __int_as_float(int(u));
}

// The image layouts of a run: the input side (x, dx) and the output side (y, dy).
struct Layouts {
    const char* name;
    bool in_channels_last, out_channels_last;
};

// Element strides of a dense [n, c, h, w] image in NCHW or channels-last order.
ImageStrides dense_strides(int n, int c, int h, int w, bool channels_last) {
    (void)n;
    return channels_last ? ImageStrides{h * w * c, 1, w * c, c} : ImageStrides{c * h * w, h * w, w, 1};
}

// `logical` (NCHW order) placed at the offsets `st` gives each element, and back.
std::vector<float> scatter(const std::vector<float>& logical, int n, int c, int h, int w, ImageStrides st) {
    std::vector<float> out(logical.size(), NAN);
    size_t i = 0;
    for (int a = 0; a < n; ++a)
        for (int b = 0; b < c; ++b)
            for (int y = 0; y < h; ++y)
                for (int x = 0; x < w; ++x) out[size_t(a) * st.n + size_t(b) * st.c + size_t(y) * st.h + size_t(x) * st.w] = logical[i++];
    return out;
}
std::vector<float> gather(const std::vector<float>& physical, int n, int c, int h, int w, ImageStrides st) {
    std::vector<float> out;
    out.reserve(physical.size());
    for (int a = 0; a < n; ++a)
        for (int b = 0; b < c; ++b)
            for (int y = 0; y < h; ++y)
                for (int x = 0; x < w; ++x) out.push_back(physical[size_t(a) * st.n + size_t(b) * st.c + size_t(y) * st.h + size_t(x) * st.w]);
    return out;
}

using ForwardKernel = void (*)(float*, const float*, const float*, const float*, int, int, ConvShape);
using GradKernel = void (*)(float*, const float*, const float*, ConvShape);

struct Kernels {
    const char* name;
    ForwardKernel forward;
    GradKernel input, weight;
    bool bf16;
};

bool run(const Case& c, unsigned seed, const Kernels& kernels, const Layouts& layouts) {
    ConvShape s{c.n, c.c, c.h, c.w, c.co, 0, 0, c.kh, c.kw, c.sh, c.sw, c.ph, c.pw, c.dh, c.dw, c.groups, c.splits, {}, {}};
    s.oh = (c.h + 2 * c.ph - c.dh * (c.kh - 1) - 1) / c.sh + 1;
    s.ow = (c.w + 2 * c.pw - c.dw * (c.kw - 1) - 1) / c.sw + 1;
    s.in = dense_strides(c.n, c.c, c.h, c.w, layouts.in_channels_last);
    s.out = dense_strides(c.n, c.co, s.oh, s.ow, layouts.out_channels_last);
    const int cig = c.c / c.groups, cog = c.co / c.groups, area = c.kh * c.kw;
    std::mt19937 gen(seed);
    std::normal_distribution<float> normal(0.f, 1.f);
    auto random = [&](size_t n) {
        std::vector<float> v(n);
        for (auto& x : v) x = kernels.bf16 ? to_bf16(normal(gen)) : normal(gen);
        return v;
    };
    const size_t xs = size_t(c.n) * c.c * c.h * c.w, ys = size_t(c.n) * c.co * s.oh * s.ow;
    const size_t ws = size_t(c.co) * cig * area;
    auto x = random(xs), w = random(ws), bias = random(c.co), dy = random(ys);

    // float64 reference: visit every (image, out channel, output position, tap) term once.
    std::vector<double> y_ref(ys), dx_ref(xs, 0.0), dw_ref(ws, 0.0);
    for (int img = 0; img < c.n; ++img)
        for (int o = 0; o < c.co; ++o) {
            const int g = o / cog;
            for (int oy = 0; oy < s.oh; ++oy)
                for (int ox = 0; ox < s.ow; ++ox) {
                    const size_t yi = ((size_t(img) * c.co + o) * s.oh + oy) * s.ow + ox;
                    double acc = bias[o];
                    for (int ci = 0; ci < cig; ++ci)
                        for (int ki = 0; ki < c.kh; ++ki)
                            for (int kj = 0; kj < c.kw; ++kj) {
                                const int iy = oy * c.sh - c.ph + ki * c.dh, ix = ox * c.sw - c.pw + kj * c.dw;
                                if (iy < 0 || iy >= c.h || ix < 0 || ix >= c.w) continue;
                                const size_t xi = ((size_t(img) * c.c + g * cig + ci) * c.h + iy) * c.w + ix;
                                const size_t wi = ((size_t(o) * cig + ci) * c.kh + ki) * c.kw + kj;
                                acc += double(x[xi]) * w[wi];
                                dx_ref[xi] += double(dy[yi]) * w[wi];
                                dw_ref[wi] += double(dy[yi]) * x[xi];
                            }
                    y_ref[yi] = acc;
                }
        }

    const dim3 block{CONV_THREADS, 1, 1};
    const auto x_laid = scatter(x, c.n, c.c, c.h, c.w, s.in), dy_laid = scatter(dy, c.n, c.co, s.oh, s.ow, s.out);
    std::vector<float> y(ys, NAN), y_plain(ys, NAN), y_relu(ys, NAN), dx(xs, NAN), partials(size_t(c.splits) * ws, NAN);
    const int plane = s.oh * s.ow;
    for (auto [out, has_bias, relu] : {std::tuple{&y, 1, 0}, {&y_plain, 0, 0}, {&y_relu, 1, 1}}) {
        emulate_launch(dim3{unsigned(tiles(c.n * plane, CONV_BN)), unsigned(tiles(cog, CONV_BM)), unsigned(c.groups)},
                       block, kernels.forward, out->data(), (const float*)x_laid.data(), (const float*)w.data(),
                       (const float*)bias.data(), has_bias, relu, s);
        *out = gather(*out, c.n, c.co, s.oh, s.ow, s.out);
    }
    emulate_launch(dim3{unsigned(tiles(c.n * c.h * c.w, CONV_BN)), unsigned(tiles(cig, CONV_BM)), unsigned(c.groups)},
                   block, kernels.input, dx.data(), (const float*)dy_laid.data(), (const float*)w.data(), s);
    dx = gather(dx, c.n, c.c, c.h, c.w, s.in);
    emulate_launch(dim3{unsigned(tiles(cig * area, CONV_BN)), unsigned(tiles(cog, CONV_BM)),
                        unsigned(c.groups * c.splits)},
                   block, kernels.weight, partials.data(), (const float*)dy_laid.data(),
                   (const float*)x_laid.data(), s);
    std::vector<float> dw(ws, 0.f);
    for (int p = 0; p < c.splits; ++p)
        for (size_t i = 0; i < ws; ++i) dw[i] += partials[p * ws + i];
    std::vector<double> plain_ref(ys), relu_ref(ys);
    for (size_t i = 0; i < ys; ++i) {
        plain_ref[i] = y_ref[i] - bias[(i / plane) % c.co];
        relu_ref[i] = std::max(y_ref[i], 0.0);
    }
    // The epilogue clamps the biased output exactly (bit for bit the same values below zero).
    bool relu_exact = true;
    for (size_t i = 0; i < ys; ++i) relu_exact = relu_exact && y_relu[i] == (y[i] < 0.f ? 0.f : y[i]);

    const double errors[] = {worst_error(y, y_ref), worst_error(y_plain, plain_ref), worst_error(y_relu, relu_ref),
                             worst_error(dx, dx_ref), worst_error(dw, dw_ref)};
    const double worst = relu_exact ? *std::max_element(std::begin(errors), std::end(errors)) : INFINITY;
    printf("%s %s n=%d c=%d %dx%d co=%d k=%dx%d s=%d,%d p=%d,%d d=%d,%d g=%d splits=%d: y %.1e, y without bias %.1e, "
           "relu(y) %.1e%s, dx %.1e, dw %.1e\n",
           kernels.name, layouts.name, c.n, c.c, c.h, c.w, c.co, c.kh, c.kw, c.sh, c.sw, c.ph, c.pw, c.dh, c.dw, c.groups, c.splits, errors[0],
           errors[1], errors[2], relu_exact ? "" : " (NOT the clamp of y)", errors[3], errors[4]);
    return worst < 1e-5;
}

}  // namespace

int main() {
    const Case cases[] = {
        // n  c   h   w  co kh kw sh sw ph pw dh dw  g splits
        {2, 3, 7, 6, 5, 3, 2, 2, 1, 1, 2, 1, 2, 1, 1},
        {3, 4, 9, 9, 6, 3, 3, 1, 1, 1, 1, 1, 1, 2, 3},
        {2, 4, 6, 5, 4, 3, 3, 1, 2, 1, 1, 1, 1, 4, 2},      // depthwise
        {2, 2, 12, 11, 70, 3, 3, 3, 3, 0, 0, 2, 2, 1, 1},   // two row tiles, strided and dilated
        {3, 80, 5, 5, 8, 1, 1, 1, 1, 0, 0, 1, 1, 1, 2},     // 1x1, five reduction steps
        {3, 6, 10, 10, 66, 3, 3, 1, 1, 1, 1, 1, 1, 3, 40},  // more splits than steps: some are empty
        {1, 17, 9, 7, 3, 5, 5, 2, 2, 2, 2, 1, 1, 1, 4},     // 5x5 taps, stride 2 skipping inputs
    };
    const Kernels kernels[] = {
        {"f32", conv2d_forward_f32, conv2d_backward_input_f32, conv2d_backward_weight_f32, false},
        {"bf16", conv2d_forward_bf16, conv2d_backward_input_bf16, conv2d_backward_weight_bf16, true},
    };
    const Layouts layouts[] = {
        {"nchw", false, false},
        {"nhwc", true, true},
        {"nhwc->nchw", true, false},
    };
    int failed = 0;
    unsigned seed = 1;
    for (const Layouts& l : layouts)
        for (const Kernels& k : kernels)
            for (const Case& c : cases) failed += !run(c, seed++, k, l);
    printf(failed ? "%d cases FAILED\n" : "all cases passed\n", failed);
    return failed != 0;
}
