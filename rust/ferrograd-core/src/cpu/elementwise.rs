//! Elementwise kernels: unary maps and broadcasting binary maps over f32, and comparisons over
//! every dtype. Contiguous operands take a flat (parallel) path; broadcast operands walk the outer
//! axes and run the innermost axis as a tight strided loop.

use rayon::prelude::*;

use super::PAR_THRESHOLD;
use crate::storage::Element;
use crate::{CpuStorage, Layout};

/// Applies `f` to every element of `x` (viewed through `layout`), returning a contiguous vector.
pub fn map<T: Element, U: Element + Default>(
    x: &[T],
    layout: &Layout,
    f: impl Fn(T) -> U + Sync,
) -> Vec<U> {
    match layout.contiguous_range() {
        Some((a, b)) => {
            let src = &x[a..b];
            if src.len() >= PAR_THRESHOLD {
                src.par_iter().map(|&v| f(v)).collect()
            } else {
                src.iter().map(|&v| f(v)).collect()
            }
        }
        None => layout.offsets().map(|o| f(x[o])).collect(),
    }
}

/// Applies `f` pairwise; `la` and `lb` must already be broadcast to the same shape.
pub fn zip<A: Element, B: Element, U: Element + Default>(
    a: &[A],
    la: &Layout,
    b: &[B],
    lb: &Layout,
    f: impl Fn(A, B) -> U + Sync,
) -> Vec<U> {
    let n = la.numel();
    if let (Some((a0, a1)), Some((b0, b1))) = (la.contiguous_range(), lb.contiguous_range()) {
        let (a, b) = (&a[a0..a1], &b[b0..b1]);
        return if n >= PAR_THRESHOLD {
            a.par_iter()
                .zip(b.par_iter())
                .map(|(&x, &y)| f(x, y))
                .collect()
        } else {
            a.iter().zip(b.iter()).map(|(&x, &y)| f(x, y)).collect()
        };
    }
    let rank = la.rank();
    if rank == 0 {
        return vec![f(a[la.offset()], b[lb.offset()])];
    }
    let inner = la.shape()[rank - 1];
    let (sa, sb) = (la.strides()[rank - 1], lb.strides()[rank - 1]);
    let outer_shape = &la.shape()[..rank - 1];
    let oa = Layout::new(
        outer_shape.to_vec(),
        la.strides()[..rank - 1].to_vec(),
        la.offset(),
    );
    let ob = Layout::new(
        outer_shape.to_vec(),
        lb.strides()[..rank - 1].to_vec(),
        lb.offset(),
    );
    let starts: Vec<(usize, usize)> = oa.offsets().zip(ob.offsets()).collect();
    let mut out = vec![U::default(); n];
    let row = |(chunk, &(pa, pb)): (&mut [U], &(usize, usize))| {
        for (j, o) in chunk.iter_mut().enumerate() {
            *o = f(a[pa + j * sa], b[pb + j * sb]);
        }
    };
    if n >= PAR_THRESHOLD && inner > 0 {
        out.par_chunks_mut(inner)
            .zip(starts.par_iter())
            .for_each(row);
    } else if inner > 0 {
        out.chunks_mut(inner).zip(starts.iter()).for_each(row);
    }
    out
}

/// Compares two broadcast operands of the same dtype with `f` on their f64 values.
pub fn compare(
    a: &CpuStorage,
    la: &Layout,
    b: &CpuStorage,
    lb: &Layout,
    f: impl Fn(f64, f64) -> bool + Sync,
) -> Option<Vec<bool>> {
    macro_rules! arm {
        ($($v:ident),*) => {
            match (a, b) {
                $((CpuStorage::$v(x), CpuStorage::$v(y)) => Some(zip(x, la, y, lb, |p, q| f(p.to_f64(), q.to_f64()))),)*
                _ => None,
            }
        };
    }
    arm!(F32, I64, I32, U8, Bool)
}
