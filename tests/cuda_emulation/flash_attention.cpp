// The flash attention kernels (rust/ferrograd-core/src/cuda/kernels/attention.cu, f32, and
// attention_mma.cu, bf16 and f16 tensor cores) run on the host (emulate.h) against a float64 reference:
// output, log-sum-exp and the three gradients, over operands read through strides (queries
// permuted out of [L, slices, d], keys stored transposed, values broadcast over the slices, a mask
// broadcast over query rows), causal or not, lengths off the tile sizes, head dims 8 to 128. The
// bf16 (f16) kernels get bf16-valued (f16-valued) q, k, v and output gradient, as inside an
// autocast scope or from bf16 (f16) tensors, and round the probabilities and score gradients to
// that format for their products. Prints each case's worst relative error; exits non-zero if one
// passes 1e-5 (f32), 1.5e-2 (bf16) or 2e-3 (f16).
#include "emulate.h"
#include "reference.h"

#include <cstdio>
#include <random>

#include "../../rust/ferrograd-core/src/cuda/kernels/half.cuh"
#include "../../rust/ferrograd-core/src/cuda/kernels/flash_operand.cuh"
#include "../../rust/ferrograd-core/src/cuda/kernels/attention.cu"
#include "../../rust/ferrograd-core/src/cuda/kernels/attention_mma.cu"

namespace {

// An operand on the host: its buffer, each slice's first element and its strides.
struct Operand {
    std::vector<float> data;
    std::vector<long long> starts;
    long long row_stride, col_stride;

    double at(int slice, int row, int col) const {
        return data[starts[slice] + row * row_stride + col * col_stride];
    }
    FaOperand kernel_view() const { return FaOperand{data.data(), starts.data(), row_stride, col_stride}; }
};

struct Case {
    int slices, lq, lk, d, dv;
    bool causal, masked;
};

enum class Format { F32, BF16, F16 };

// x rounded to the nearest value of `format` (ties to even).
float round_to(Format format, float x) {
    if (format == Format::BF16) return emulated_bf16(fg_bf16_bits(x));
    if (format == Format::F16) return emulated_f16(fg_f16_bits(x));
    return x;
}

// The tensor-core launches of cuda/attention.rs (`TENSOR_CORE_TILES`): head dims padded to D,
// (rows, columns) tiles per kernel, two threads a row.
struct TensorCoreTiles {
    int d, forward[2], dq[2], dkv[2];
};
constexpr TensorCoreTiles tensor_core_tiles[] = {
    {32, {64, 64}, {64, 64}, {64, 64}}, {64, {64, 64}, {64, 64}, {64, 32}}, {128, {64, 32}, {32, 32}, {32, 16}}};

bool run(const Case& c, unsigned seed, Format format) {
    const int S = c.slices, lq = c.lq, lk = c.lk, d = c.d, dv = c.dv;
    std::mt19937 gen(seed);
    std::normal_distribution<float> normal(0.f, 1.f);
    auto random = [&](size_t n) {
        std::vector<float> v(n);
        for (auto& x : v) x = round_to(format, normal(gen));
        return v;
    };
    Operand q{random(size_t(lq) * S * d), {}, (long long)S * d, 1};
    Operand k{random(size_t(S) * d * lk), {}, 1, lk};
    Operand v{random(size_t(lk) * dv), std::vector<long long>(S, 0), dv, 1};
    Operand mask{random(size_t(S) * lk), {}, 0, 1};
    for (int s = 0; s < S; ++s) {
        q.starts.push_back((long long)s * d);
        k.starts.push_back((long long)s * d * lk);
        mask.starts.push_back((long long)s * lk);
        // A hidden key per slice, never a row's only visible one.
        mask.data[s * lk + lk - 1 - s % lk] = -INFINITY;
    }
    std::vector<float> dout = random(size_t(S) * lq * dv);
    const float scale = 1.f / std::sqrt(float(d));

    std::vector<double> out(size_t(S) * lq * dv), lse(size_t(S) * lq), dq(size_t(S) * lq * d, 0),
        dk(size_t(S) * lk * d, 0), dval(size_t(S) * lk * dv, 0);
    for (int s = 0; s < S; ++s) {
        std::vector<double> p(size_t(lq) * lk);
        for (int i = 0; i < lq; ++i) {
            double m = -INFINITY;
            for (int j = 0; j < lk; ++j) {
                double x = 0;
                for (int e = 0; e < d; ++e) x += q.at(s, i, e) * k.at(s, j, e);
                x = x * scale + (c.masked ? mask.at(s, i, j) : 0);
                if (c.causal && j > i) x = -INFINITY;
                p[i * lk + j] = x;
                m = std::max(m, x);
            }
            double sum = 0;
            for (int j = 0; j < lk; ++j) sum += std::exp(p[i * lk + j] - m);
            lse[s * lq + i] = m + std::log(sum);
            for (int j = 0; j < lk; ++j) p[i * lk + j] = std::exp(p[i * lk + j] - m) / sum;
            for (int e = 0; e < dv; ++e) {
                double o = 0;
                for (int j = 0; j < lk; ++j) o += p[i * lk + j] * v.at(s, j, e);
                out[(size_t(s) * lq + i) * dv + e] = o;
            }
        }
        for (int i = 0; i < lq; ++i) {
            const float* g = &dout[(size_t(s) * lq + i) * dv];
            double delta = 0;
            for (int e = 0; e < dv; ++e) delta += g[e] * out[(size_t(s) * lq + i) * dv + e];
            for (int j = 0; j < lk; ++j) {
                double pij = p[i * lk + j], dp = 0;
                for (int e = 0; e < dv; ++e) dp += g[e] * v.at(s, j, e);
                double ds = pij * (dp - delta);
                for (int e = 0; e < dv; ++e) dval[(size_t(s) * lk + j) * dv + e] += pij * g[e];
                for (int e = 0; e < d; ++e) {
                    dq[(size_t(s) * lq + i) * d + e] += scale * ds * k.at(s, j, e);
                    dk[(size_t(s) * lk + j) * d + e] += scale * ds * q.at(s, i, e);
                }
            }
        }
    }

    std::vector<float> got_out(out.size(), NAN), got_lse(lse.size(), NAN), delta(lse.size());
    std::vector<float> got_dq(dq.size(), NAN), got_dk(dk.size(), NAN), got_dv(dval.size(), NAN);
    const int has_mask = c.masked, causal = c.causal;
    const FaOperand qv = q.kernel_view(), kv = k.kernel_view(), vv = v.kernel_view(), mv = mask.kernel_view();
    // delta = rowsum(dO * O) from the kernel's own output, as ops/attention_cuda.rs computes it.
    auto compute_delta = [&] {
        for (size_t r = 0; r < delta.size(); ++r) {
            double t = 0;
            for (int e = 0; e < dv; ++e) t += double(dout[r * dv + e]) * got_out[r * dv + e];
            delta[r] = float(t);
        }
    };
    const float *saved_lse = got_lse.data(), *saved_delta = delta.data(), *grad = dout.data();
    if (format != Format::F32) {
        const TensorCoreTiles* tiles = tensor_core_tiles;
        while (tiles->d < std::max(d, dv)) ++tiles;
        const FaProblem problem{qv, kv, vv, mv, has_mask, lq, lk, d, dv, causal, scale};
        auto launch = [&](const int* rows_cols, int length, auto kernel, auto... outputs) {
            emulate_launch(dim3{unsigned((length + rows_cols[0] - 1) / rows_cols[0]), unsigned(S)},
                           dim3{unsigned(rows_cols[0] * 2)}, kernel, outputs...);
        };
        float *o = got_out.data(), *l = got_lse.data(), *gq = got_dq.data(), *gk = got_dk.data(), *gv = got_dv.data();
#define FA_EMULATE(NAME, D)                                                                                  \
    launch(tiles->forward, lq, flash_attention_forward_##NAME##_d##D, o, l, problem);                        \
    compute_delta();                                                                                         \
    launch(tiles->dq, lq, flash_attention_backward_dq_##NAME##_d##D, gq, saved_lse, saved_delta, grad, problem); \
    launch(tiles->dkv, lk, flash_attention_backward_dkv_##NAME##_d##D, gk, gv, saved_lse, saved_delta, grad, problem)
#define FA_EMULATE_HEADS(NAME)  \
    if (tiles->d == 32) {       \
        FA_EMULATE(NAME, 32);   \
    } else if (tiles->d == 64) { \
        FA_EMULATE(NAME, 64);   \
    } else {                    \
        FA_EMULATE(NAME, 128);  \
    }
        if (format == Format::BF16) {
            FA_EMULATE_HEADS(bf16)
        } else {
            FA_EMULATE_HEADS(f16)
        }
#undef FA_EMULATE_HEADS
#undef FA_EMULATE
    } else {
        // 32-row forward tiles, 16-row backward tiles, 4 threads a row.
        emulate_launch(dim3{unsigned(lq + 31) / 32, unsigned(S)}, dim3{128}, flash_attention_forward_f32,
                       got_out.data(), got_lse.data(), qv, kv, vv, mv, has_mask, lq, lk, d, dv, scale, causal);
        compute_delta();
        emulate_launch(dim3{unsigned(lq + 15) / 16, unsigned(S)}, dim3{64}, flash_attention_backward_dq_f32,
                       got_dq.data(), saved_lse, saved_delta, grad, qv, kv, vv, mv, has_mask, lq, lk, d, dv, scale,
                       causal);
        emulate_launch(dim3{unsigned(lk + 15) / 16, unsigned(S)}, dim3{64}, flash_attention_backward_dkv_f32,
                       got_dk.data(), got_dv.data(), saved_lse, saved_delta, grad, qv, kv, vv, mv, has_mask, lq,
                       lk, d, dv, scale, causal);
    }

    const double errors[] = {worst_error(got_out, out), worst_error(got_lse, lse), worst_error(got_dq, dq),
                             worst_error(got_dk, dk), worst_error(got_dv, dval)};
    const double tolerance = format == Format::BF16 ? 1.5e-2 : format == Format::F16 ? 2e-3 : 1e-5;
    bool ok = true;
    const char* name = format == Format::BF16 ? "bf16" : format == Format::F16 ? "f16 " : "f32 ";
    printf("%s slices %d lq %d lk %d d %d dv %d causal %d masked %d: errors", name, S, lq, lk,
           d, dv, c.causal, c.masked);
    for (double e : errors) {
        printf(" %.1e", e);
        ok = ok && e < tolerance;
    }
    printf(" (out lse dq dk dv) %s\n", ok ? "ok" : "FAILED");
    return ok;
}

}  // namespace

int main() {
    const Case cases[] = {
        {2, 37, 45, 16, 24, false, true}, {2, 45, 37, 32, 8, true, false}, {1, 70, 70, 64, 64, true, true},
        {3, 5, 3, 128, 128, false, false}, {1, 33, 65, 128, 40, true, false}, {1, 150, 131, 32, 20, true, true},
    };
    int failed = 0;
    unsigned seed = 1;
    for (const Case& c : cases) {
        for (Format format : {Format::F32, Format::BF16, Format::F16}) failed += !run(c, seed, format);
        ++seed;
    }
    printf(failed ? "%d cases FAILED\n" : "all cases passed\n", failed);
    return failed != 0;
}
