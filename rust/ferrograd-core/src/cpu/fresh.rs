//! Output buffers cleared where they are filled.
//!
//! `vec![0.0; n]` clears the whole buffer on the calling thread before any kernel runs: for an
//! output of several megabytes that is one core's pass through memory, and the kernel then
//! brings the cleared lines back. Clearing each chunk on the worker thread right before the
//! kernel fills it spreads the pass over the threads and leaves the chunk in cache.

use std::mem::MaybeUninit;

use rayon::prelude::*;

use crate::Result;

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
    let mut out: Vec<f32> = Vec::with_capacity(len);
    let values = out.spare_capacity_mut()[..len]
        .par_chunks_mut(chunk.max(1))
        .enumerate()
        .map_init(init, |state, (i, piece)| {
            piece.fill(MaybeUninit::new(0.0));
            // SAFETY: every element of `piece` was written just above, and `MaybeUninit<f32>`
            // has the layout of `f32`.
            let piece = unsafe { &mut *(piece as *mut [MaybeUninit<f32>] as *mut [f32]) };
            fill(state, i, piece)
        })
        .collect::<Result<Vec<R>>>()?;
    // SAFETY: the parallel loop covered all `len` elements and zeroed each chunk before use; on
    // an error we returned above with the length still 0.
    unsafe { out.set_len(len) };
    Ok((out, values))
}
