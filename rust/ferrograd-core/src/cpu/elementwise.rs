//! Elementwise kernels: unary maps and broadcasting binary maps over f32, and comparisons over
//! every dtype. Contiguous operands take a flat (parallel) path; broadcast operands walk the outer
//! axes and run the innermost axis as a tight strided loop.

use super::fresh::{par_collect_chunks, zeros};
use super::strided::for_each_row;
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
            if src.len() < PAR_THRESHOLD {
                return src.iter().map(|&v| f(v)).collect();
            }
            // Slice loops per chunk (not a parallel `collect`, which calls `f` once per pushed
            // element): with `f` inlined they vectorise.
            par_collect_chunks(src.len(), |r| src[r].iter().map(|&v| f(v)))
        }
        None => {
            let mut out = zeros(layout.numel());
            for_each_row(&mut out, [layout], |row, [start], [stride]| {
                for (j, o) in row.iter_mut().enumerate() {
                    *o = f(x[start + j * stride]);
                }
            });
            out
        }
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
        if n < PAR_THRESHOLD {
            return a.iter().zip(b.iter()).map(|(&x, &y)| f(x, y)).collect();
        }
        return par_collect_chunks(n, |r| {
            a[r.clone()].iter().zip(&b[r]).map(|(&x, &y)| f(x, y))
        });
    }
    let mut out = zeros(n);
    // Rows of the jointly coalesced views; the usual broadcasts (a bias row, a per-row scalar)
    // become unit-stride or stride-0 rows, which get loops over slices the compiler vectorises.
    for_each_row(&mut out, [la, lb], |row, [pa, pb], [sa, sb]| {
        let len = row.len();
        match (sa, sb) {
            (1, 1) => {
                let (x, y) = (&a[pa..pa + len], &b[pb..pb + len]);
                for ((o, &x), &y) in row.iter_mut().zip(x).zip(y) {
                    *o = f(x, y);
                }
            }
            (1, 0) => {
                let y = b[pb];
                for (o, &x) in row.iter_mut().zip(&a[pa..pa + len]) {
                    *o = f(x, y);
                }
            }
            (0, 1) => {
                let x = a[pa];
                for (o, &y) in row.iter_mut().zip(&b[pb..pb + len]) {
                    *o = f(x, y);
                }
            }
            _ => {
                for (j, o) in row.iter_mut().enumerate() {
                    *o = f(a[pa + j * sa], b[pb + j * sb]);
                }
            }
        }
    });
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
