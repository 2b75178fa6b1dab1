//! Batched f32 matrix multiply on the `gemm` crate. Operands are passed by strides, so transposed
//! and broadcast (stride-0 batch) views multiply without being copied first.
//!
//! A product large enough for several threads is cut here into one block of output columns (or
//! rows) per thread, each multiplied single-threaded. Measured on two AVX-512 cores, the crate's
//! own threading made products with a small output side (128 x 128 outputs over k = 9216, as a
//! linear layer's forward and weight gradient) slower than one thread; blocks of at least
//! `MIN_BLOCK` outputs a side keep each thread's microkernel busy.

use gemm::{gemm, Parallelism};
use rayon::prelude::*;

use crate::Layout;

/// Products below this many multiply-adds (about 30 us on one core) run on one thread: handing
/// work to the pool and waiting for it costs tens of microseconds, more than splitting saves.
const PARALLEL_FLOPS: usize = 1 << 21;

/// Fewest output rows or columns a thread's block gets.
const MIN_BLOCK: usize = 32;

/// A product whose inner dimension is this many times its longer output side is split along k.
const SPLIT_K_RATIO: usize = 8;

/// A matrix operand: its first element and its row and column strides (in elements).
#[derive(Clone, Copy)]
struct Operand {
    ptr: *const f32,
    row_stride: isize,
    col_stride: isize,
}

/// The destination: a row-major [m, n] block with row stride `row_stride`.
#[derive(Clone, Copy)]
struct Target {
    ptr: *mut f32,
    row_stride: isize,
}

// SAFETY: the pointers are only dereferenced by `product`, whose blocks write disjoint parts of the
// destination and only read the operands.
unsafe impl Send for Operand {}
unsafe impl Sync for Operand {}
unsafe impl Send for Target {}
unsafe impl Sync for Target {}

/// `dst (+)= a @ b` for an [m, k] x [k, n] product, on up to `threads` threads.
///
/// # Safety
/// Every element the strides address must lie inside live buffers, and no other reference may
/// touch the destination block while this runs.
unsafe fn product(
    dst: Target,
    (m, n, k): (usize, usize, usize),
    a: Operand,
    b: Operand,
    accumulate: bool,
    threads: usize,
) {
    let single = |dst: Target, (m, n): (usize, usize), a: Operand, b: Operand| {
        // SAFETY: forwarded from the caller; each block stays inside the [m, n] destination.
        unsafe {
            gemm(
                m,
                n,
                k,
                dst.ptr,
                1,
                dst.row_stride,
                accumulate,
                a.ptr,
                a.col_stride,
                a.row_stride,
                b.ptr,
                b.col_stride,
                b.row_stride,
                1.0,
                1.0,
                false,
                false,
                false,
                Parallelism::None,
            )
        }
    };
    if m * n * k < PARALLEL_FLOPS || threads <= 1 {
        single(dst, (m, n), a, b);
        return;
    }
    let side = m.max(n);
    if k >= SPLIT_K_RATIO * side {
        split_k(dst, (m, n, k), a, b, accumulate, threads);
        return;
    }
    let blocks = threads.min(side / MIN_BLOCK).max(1);
    if blocks == 1 {
        single(dst, (m, n), a, b);
        return;
    }
    let step = side.div_ceil(blocks);
    (0..blocks).into_par_iter().for_each(|i| {
        // Whole-struct copies: a closure capturing only `dst.ptr` would not be Sync.
        let (dst, a, b) = (dst, a, b);
        let (lo, hi) = (i * step, ((i + 1) * step).min(side));
        if lo >= hi {
            return;
        }
        // SAFETY: `lo < side`, so the shifted pointers address the block's first element.
        unsafe {
            if n >= m {
                // A block of output columns: the same rows of `a`, columns lo..hi of `b`.
                let d = Target {
                    ptr: dst.ptr.add(lo),
                    ..dst
                };
                let cols = Operand {
                    ptr: b.ptr.offset(lo as isize * b.col_stride),
                    ..b
                };
                single(d, (m, hi - lo), a, cols);
            } else {
                let d = Target {
                    ptr: dst.ptr.offset(lo as isize * dst.row_stride),
                    ..dst
                };
                let rows = Operand {
                    ptr: a.ptr.offset(lo as isize * a.row_stride),
                    ..a
                };
                single(d, (hi - lo, n), rows, b);
            }
        }
    });
}

/// A long inner dimension (a linear layer's weight gradient, k = batch x positions, or a wide
/// input, k = 9216) over a small output: each thread multiplies one slice of k into its own
/// partial product, and the partials are added in slice order (so the sum depends on the thread
/// count, never on scheduling).
///
/// # Safety
/// As for `product`.
unsafe fn split_k(
    dst: Target,
    (m, n, k): (usize, usize, usize),
    a: Operand,
    b: Operand,
    accumulate: bool,
    threads: usize,
) {
    let step = k.div_ceil(threads);
    let partials: Vec<Vec<f32>> = (0..threads)
        .into_par_iter()
        .filter(|i| i * step < k)
        .map(|i| {
            let (a, b) = (a, b);
            let (lo, hi) = (i * step, ((i + 1) * step).min(k));
            let mut part = vec![0f32; m * n];
            // SAFETY: `lo < k`: the shifted operands address columns lo..hi of `a` and rows
            // lo..hi of `b`; `part` is a fresh [m, n] buffer.
            unsafe {
                gemm(
                    m,
                    n,
                    hi - lo,
                    part.as_mut_ptr(),
                    1,
                    n as isize,
                    false,
                    a.ptr.offset(lo as isize * a.col_stride),
                    a.col_stride,
                    a.row_stride,
                    b.ptr.offset(lo as isize * b.row_stride),
                    b.col_stride,
                    b.row_stride,
                    1.0,
                    1.0,
                    false,
                    false,
                    false,
                    Parallelism::None,
                )
            };
            part
        })
        .collect();
    for r in 0..m {
        // SAFETY: row r of the [m, n] destination block, which the caller owns exclusively.
        let row = unsafe {
            std::slice::from_raw_parts_mut(dst.ptr.offset(r as isize * dst.row_stride), n)
        };
        if !accumulate {
            row.fill(0.0);
        }
        for part in &partials {
            for (d, &p) in row.iter_mut().zip(&part[r * n..(r + 1) * n]) {
                *d += p;
            }
        }
    }
}

/// `out[b] = a[b] @ rhs[b]` (or `+=` with `accumulate`) for `la` = [B, m, k], `lb` = [B, k, n];
/// `out` is a contiguous [B, m, n] buffer.
pub fn batched_matmul(
    out: &mut [f32],
    a: &[f32],
    la: &Layout,
    b: &[f32],
    lb: &Layout,
    accumulate: bool,
) {
    let (batch, m, k) = (la.shape()[0], la.shape()[1], la.shape()[2]);
    let n = lb.shape()[2];
    if m * n == 0 {
        return;
    }
    let (sa, sb) = (la.strides(), lb.strides());
    let flops = m * n * k;
    let one_product = |dst: &mut [f32], i: usize, threads: usize| {
        // SAFETY: the layouts were validated against the buffers by the caller (every offset they
        // describe is in bounds), and `dst` holds exactly m * n elements.
        unsafe {
            product(
                Target {
                    ptr: dst.as_mut_ptr(),
                    row_stride: n as isize,
                },
                (m, n, k),
                Operand {
                    ptr: a.as_ptr().add(la.offset() + i * sa[0]),
                    row_stride: sa[1] as isize,
                    col_stride: sa[2] as isize,
                },
                Operand {
                    ptr: b.as_ptr().add(lb.offset() + i * sb[0]),
                    row_stride: sb[1] as isize,
                    col_stride: sb[2] as isize,
                },
                accumulate,
                threads,
            )
        }
    };
    if batch > 1 && flops < PARALLEL_FLOPS * 4 {
        out.par_chunks_mut(m * n)
            .enumerate()
            .for_each(|(i, dst)| one_product(dst, i, 1));
    } else {
        let threads = rayon::current_num_threads();
        out.chunks_mut(m * n)
            .enumerate()
            .for_each(|(i, dst)| one_product(dst, i, threads));
    }
}

/// One product into a contiguous [m, n] `dst`: `dst (+)= a @ b`, with `a` and `b` given by their
/// row and column strides (so transposes are free). Callers pass buffers that hold every element
/// the strides reach; that is checked here, so a wrong call is an error rather than a bad read.
#[allow(clippy::too_many_arguments)]
pub fn matmul_strided(
    dst: &mut [f32],
    (m, n, k): (usize, usize, usize),
    a: &[f32],
    (a_rs, a_cs): (usize, usize),
    b: &[f32],
    (b_rs, b_cs): (usize, usize),
    accumulate: bool,
    parallel: bool,
) -> crate::Result<()> {
    let reach = |rows: usize, cols: usize, rs: usize, cs: usize| {
        if rows * cols == 0 {
            0
        } else {
            (rows - 1) * rs + (cols - 1) * cs + 1
        }
    };
    if dst.len() < m * n || a.len() < reach(m, k, a_rs, a_cs) || b.len() < reach(k, n, b_rs, b_cs) {
        return Err(crate::Error::shape(
            "matmul",
            format!("buffers too small for a [{m}, {k}] x [{k}, {n}] product"),
        ));
    }
    if m * n == 0 {
        return Ok(());
    }
    let threads = if parallel {
        rayon::current_num_threads()
    } else {
        1
    };
    // SAFETY: the reach checks above bound every offset the strides address in all three buffers.
    unsafe {
        product(
            Target {
                ptr: dst.as_mut_ptr(),
                row_stride: n as isize,
            },
            (m, n, k),
            Operand {
                ptr: a.as_ptr(),
                row_stride: a_rs as isize,
                col_stride: a_cs as isize,
            },
            Operand {
                ptr: b.as_ptr(),
                row_stride: b_rs as isize,
                col_stride: b_cs as isize,
            },
            accumulate,
            threads,
        )
    };
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reference product in f64 of row-major `a` [m, k] and `b` [k, n].
    fn naive(a: &[f32], b: &[f32], (m, n, k): (usize, usize, usize)) -> Vec<f32> {
        let mut out = vec![0f32; m * n];
        for i in 0..m {
            for j in 0..n {
                let s: f64 = (0..k)
                    .map(|p| a[i * k + p] as f64 * b[p * n + j] as f64)
                    .sum();
                out[i * n + j] = s as f32;
            }
        }
        out
    }

    fn values(n: usize, seed: usize) -> Vec<f32> {
        (0..n)
            .map(|i| ((i * 7919 + seed * 104729) % 2003) as f32 / 1001.0 - 1.0)
            .collect()
    }

    /// Column blocks (wide outputs), row blocks (tall outputs) and split-k (a long inner
    /// dimension) all give the reference product, with and without accumulation.
    #[test]
    fn every_parallel_split_matches_the_reference() {
        for (m, n, k) in [(40, 700, 300), (900, 50, 100), (64, 48, 4000), (3, 5, 7)] {
            let (a, b) = (values(m * k, 1), values(k * n, 2));
            let want = naive(&a, &b, (m, n, k));
            let mut out = vec![0f32; m * n];
            matmul_strided(&mut out, (m, n, k), &a, (k, 1), &b, (n, 1), false, true).unwrap();
            for (o, w) in out.iter().zip(&want) {
                assert!(
                    (o - w).abs() <= 1e-3 * w.abs().max(1.0),
                    "{m}x{n}x{k}: {o} vs {w}"
                );
            }
            let mut acc = vec![1f32; m * n];
            matmul_strided(&mut acc, (m, n, k), &a, (k, 1), &b, (n, 1), true, true).unwrap();
            for (o, w) in acc.iter().zip(&want) {
                assert!(
                    (o - 1.0 - w).abs() <= 1e-3 * w.abs().max(1.0),
                    "{m}x{n}x{k} +="
                );
            }
        }
    }

    /// A transposed operand (unit row stride) is read in place by every split.
    #[test]
    fn transposed_operands_split_correctly() {
        let (m, n, k) = (128, 96, 3000);
        let (a, bt) = (values(m * k, 3), values(n * k, 4));
        let b: Vec<f32> = (0..k * n).map(|i| bt[(i % n) * k + i / n]).collect();
        let want = naive(&a, &b, (m, n, k));
        let mut out = vec![0f32; m * n];
        matmul_strided(&mut out, (m, n, k), &a, (k, 1), &bt, (1, k), false, true).unwrap();
        for (o, w) in out.iter().zip(&want) {
            assert!((o - w).abs() <= 1e-3 * w.abs().max(1.0), "{o} vs {w}");
        }
    }
}
