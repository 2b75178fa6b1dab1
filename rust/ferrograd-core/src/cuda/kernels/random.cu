// Random numbers from the global Philox-4x32-10 stream (`rng.rs`): element i of a draw starting at
// 4-word block `block0` is word i % 4 of block block0 + i / 4, turned into [0, 1) from its top 24
// bits, exactly as on the CPU, so a seed gives the same dropout mask on both devices. Each thread
// computes one block and writes its four elements. `block_shift` (null outside CUDA graphs) points
// at a number of blocks added to block0: a replayed graph's kernels keep their captured block0,
// and the host writes each replay's distance from the captured draw there (`cuda/graph.rs`).
// Measured (H200, benches/gpu_kernels.py): dropout over 8192² at 1.60 TB/s, 1.63× PyTorch's time.

__device__ void fg_philox(unsigned int c[4], unsigned int k0, unsigned int k1) {
    for (int r = 0; r < 10; ++r) {
        unsigned long long p0 = 0xD2511F53ull * c[0];
        unsigned long long p1 = 0xCD9E8D57ull * c[2];
        unsigned int n0 = (unsigned int)(p1 >> 32) ^ c[1] ^ k0;
        unsigned int n1 = (unsigned int)p1;
        unsigned int n2 = (unsigned int)(p0 >> 32) ^ c[3] ^ k1;
        unsigned int n3 = (unsigned int)p0;
        c[0] = n0; c[1] = n1; c[2] = n2; c[3] = n3;
        k0 += 0x9E3779B9u;
        k1 += 0xBB67AE85u;
    }
}

__device__ __forceinline__ float fg_unit(unsigned int w) { return (float)(w >> 8) * (1.0f / 16777216.0f); }

// The four words of stream block `block` of `seed`.
__device__ __forceinline__ void fg_stream_block(unsigned int c[4], unsigned long long seed,
                                                unsigned long long block) {
    c[0] = (unsigned int)block;
    c[1] = (unsigned int)(block >> 32);
    c[2] = 0u;
    c[3] = 0u;
    fg_philox(c, (unsigned int)seed, (unsigned int)(seed >> 32));
}

// Uniform values low + (high - low) u (normal = 0), or Box-Muller normals mean + std z from the
// pairs (u0, u1) of the stream (normal = 1): r = sqrt(-2 ln(1 - u0)), theta = 2 pi u1, giving
// r cos theta then r sin theta, the CPU's order.
extern "C" __global__ void random_f32(float* out, long long n, unsigned long long seed,
                                      unsigned long long block0, const long long* block_shift,
                                      float a, float b, int normal) {
    if (block_shift) block0 += (unsigned long long)*block_shift;
    long long blocks = (n + 3) / 4;
    FG_FOR_EACH(blk, blocks) {
        unsigned int c[4];
        fg_stream_block(c, seed, block0 + (unsigned long long)blk);
        float v[4];
        if (normal) {
            for (int pair = 0; pair < 2; ++pair) {
                float r = sqrtf(-2.f * logf(1.f - fg_unit(c[2 * pair])));
                float theta = 6.28318530717958647692f * fg_unit(c[2 * pair + 1]);
                v[2 * pair] = a + b * (r * cosf(theta));
                v[2 * pair + 1] = a + b * (r * sinf(theta));
            }
        } else {
            for (int w = 0; w < 4; ++w) v[w] = a + (b - a) * fg_unit(c[w]);
        }
        for (int w = 0; w < 4; ++w)
            if (blk * 4 + w < n) out[blk * 4 + w] = v[w];
    }
}

// mask[i] = keep if u_i >= p else 0 (inverted dropout's multiplier).
extern "C" __global__ void dropout_mask_f32(float* mask, long long n, unsigned long long seed,
                                            unsigned long long block0, const long long* block_shift,
                                            float p, float keep) {
    if (block_shift) block0 += (unsigned long long)*block_shift;
    long long blocks = (n + 3) / 4;
    FG_FOR_EACH(b, blocks) {
        unsigned int c[4];
        fg_stream_block(c, seed, block0 + (unsigned long long)b);
        for (int w = 0; w < 4; ++w) {
            long long i = b * 4 + w;
            if (i < n) mask[i] = fg_unit(c[w]) >= p ? keep : 0.f;
        }
    }
}
