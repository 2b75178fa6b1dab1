//! Batched f32 matrix multiply on the `gemm` crate. Operands are passed by strides, so transposed
//! and broadcast (stride-0 batch) views multiply without being copied first.

use gemm::{gemm, Parallelism};
use rayon::prelude::*;

use crate::Layout;

/// Products below this many multiply-adds run on one thread: splitting them costs more than it saves.
const PARALLEL_FLOPS: usize = 1 << 18;

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
    let one_product = |dst: &mut [f32], i: usize, par: Parallelism| {
        // SAFETY: the layouts were validated against the buffers by the caller (every offset they
        // describe is in bounds), and `dst` holds exactly m * n elements.
        unsafe {
            gemm(
                m,
                n,
                k,
                dst.as_mut_ptr(),
                1,
                n as isize,
                accumulate,
                a.as_ptr().add(la.offset() + i * sa[0]),
                sa[2] as isize,
                sa[1] as isize,
                b.as_ptr().add(lb.offset() + i * sb[0]),
                sb[2] as isize,
                sb[1] as isize,
                1.0,
                1.0,
                false,
                false,
                false,
                par,
            )
        }
    };
    if batch > 1 && flops < PARALLEL_FLOPS * 4 {
        out.par_chunks_mut(m * n)
            .enumerate()
            .for_each(|(i, dst)| one_product(dst, i, Parallelism::None));
    } else {
        let par = if flops >= PARALLEL_FLOPS {
            Parallelism::Rayon(rayon::current_num_threads())
        } else {
            Parallelism::None
        };
        out.chunks_mut(m * n)
            .enumerate()
            .for_each(|(i, dst)| one_product(dst, i, par));
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
    let par = if parallel && m * n * k >= PARALLEL_FLOPS {
        Parallelism::Rayon(rayon::current_num_threads())
    } else {
        Parallelism::None
    };
    // SAFETY: the reach checks above bound every offset the strides address in all three buffers.
    unsafe {
        gemm(
            m,
            n,
            k,
            dst.as_mut_ptr(),
            1,
            n as isize,
            accumulate,
            a.as_ptr(),
            a_cs as isize,
            a_rs as isize,
            b.as_ptr(),
            b_cs as isize,
            b_rs as isize,
            1.0,
            1.0,
            false,
            false,
            false,
            par,
        )
    };
    Ok(())
}
