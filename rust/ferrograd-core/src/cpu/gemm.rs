//! Batched f32 matrix multiply on the `gemm` crate. Operands are passed by strides, so transposed
//! and broadcast (stride-0 batch) views multiply without being copied first.
//!
//! A product large enough for several threads is cut here into one block of output columns (or
//! rows) per thread, each multiplied single-threaded. Measured on two AVX-512 cores, the crate's
//! own threading made products with a small output side (128 x 128 outputs over k = 9216, as a
//! linear layer's forward and weight gradient) slower than one thread; blocks of at least
//! `MIN_BLOCK` outputs a side keep each thread's microkernel busy. Rows are preferred once each
//! thread gets `ROW_SPLIT` of them: a linear layer's weight gradient then lands, per thread, in
//! the stretch that thread's share of the optimizer step updates (on two cores this took the
//! MLP step's backward pass from 348-371 to 337-354 us, and its update from 112-125 to 107-118 us).

use std::mem::MaybeUninit;

use gemm::{gemm, Parallelism};
use rayon::prelude::*;

use super::{fresh, PAR_THRESHOLD};
use crate::Layout;

/// Products below this many multiply-adds (about 30 us on one core) run on one thread: handing
/// work to the pool and waiting for it costs tens of microseconds, more than splitting saves.
const PARALLEL_FLOPS: usize = 1 << 21;

/// Fewest output rows or columns a thread's block gets.
const MIN_BLOCK: usize = 32;

/// Rows per thread from which a product is split into row blocks even when it is wider than
/// tall.
const ROW_SPLIT: usize = 128;

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

impl Operand {
    fn new(ptr: *const f32, row_stride: usize, col_stride: usize) -> Self {
        Operand {
            ptr,
            row_stride: row_stride as isize,
            col_stride: col_stride as isize,
        }
    }
}

impl Target {
    /// A contiguous row-major [.., n] buffer.
    fn row_major(dst: &mut [f32], n: usize) -> Self {
        Target {
            ptr: dst.as_mut_ptr(),
            row_stride: n as isize,
        }
    }
}

// SAFETY: the pointers are only dereferenced by `Product`, whose blocks write disjoint parts of the
// destination and only read the operands.
unsafe impl Send for Operand {}
unsafe impl Sync for Operand {}
unsafe impl Send for Target {}
unsafe impl Sync for Target {}

/// One `dst (+)= a @ b` product of an [m, k] and a [k, n] operand.
#[derive(Clone, Copy)]
struct Product {
    dst: Target,
    dims: (usize, usize, usize),
    a: Operand,
    b: Operand,
    accumulate: bool,
}

// SAFETY (for every method): every element the strides address must lie inside live buffers,
// and no other reference may touch the destination block while the product runs.
impl Product {
    /// Multiplies on the calling thread.
    unsafe fn one_thread(self) {
        let (m, n, k) = self.dims;
        let (dst, a, b) = (self.dst, self.a, self.b);
        // SAFETY: forwarded from the caller.
        unsafe {
            gemm(
                m,
                n,
                k,
                dst.ptr,
                1,
                dst.row_stride,
                self.accumulate,
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
    }

    /// Multiplies on up to `threads` threads (see the module notes for the split).
    unsafe fn run(self, threads: usize) {
        let (m, n, k) = self.dims;
        let rows = self.splits_rows(threads);
        let side = if rows { m } else { n };
        let blocks = threads.min(side / MIN_BLOCK).max(1);
        let small = m * n * k < PARALLEL_FLOPS || threads <= 1;
        // SAFETY (both calls): forwarded from the caller.
        if !small && k >= SPLIT_K_RATIO * m.max(n) {
            unsafe { self.split_k(threads) }
        } else if small || blocks == 1 {
            unsafe { self.one_thread() }
        } else {
            let step = side.div_ceil(blocks);
            (0..blocks).into_par_iter().for_each(|i| {
                let (lo, hi) = (i * step, ((i + 1) * step).min(side));
                if lo < hi {
                    // SAFETY: the block lo..hi lies inside the product's output side.
                    unsafe { self.block(lo, hi, rows).one_thread() }
                }
            });
        }
    }

    /// Whether the threads' blocks are rows of the output rather than columns: when it is
    /// taller than wide, or when each thread still gets `ROW_SPLIT` rows. A block of rows is one
    /// contiguous stretch of the output; for a linear layer's weight gradient [out, in] it is
    /// the stretch the same thread's share of the optimizer step reads next (see
    /// `optim::kernels`), so it is still in that core's cache.
    fn splits_rows(&self, threads: usize) -> bool {
        let (m, n, _) = self.dims;
        m > n || m >= threads * ROW_SPLIT
    }

    /// Output columns lo..hi or rows lo..hi (`rows`) of this product.
    ///
    /// # Safety
    /// `lo < hi <= max(m, n)`.
    unsafe fn block(self, lo: usize, hi: usize, rows: bool) -> Product {
        let (m, n, k) = self.dims;
        let (dst, a, b) = (self.dst, self.a, self.b);
        // SAFETY: `lo` is inside the split side, so each shifted pointer addresses the block's
        // first element.
        unsafe {
            if !rows {
                Product {
                    dst: Target {
                        ptr: dst.ptr.add(lo),
                        ..dst
                    },
                    dims: (m, hi - lo, k),
                    b: Operand {
                        ptr: b.ptr.offset(lo as isize * b.col_stride),
                        ..b
                    },
                    ..self
                }
            } else {
                Product {
                    dst: Target {
                        ptr: dst.ptr.offset(lo as isize * dst.row_stride),
                        ..dst
                    },
                    dims: (hi - lo, n, k),
                    a: Operand {
                        ptr: a.ptr.offset(lo as isize * a.row_stride),
                        ..a
                    },
                    ..self
                }
            }
        }
    }

    /// A long inner dimension (a linear layer's weight gradient, k = batch x positions, or a
    /// wide input, k = 9216) over a small output: each thread multiplies one slice of k into its
    /// own partial product, and the partials are added in slice order (so the sum depends on the
    /// thread count, never on scheduling).
    unsafe fn split_k(self, threads: usize) {
        let (m, n, k) = self.dims;
        let step = k.div_ceil(threads);
        let partials: Vec<Vec<f32>> = (0..threads)
            .into_par_iter()
            .filter(|i| i * step < k)
            .map(|i| {
                let (lo, hi) = (i * step, ((i + 1) * step).min(k));
                let mut part = vec![0f32; m * n];
                let (a, b) = (self.a, self.b);
                // SAFETY: `lo < k`: the shifted operands address columns lo..hi of `a` and rows
                // lo..hi of `b`; `part` is a fresh [m, n] buffer.
                unsafe {
                    Product {
                        dst: Target::row_major(&mut part, n),
                        dims: (m, n, hi - lo),
                        a: Operand {
                            ptr: a.ptr.offset(lo as isize * a.col_stride),
                            ..a
                        },
                        b: Operand {
                            ptr: b.ptr.offset(lo as isize * b.row_stride),
                            ..b
                        },
                        accumulate: false,
                    }
                    .one_thread()
                };
                part
            })
            .collect();
        let dst = self.dst;
        for r in 0..m {
            for j in 0..n {
                // SAFETY: element (r, j) of the [m, n] destination block, which the caller owns
                // exclusively. Without `accumulate` it may be uninitialised: it is only written.
                unsafe {
                    let at = dst.ptr.offset(r as isize * dst.row_stride).add(j);
                    let mut sum = if self.accumulate { at.read() } else { 0.0 };
                    for part in &partials {
                        sum += part[r * n + j];
                    }
                    at.write(sum);
                }
            }
        }
    }
}

/// `a[b] @ rhs[b]` for `la` = [B, m, k], `lb` = [B, k, n], as a new contiguous [B, m, n] buffer.
/// With `start_row` (length n, a linear layer's bias) every output row starts from it and the
/// product is added on top, so the bias costs no pass of its own. Without it the products write
/// straight into uninitialised memory: no clearing pass first.
pub fn batched_matmul(
    a: &[f32],
    la: &Layout,
    b: &[f32],
    lb: &Layout,
    start_row: Option<&[f32]>,
) -> Vec<f32> {
    let (batch, m, k) = (la.shape()[0], la.shape()[1], la.shape()[2]);
    let n = lb.shape()[2];
    let len = batch * m * n;
    let mut out = match start_row {
        Some(row) => repeated_row(row, batch * m),
        None if k == 0 => return fresh::zeros(len),
        None => Vec::with_capacity(len),
    };
    if len > 0 {
        let (sa, sb) = (la.strides(), lb.strides());
        let dst = Target {
            ptr: out.as_mut_ptr(),
            row_stride: n as isize,
        };
        let one_product = |i: usize, threads: usize| {
            // SAFETY: the layouts were validated against the buffers by the caller (every offset
            // they describe is in bounds), and product i owns elements i*m*n .. (i+1)*m*n of
            // `out`, whose capacity is B*m*n. A product that does not accumulate never reads its
            // output, so uninitialised memory is only written.
            let whole = dst;
            unsafe {
                Product {
                    dst: Target {
                        ptr: whole.ptr.add(i * m * n),
                        ..whole
                    },
                    dims: (m, n, k),
                    a: Operand::new(a.as_ptr().add(la.offset() + i * sa[0]), sa[1], sa[2]),
                    b: Operand::new(b.as_ptr().add(lb.offset() + i * sb[0]), sb[1], sb[2]),
                    accumulate: start_row.is_some(),
                }
                .run(threads)
            }
        };
        if batch > 1 && m * n * k < PARALLEL_FLOPS * 4 {
            (0..batch).into_par_iter().for_each(|i| one_product(i, 1));
        } else {
            let threads = rayon::current_num_threads();
            (0..batch).for_each(|i| one_product(i, threads));
        }
    }
    // SAFETY: `repeated_row` wrote all B*m*n elements, and the products added onto them or (with
    // no start row) wrote every one of them.
    unsafe { out.set_len(len) };
    out
}

/// `rows` copies of `row` written in parallel into a new buffer whose length is still 0: the
/// caller sets it (all `rows * row.len()` elements are written).
fn repeated_row(row: &[f32], rows: usize) -> Vec<f32> {
    let n = row.len().max(1);
    let mut out: Vec<f32> = Vec::with_capacity(rows * row.len());
    out.spare_capacity_mut()[..rows * row.len()]
        .par_chunks_mut((PAR_THRESHOLD / n).max(1) * n)
        .for_each(|piece| {
            for dst in piece.chunks_mut(n) {
                for (d, &v) in dst.iter_mut().zip(row) {
                    d.write(v);
                }
            }
        });
    out
}

/// One product into a contiguous [m, n] `dst`: `dst (+)= a @ b`, with `a` and `b` given by their
/// row and column strides (so transposes are free). Callers pass buffers that hold every element
/// the strides reach; that is checked here, so a wrong call is an error rather than a bad read.
#[allow(clippy::too_many_arguments)]
pub fn matmul_strided(
    dst: &mut [f32],
    dims: (usize, usize, usize),
    a: &[f32],
    a_strides: (usize, usize),
    b: &[f32],
    b_strides: (usize, usize),
    accumulate: bool,
    parallel: bool,
) -> crate::Result<()> {
    let target = (dst.as_mut_ptr(), dst.len());
    // SAFETY: `target` is the live, initialised `dst`, borrowed exclusively for the call.
    unsafe {
        product_into(
            target, dims, a, a_strides, b, b_strides, accumulate, parallel,
        )
    }
}

/// `matmul_strided` without accumulation into a buffer that may be uninitialised: the product
/// writes every element of the [m, n] block and reads none, so an output the product fills
/// needs no clearing pass first. Errors leave `dst` unwritten. With `k == 0` the product is all
/// zeros, which are written here.
#[allow(clippy::too_many_arguments)]
pub fn matmul_strided_uninit(
    dst: &mut [MaybeUninit<f32>],
    dims: (usize, usize, usize),
    a: &[f32],
    a_strides: (usize, usize),
    b: &[f32],
    b_strides: (usize, usize),
    parallel: bool,
) -> crate::Result<()> {
    let (m, n, k) = dims;
    if k == 0 && dst.len() >= m * n {
        fresh::zeroed(&mut dst[..m * n]);
        return Ok(());
    }
    let target = (dst.as_mut_ptr().cast::<f32>(), dst.len());
    // SAFETY: `target` is the live `dst` (MaybeUninit<f32> has f32's layout), borrowed
    // exclusively; without accumulation the product only writes it.
    unsafe { product_into(target, dims, a, a_strides, b, b_strides, false, parallel) }
}

/// The product behind `matmul_strided` and `matmul_strided_uninit`, into `target` = (first
/// element, length).
///
/// # Safety
/// `target` must address `len` floats the caller owns exclusively for the call; they may be
/// uninitialised only when `accumulate` is false.
#[allow(clippy::too_many_arguments)]
unsafe fn product_into(
    (dst, dst_len): (*mut f32, usize),
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
    if dst_len < m * n || a.len() < reach(m, k, a_rs, a_cs) || b.len() < reach(k, n, b_rs, b_cs) {
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
    // SAFETY: the reach checks above bound every offset the strides address in all three
    // buffers, and the caller vouches for the destination.
    unsafe {
        Product {
            dst: Target {
                ptr: dst,
                row_stride: n as isize,
            },
            dims: (m, n, k),
            a: Operand::new(a.as_ptr(), a_rs, a_cs),
            b: Operand::new(b.as_ptr(), b_rs, b_cs),
            accumulate,
        }
        .run(threads)
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

    /// Column blocks (wide outputs), row blocks (tall outputs, and wide ones with `ROW_SPLIT`
    /// rows per thread) and split-k (a long inner dimension) all give the reference product,
    /// with and without accumulation, and without accumulation never read the destination.
    #[test]
    fn every_parallel_split_matches_the_reference() {
        let wide_rows = (ROW_SPLIT * rayon::current_num_threads() + 44, 700, 100);
        for (m, n, k) in [
            (40, 700, 300),
            (900, 50, 100),
            wide_rows,
            (64, 48, 4000),
            (3, 5, 7),
        ] {
            let (a, b) = (values(m * k, 1), values(k * n, 2));
            let want = naive(&a, &b, (m, n, k));
            // NaN in the destination: a product that does not accumulate must never read it
            // (fresh outputs are uninitialised memory).
            let mut out = vec![f32::NAN; m * n];
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

    /// The uninitialised-destination product equals the plain one, and with k = 0 writes zeros
    /// (a product over an empty inner dimension); a too-small destination is an error.
    #[test]
    fn uninitialised_destination_is_written_in_full() {
        for (m, n, k) in [(40, 700, 300), (3, 5, 0)] {
            let (a, b) = (values(m * k, 5), values(k * n, 6));
            let mut want = vec![f32::NAN; m * n];
            matmul_strided(&mut want, (m, n, k), &a, (k, 1), &b, (n, 1), false, true).unwrap();
            let mut out = vec![MaybeUninit::<f32>::uninit(); m * n];
            matmul_strided_uninit(&mut out, (m, n, k), &a, (k, 1), &b, (n, 1), true).unwrap();
            // SAFETY: the call above wrote every element.
            let out: Vec<f32> = out.iter().map(|v| unsafe { v.assume_init() }).collect();
            if k == 0 {
                assert!(out.iter().all(|&v| v == 0.0));
            } else {
                assert_eq!(out, want);
            }
        }
        let mut short = vec![MaybeUninit::<f32>::uninit(); 3];
        assert!(matmul_strided_uninit(
            &mut short,
            (2, 2, 1),
            &[1.0; 2],
            (1, 1),
            &[1.0; 2],
            (2, 1),
            false
        )
        .is_err());
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
