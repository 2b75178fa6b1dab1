//! Output buffers cleared where they are filled.
//!
//! `vec![0.0; n]` clears the whole buffer on the calling thread before any kernel runs: for an
//! output of several megabytes that is one core's pass through memory, and the kernel then
//! brings the cleared lines back. Clearing each chunk on the worker thread right before the
//! kernel fills it spreads the pass over the threads and leaves the chunk in cache.

use std::mem::MaybeUninit;
use std::ops::Range;

use rayon::prelude::*;

use super::PAR_THRESHOLD;
use crate::Result;

/// `len` default values (zeros), written by all threads when the buffer is large. For outputs
/// that a kernel then overwrites in its own parallel loop (a product, a gather) without the
/// per-chunk structure `par_chunks_zeroed` needs.
pub fn zeros<T: Copy + Default + Send + Sync>(len: usize) -> Vec<T> {
    if len < PAR_THRESHOLD {
        return vec![T::default(); len];
    }
    let mut out: Vec<T> = Vec::with_capacity(len);
    out.spare_capacity_mut()[..len]
        .par_chunks_mut(PAR_THRESHOLD)
        .for_each(|piece| piece.fill(MaybeUninit::new(T::default())));
    // SAFETY: the loop above wrote all `len` elements.
    unsafe { out.set_len(len) };
    out
}

/// Elements per task of `par_collect_chunks`: 64 KiB of f32, cache-sized.
const FILL_CHUNK: usize = 1 << 14;

/// `len` values made in parallel, chunk by chunk: `produce(range)` yields the values of
/// positions `range`, written straight into the new buffer (no clearing pass first). A short
/// iterator leaves the rest of its chunk at the default value.
pub fn par_collect_chunks<T: Copy + Default + Send + Sync, I: Iterator<Item = T>>(
    len: usize,
    produce: impl Fn(Range<usize>) -> I + Sync + Send,
) -> Vec<T> {
    let mut out: Vec<T> = Vec::with_capacity(len);
    out.spare_capacity_mut()[..len]
        .par_chunks_mut(FILL_CHUNK)
        .enumerate()
        .for_each(|(i, piece)| {
            let start = i * FILL_CHUNK;
            write_chunk(piece, produce(start..start + piece.len()));
        });
    // SAFETY: every chunk was written in full above.
    unsafe { out.set_len(len) };
    out
}

/// Writes `values` into `piece`, then the default value into whatever is left. The loop is
/// compiled a second time for AVX2 + FMA, used when the CPU has them: the maps it runs (GELU,
/// exp) are straight-line arithmetic with selects, which the baseline SSE2 target runs four lanes
/// wide and with a branch per select.
fn write_chunk<T: Copy + Default, I: Iterator<Item = T>>(piece: &mut [MaybeUninit<T>], values: I) {
    #[inline(always)]
    fn body<T: Copy + Default, I: Iterator<Item = T>>(piece: &mut [MaybeUninit<T>], values: I) {
        let mut written = 0;
        for (slot, v) in piece.iter_mut().zip(values) {
            slot.write(v);
            written += 1;
        }
        for slot in &mut piece[written..] {
            slot.write(T::default());
        }
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,fma")]
    fn wide<T: Copy + Default, I: Iterator<Item = T>>(piece: &mut [MaybeUninit<T>], values: I) {
        body(piece, values)
    }

    #[cfg(target_arch = "x86_64")]
    if std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma") {
        // SAFETY: the running CPU supports the features `wide` is compiled for.
        return unsafe { wide(piece, values) };
    }
    body(piece, values)
}

/// A buffer of `len` floats made chunk by chunk in parallel: each `chunk`-long piece (the last
/// may be shorter) is zeroed, then handed to `fill(state, index, piece)`. `init` makes one
/// scratch state per rayon task, as in `try_for_each_init`.
pub fn par_chunks_zeroed<S>(
    len: usize,
    chunk: usize,
    init: impl Fn() -> S + Sync + Send,
    fill: impl Fn(&mut S, usize, &mut [f32]) -> Result<()> + Sync + Send,
) -> Result<Vec<f32>> {
    Ok(par_chunks_zeroed_with(len, chunk, init, fill)?.0)
}

/// `par_chunks_zeroed` whose `fill` also returns a value per chunk (partial sums, say),
/// collected in chunk order.
pub fn par_chunks_zeroed_with<S, R: Send>(
    len: usize,
    chunk: usize,
    init: impl Fn() -> S + Sync + Send,
    fill: impl Fn(&mut S, usize, &mut [f32]) -> Result<R> + Sync + Send,
) -> Result<(Vec<f32>, Vec<R>)> {
    let zero_then_fill =
        |state: &mut S, i: usize, piece: &mut [MaybeUninit<f32>]| fill(state, i, zeroed(piece));
    // SAFETY: `zero_then_fill` writes every element of its piece before anything else.
    unsafe { par_chunks_filled(len, chunk, init, zero_then_fill) }
}

/// `piece` cleared to zeros, as floats. A `memset`: a `fill` of `MaybeUninit` zeros compiled to a
/// loop of 16-byte stores where it was inlined into the convolution's backward pass.
pub fn zeroed(piece: &mut [MaybeUninit<f32>]) -> &mut [f32] {
    // SAFETY: the pointer and length are `piece`'s; all-zero bits are the float 0.0, so every
    // element is initialised afterwards, and `MaybeUninit<f32>` has the layout of `f32`.
    unsafe {
        std::ptr::write_bytes(piece.as_mut_ptr(), 0, piece.len());
        &mut *(piece as *mut [MaybeUninit<f32>] as *mut [f32])
    }
}

/// The parallel loop behind `par_chunks_zeroed`, for kernels that write every element of their
/// chunk themselves (a product that does not accumulate): each chunk is handed to `fill`
/// uninitialised, with no clearing pass. The values `fill` returns come back in chunk order.
///
/// # Safety
/// Whenever `fill` returns `Ok`, it must have written every element of its piece.
pub unsafe fn par_chunks_filled<S, R: Send>(
    len: usize,
    chunk: usize,
    init: impl Fn() -> S + Sync + Send,
    fill: impl Fn(&mut S, usize, &mut [MaybeUninit<f32>]) -> Result<R> + Sync + Send,
) -> Result<(Vec<f32>, Vec<R>)> {
    let mut out: Vec<f32> = Vec::with_capacity(len);
    let values = out.spare_capacity_mut()[..len]
        .par_chunks_mut(chunk.max(1))
        .enumerate()
        .map_init(init, |state, (i, piece)| fill(state, i, piece))
        .collect::<Result<Vec<R>>>()?;
    // SAFETY: every chunk's `fill` returned Ok, so (by the caller's contract) wrote all of it;
    // on an error we returned above with the length still 0.
    unsafe { out.set_len(len) };
    Ok((out, values))
}
