//! The one seeded random source. Philox-4x32-10 is counter-based: element `i` of a draw depends
//! only on (seed, offset + i), so CPU and GPU kernels produce the same numbers, draws can be split
//! across threads without changing them, and saving the offset is enough to resume a stream.

use std::sync::Mutex;

use crate::{Result, Tensor};

const PHILOX_M0: u32 = 0xD251_1F53;
const PHILOX_M1: u32 = 0xCD9E_8D57;
const PHILOX_W0: u32 = 0x9E37_79B9;
const PHILOX_W1: u32 = 0xBB67_AE85;

/// Ten Philox rounds of `counter` under `key`.
pub fn philox4x32(counter: [u32; 4], key: [u32; 2]) -> [u32; 4] {
    let (mut c, mut k) = (counter, key);
    for _ in 0..10 {
        let p0 = (PHILOX_M0 as u64) * (c[0] as u64);
        let p1 = (PHILOX_M1 as u64) * (c[2] as u64);
        c = [
            ((p1 >> 32) as u32) ^ c[1] ^ k[0],
            p1 as u32,
            ((p0 >> 32) as u32) ^ c[3] ^ k[1],
            p0 as u32,
        ];
        k = [k[0].wrapping_add(PHILOX_W0), k[1].wrapping_add(PHILOX_W1)];
    }
    c
}

/// A seed and a position in its stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RngState {
    pub seed: u64,
    pub offset: u64,
}

impl RngState {
    /// Four uniform u32 words for block `block` of this stream.
    fn block(&self, block: u64) -> [u32; 4] {
        philox4x32(
            [block as u32, (block >> 32) as u32, 0, 0],
            [self.seed as u32, (self.seed >> 32) as u32],
        )
    }

    /// Claims the next `n` values of the stream (rounded up to whole 4-word blocks) for a kernel
    /// that generates them itself; returns their starting offset (a multiple of 4).
    pub fn reserve(&mut self, n: usize) -> u64 {
        let start = self.offset;
        self.offset += n.div_ceil(4) as u64 * 4;
        start
    }

    /// The `n` uniform values in [0, 1) that start at the current offset; advances the offset.
    pub fn uniform(&mut self, n: usize) -> Vec<f32> {
        let start = self.reserve(n);
        let blocks = n.div_ceil(4);
        let mut out = Vec::with_capacity(blocks * 4);
        for b in 0..blocks as u64 {
            for w in self.block(start / 4 + b) {
                out.push(u32_to_unit(w));
            }
        }
        out.truncate(n);
        out
    }

    /// Values `position .. position + out.len()` of the draw that `reserve` returned `start`
    /// for: what `uniform` would have returned at those indices, so a kernel can make any part
    /// of its draw on any thread. Only the seed of `self` is used.
    pub fn uniform_at(&self, start: u64, position: u64, out: &mut [f32]) {
        let first = start + position;
        let mut words = self.block(first / 4);
        for (index, slot) in (first..).zip(out.iter_mut()) {
            if index % 4 == 0 {
                words = self.block(index / 4);
            }
            *slot = u32_to_unit(words[(index % 4) as usize]);
        }
    }

    /// `n` standard normal values (Box-Muller on pairs of uniforms).
    pub fn normal(&mut self, n: usize) -> Vec<f32> {
        let u = self.uniform(n.div_ceil(2) * 2);
        let mut out = Vec::with_capacity(n + 1);
        for pair in u.chunks_exact(2) {
            // 1 - u keeps the logarithm's argument in (0, 1].
            let r = (-2.0 * (1.0 - pair[0]).ln()).sqrt();
            let theta = 2.0 * std::f32::consts::PI * pair[1];
            out.push(r * theta.cos());
            out.push(r * theta.sin());
        }
        out.truncate(n);
        out
    }

    /// A uniformly random permutation of 0..n (Fisher-Yates).
    pub fn permutation(&mut self, n: usize) -> Vec<usize> {
        let mut p: Vec<usize> = (0..n).collect();
        let u = self.uniform(n);
        for i in (1..n).rev() {
            let j = ((u[i] as f64) * (i + 1) as f64) as usize;
            p.swap(i, j.min(i));
        }
        p
    }
}

/// Maps a u32 to [0, 1) with 24 bits, so the result is exact in f32 and never 1.0.
fn u32_to_unit(w: u32) -> f32 {
    (w >> 8) as f32 * (1.0 / 16_777_216.0)
}

static GLOBAL: Mutex<RngState> = Mutex::new(RngState {
    seed: 0x5eed,
    offset: 0,
});

/// Seeds the global generator (initialisation, dropout, shuffling, attack starts).
pub fn manual_seed(seed: u64) {
    if let Ok(mut g) = GLOBAL.lock() {
        *g = RngState { seed, offset: 0 };
    }
}

/// The global generator's state, for checkpoints.
pub fn get_state() -> RngState {
    GLOBAL
        .lock()
        .map(|g| *g)
        .unwrap_or(RngState { seed: 0, offset: 0 })
}

/// Restores a state saved with [`get_state`].
pub fn set_state(state: RngState) {
    if let Ok(mut g) = GLOBAL.lock() {
        *g = state;
    }
}

/// Runs `f` on the global generator.
pub fn with_global<T>(f: impl FnOnce(&mut RngState) -> T) -> T {
    match GLOBAL.lock() {
        Ok(mut g) => f(&mut g),
        // A panic elsewhere poisoned the lock; the state itself is plain data and still valid.
        Err(poisoned) => f(&mut poisoned.into_inner()),
    }
}

/// The global generator's seed and the start of the next `n` values, claimed for a GPU kernel that
/// generates them itself (inside a CUDA graph capture the claim is noted, so that each replay
/// claims values of its own).
pub fn reserve_for_device(n: usize) -> Result<(u64, u64)> {
    let (seed, start, end) = with_global(|r| {
        let start = r.reserve(n);
        (r.seed, start, r.offset)
    });
    crate::cuda::graph::note_random_draw(seed, start, end - start)?;
    Ok((seed, start))
}

impl Tensor {
    /// Uniform values in [low, high) from the global generator.
    pub fn rand(shape: &[usize], low: f32, high: f32) -> Result<Tensor> {
        Self::rand_on(shape, low, high, crate::Device::Cpu)
    }

    /// `rand` on `device`: the same numbers on every device (a GPU draws them in a kernel).
    pub fn rand_on(shape: &[usize], low: f32, high: f32, device: crate::Device) -> Result<Tensor> {
        let n = crate::storage::checked_numel("rand", shape)?;
        if let crate::Device::Cuda(i) = device {
            let stream = reserve_for_device(n)?;
            let values = crate::cuda::random::random(i, n, stream, (low, high), false)?;
            return Ok(Tensor::from_storage(
                crate::Storage::Cuda(values),
                crate::Layout::contiguous(shape),
            ));
        }
        // The draw and the scaled copy are both held at once.
        crate::storage::ensure_host_allocatable::<f32>(n.saturating_mul(2))?;
        let v = with_global(|r| r.uniform(n))
            .into_iter()
            .map(|u| low + (high - low) * u)
            .collect();
        Tensor::from_vec(v, shape)
    }

    /// Normal values with `mean` and `std` from the global generator.
    pub fn randn(shape: &[usize], mean: f32, std: f32) -> Result<Tensor> {
        Self::randn_on(shape, mean, std, crate::Device::Cpu)
    }

    /// `randn` on `device`: the same numbers on every device, to the device's rounding of the
    /// logarithm, cosine and sine.
    pub fn randn_on(shape: &[usize], mean: f32, std: f32, device: crate::Device) -> Result<Tensor> {
        let n = crate::storage::checked_numel("randn", shape)?;
        if let crate::Device::Cuda(i) = device {
            let stream = reserve_for_device(n.div_ceil(2) * 2)?;
            let values = crate::cuda::random::random(i, n, stream, (mean, std), true)?;
            return Ok(Tensor::from_storage(
                crate::Storage::Cuda(values),
                crate::Layout::contiguous(shape),
            ));
        }
        crate::storage::ensure_host_allocatable::<f32>(n.saturating_mul(3))?;
        let v = with_global(|r| r.normal(n))
            .into_iter()
            .map(|z| mean + std * z)
            .collect();
        Tensor::from_vec(v, shape)
    }
}

#[cfg(test)]
mod tests {

    /// Any window of a draw, made on its own, equals the same part of the whole draw.
    #[test]
    fn uniform_at_reproduces_any_window_of_a_draw() {
        let mut r = RngState {
            seed: 77,
            offset: 8,
        };
        let start = r.offset;
        let whole = r.uniform(23);
        for (position, len) in [(0, 23), (1, 5), (3, 9), (13, 10)] {
            let mut part = vec![0.0; len];
            r.uniform_at(start, position as u64, &mut part);
            assert_eq!(part, whole[position..position + len]);
        }
    }

    use super::*;

    #[test]
    fn philox_known_answer() {
        // Random123's published known-answer vector for philox4x32-10 with zero counter and key.
        assert_eq!(
            philox4x32([0, 0, 0, 0], [0, 0]),
            [0x6627_e8d5, 0xe169_c58d, 0xbc57_ac4c, 0x9b00_dbd8]
        );
    }

    #[test]
    fn streams_are_reproducible_and_splittable() {
        let mut a = RngState { seed: 7, offset: 0 };
        let whole = a.uniform(16);
        let mut b = RngState { seed: 7, offset: 0 };
        let mut parts = b.uniform(8);
        parts.extend(b.uniform(8));
        assert_eq!(whole, parts);
        assert!(whole.iter().all(|&u| (0.0..1.0).contains(&u)));
        let z = RngState { seed: 1, offset: 0 }.normal(20000);
        let mean: f32 = z.iter().sum::<f32>() / z.len() as f32;
        let var: f32 = z.iter().map(|v| (v - mean) * (v - mean)).sum::<f32>() / z.len() as f32;
        assert!(
            mean.abs() < 0.03 && (var - 1.0).abs() < 0.05,
            "mean {mean} var {var}"
        );
    }
}
