// The bf16 / f16 conversions of rust/ferrograd-core/src/cuda/kernels/half.cuh, compiled for the
// host: the software rounding the emulated kernels use (a GPU runs the hardware's cvt instead).
// Reads float32 values from argv[1]; writes, per value, its f16 bits then its bf16 bits (uint16
// each) to argv[2], and the float of each of the 65,536 f16 bit patterns to argv[3].
#include "emulate.h"

#include <cstdio>
#include <fstream>
#include <iterator>

#include "../../rust/ferrograd-core/src/cuda/kernels/half.cuh"

int main(int argc, char** argv) {
    if (argc != 4) return 2;
    std::ifstream in(argv[1], std::ios::binary);
    std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::vector<float> values(bytes.size() / sizeof(float));
    std::memcpy(values.data(), bytes.data(), values.size() * sizeof(float));
    std::vector<unsigned short> rounded;
    for (float x : values) {
        rounded.push_back(fg_f16_bits(x));
        rounded.push_back(fg_bf16_bits(x));
    }
    std::vector<float> widened;
    for (unsigned h = 0; h < 65536; ++h) widened.push_back(fg_f16_float((unsigned short)h));
    std::ofstream(argv[2], std::ios::binary)
        .write(reinterpret_cast<const char*>(rounded.data()), rounded.size() * sizeof(unsigned short));
    std::ofstream(argv[3], std::ios::binary)
        .write(reinterpret_cast<const char*>(widened.data()), widened.size() * sizeof(float));
    return 0;
}
