// rust/ferrograd-core/src/cuda/kernels/gamma_functions.cuh compiled for the host: reads float32
// values from argv[1] and writes, per value x, lgamma, digamma, polygamma of orders 1 to 4, erfinv
// and the gamma sample gradient at (alpha, z) = (|x|, x^2) (float32 each) to argv[2];
// tests/test_cuda_emulation.py checks them against the CPU backend.
#include "emulate.h"

#include <fstream>
#include <iterator>

#define FG_NAN FG_NAN_EMULATED
#define __noinline__
#include "../../rust/ferrograd-core/src/cuda/kernels/gamma_functions.cuh"

int main(int argc, char** argv) {
    if (argc != 3) return 2;
    std::ifstream in(argv[1], std::ios::binary);
    std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::vector<float> values(bytes.size() / sizeof(float));
    std::memcpy(values.data(), bytes.data(), values.size() * sizeof(float));
    std::vector<float> results;
    for (float x : values) {
        results.push_back(fg_lgamma(x));
        results.push_back(fg_digamma(x));
        for (int n = 1; n <= 4; ++n) results.push_back(fg_polygamma(n, x));
        results.push_back(fg_erfinv(x));
        results.push_back(fg_standard_gamma_grad(std::fabs(x), x * x));
    }
    std::ofstream(argv[2], std::ios::binary)
        .write(reinterpret_cast<const char*>(results.data()), results.size() * sizeof(float));
    return 0;
}
