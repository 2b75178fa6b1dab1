// Runs CUDA kernels on the host, for checking their logic on machines without a GPU: each CUDA
// thread is a std::thread, a grid's blocks run one after another, a kernel's __shared__ arrays
// are function statics (shared by the block's threads), and __syncthreads() is a barrier. It
// covers the subset the emulated kernel files use; real threads mean a missing barrier can show
// up as a wrong value (the barrier staggers the threads to make that likelier), but a passing run
// is no proof that there is no race.
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

#define FG_INF __int_as_float(0x7f800000)

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
                std::vector<std::thread> threads;
                for (unsigned t = 0; t < block.x; ++t)
                    threads.emplace_back([=] {
                        threadIdx.x = t;
                        blockIdx.x = bx;
                        blockIdx.y = by;
                        blockIdx.z = bz;
                        kernel(args...);
                    });
                for (auto& t : threads) t.join();
            }
}
