// Runs CUDA kernels on the host, for checking their logic on machines without a GPU: each CUDA
// thread is a std::thread, a grid's blocks run one after another, a kernel's __shared__ arrays
// are function statics (shared by the block's threads), __syncthreads() is a barrier, and
// mma.sync (bf16) and __shfl_xor_sync are computed per warp from the lanes' registers. It covers the subset the
// emulated kernel files use; real threads mean a missing barrier can show up as a wrong value
// (the barrier staggers the threads to make that likelier), but a passing run is no proof that
// there is no race.
#include <algorithm>
#include <barrier>
#include <chrono>
#include <cmath>
#include <cstring>
#include <thread>
#include <vector>

using std::max;
using std::min;

struct dim3 {
    unsigned x = 1, y = 1, z = 1;
};

thread_local dim3 threadIdx, blockIdx;
dim3 blockDim, gridDim;
std::barrier<>* emulated_block_barrier;

// What a warp's lanes hand to an emulated mma (their fragment registers) or shuffle.
struct EmulatedWarp {
    std::barrier<> barrier{32};
    unsigned a[32][4], b[32][2];
    float shuffled[32];
};
thread_local EmulatedWarp* emulated_warp;

#define __global__
#define __device__
#define __forceinline__ inline
#define __shared__ static

// Every third thread leaves each barrier late, so the others run ahead into the next phase: a
// missing barrier then lets them overwrite shared data that the late ones still read.
inline void __syncthreads() {
    emulated_block_barrier->arrive_and_wait();
    if (threadIdx.x % 3 == 0) std::this_thread::sleep_for(std::chrono::microseconds(20));
}

inline float __int_as_float(int i) {
    float f;
    std::memcpy(&f, &i, sizeof f);
    return f;
}

inline unsigned __float_as_uint(float f) {
    unsigned u;
    std::memcpy(&u, &f, sizeof u);
    return u;
}

inline float __uint_as_float(unsigned u) {
    float f;
    std::memcpy(&f, &u, sizeof f);
    return f;
}

#define FG_INF __int_as_float(0x7f800000)
#define FG_NAN_EMULATED __int_as_float(0x7fc00000)

// mma.m16n8k16 with 16-bit operands and f32 accumulation, for a whole warp: every lane posts its
// fragments, the warp waits for all 32, each lane rebuilds A (16 x 16) and B (16 x 8) from them
// following the PTX ISA's fragment layouts, decoding each 16-bit value with `decode`, and adds its
// four elements of A @ B to d.
inline void emulated_mma_16816(float d[4], const unsigned a[4], const unsigned b[2], float (*decode)(unsigned)) {
    EmulatedWarp& w = *emulated_warp;
    const unsigned lane = threadIdx.x % 32;
    std::copy(a, a + 4, w.a[lane]);
    std::copy(b, b + 2, w.b[lane]);
    w.barrier.arrive_and_wait();
    float A[16][16], B[16][8];
    for (int l = 0; l < 32; ++l) {
        const int g = l >> 2, t = l & 3;
        for (int i = 0; i < 8; ++i) {  // a_i: rows g (i = 0, 1, 4, 5) or g + 8, columns 2t + (i & 1) (+ 8 for i >= 4)
            const unsigned bits = w.a[l][i / 2] >> (16 * (i % 2)) & 0xffff;
            A[g + ((i & 2) ? 8 : 0)][2 * t + (i & 1) + (i >= 4 ? 8 : 0)] = decode(bits);
        }
        for (int i = 0; i < 4; ++i) {  // b_i: rows 2t + (i & 1) (+ 8 for i >= 2), column g
            const unsigned bits = w.b[l][i / 2] >> (16 * (i % 2)) & 0xffff;
            B[2 * t + (i & 1) + (i >= 2 ? 8 : 0)][g] = decode(bits);
        }
    }
    const int g = lane >> 2, t = lane & 3;
    for (int c = 0; c < 4; ++c) {  // c_i: row g (i < 2) or g + 8, column 2t + (i & 1)
        const int row = g + (c >= 2 ? 8 : 0), col = 2 * t + (c & 1);
        for (int k = 0; k < 16; ++k) d[c] += A[row][k] * B[k][col];
    }
    w.barrier.arrive_and_wait();
}

inline float emulated_bf16(unsigned bits) { return __int_as_float(int(bits << 16)); }

// f16 bits to float, written independently of half.cuh's conversion (which the tests check).
inline float emulated_f16(unsigned bits) {
    const float sign = bits & 0x8000 ? -1.f : 1.f;
    const int e = (bits >> 10) & 0x1f, m = bits & 0x3ff;
    if (e == 0) return sign * std::ldexp(float(m), -24);
    if (e == 31) return m ? FG_NAN_EMULATED : sign * FG_INF;
    return sign * std::ldexp(float(1024 + m), e - 25);
}

inline void fg_mma_bf16_16816(float d[4], const unsigned a[4], const unsigned b[2]) {
    emulated_mma_16816(d, a, b, emulated_bf16);
}

inline void fg_mma_f16_16816(float d[4], const unsigned a[4], const unsigned b[2]) {
    emulated_mma_16816(d, a, b, emulated_f16);
}

// Every lane of the warp takes the value of lane (its own ^ lane_mask).
inline float __shfl_xor_sync(unsigned, float v, int lane_mask) {
    EmulatedWarp& w = *emulated_warp;
    const unsigned lane = threadIdx.x % 32;
    w.shuffled[lane] = v;
    w.barrier.arrive_and_wait();
    const float got = w.shuffled[lane ^ lane_mask];
    w.barrier.arrive_and_wait();
    return got;
}

// kernel<<<grid, block>>>(args...), blocks in order.
template <class Kernel, class... Args>
void emulate_launch(dim3 grid, dim3 block, Kernel kernel, Args... args) {
    blockDim = block;
    gridDim = grid;
    for (unsigned bz = 0; bz < grid.z; ++bz)
        for (unsigned by = 0; by < grid.y; ++by)
            for (unsigned bx = 0; bx < grid.x; ++bx) {
                std::barrier<> barrier(block.x);
                emulated_block_barrier = &barrier;
                std::vector<EmulatedWarp> warps(block.x / 32);
                std::vector<std::thread> threads;
                for (unsigned t = 0; t < block.x; ++t)
                    threads.emplace_back([=, &warps] {
                        threadIdx.x = t;
                        emulated_warp = t / 32 < warps.size() ? &warps[t / 32] : nullptr;
                        blockIdx.x = bx;
                        blockIdx.y = by;
                        blockIdx.z = bz;
                        kernel(args...);
                    });
                for (auto& t : threads) t.join();
            }
}
