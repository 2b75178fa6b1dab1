// rust/ferrograd-core/src/cuda/kernels/elementwise.cu's pointwise functions on the host: for each
// request line "unary CODE P0 P1" or "binary CODE" read from argv[1], applies apply_unary /
// apply_binary to every float32 of argv[2] (binary: to the pairs of argv[2] and argv[3]) and
// appends the results to argv[4]. tests/test_cuda_emulation.py sends every op code of
// cuda/elementwise.rs and compares with the CPU backend, so a code that names the wrong formula,
// or a formula that differs from the CPU's, shows without a GPU.
#include "emulate.h"

#include <fstream>
#include <iterator>
#include <sstream>
#include <string>

// What elementwise.cu takes from common.cuh (only the pointwise functions run here).
#define FG_NAN FG_NAN_EMULATED
#define __noinline__
struct StridedLayout {
    long long shape[8], strides[8], offset;
    int ndim, contiguous;
};
inline long long fg_offset(const StridedLayout& l, long long i) { return l.offset + i; }
inline void fg_load4(const float* x, const StridedLayout& l, long long base, long long n, float v[4]) {
    for (int k = 0; k < 4; ++k) v[k] = base + k < n ? x[fg_offset(l, base + k)] : 0.f;
}
inline void fg_store4(float* out, long long base, long long n, const float v[4]) {
    for (int k = 0; k < 4; ++k)
        if (base + k < n) out[base + k] = v[k];
}
#define FG_FOR_EACH(i, n) for (long long i = 0; i < (n); ++i)
#define FG_FOR_EACH4(base, n) for (long long base = 0; base < (n); base += 4)
#include "../../rust/ferrograd-core/src/cuda/kernels/half.cuh"
#include "../../rust/ferrograd-core/src/cuda/kernels/gamma_functions.cuh"
#include "../../rust/ferrograd-core/src/cuda/kernels/special_functions.cuh"
#include "../../rust/ferrograd-core/src/cuda/kernels/elementwise.cu"

static std::vector<float> read_floats(const char* path) {
    std::ifstream in(path, std::ios::binary);
    std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::vector<float> values(bytes.size() / sizeof(float));
    std::memcpy(values.data(), bytes.data(), values.size() * sizeof(float));
    return values;
}

int main(int argc, char** argv) {
    if (argc != 5) return 2;
    const std::vector<float> a = read_floats(argv[2]), b = read_floats(argv[3]);
    std::ifstream requests(argv[1]);
    std::ofstream out(argv[4], std::ios::binary);
    std::string line;
    while (std::getline(requests, line)) {
        std::istringstream words(line);
        std::string kind;
        int code = 0;
        float p0 = 0.f, p1 = 0.f;
        words >> kind >> code >> p0 >> p1;
        std::vector<float> results;
        for (size_t i = 0; i < a.size(); ++i)
            results.push_back(kind == "unary" ? apply_unary(code, a[i], p0, p1) : apply_binary(code, a[i], b[i]));
        out.write(reinterpret_cast<const char*>(results.data()), results.size() * sizeof(float));
    }
    return 0;
}
