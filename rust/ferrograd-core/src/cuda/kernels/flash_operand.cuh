// What both flash attention files (attention.cu, attention_mma.cu) read their operands through
// (prepended to each).

// Largest head dimension of queries and keys, and of values.
#define FA_MAX_D 128

// An operand: buffer, each slice's first element, row and column strides.
struct FaOperand {
    const float* data;
    const long long* starts;
    long long rs, cs;
};

__device__ __forceinline__ float fa_at(const FaOperand& o, int slice, long long row, long long col) {
    return o.data[o.starts[slice] + row * o.rs + col * o.cs];
}
