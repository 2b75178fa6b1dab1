//! Walking a strided view row by row. A layout's axes are first coalesced (adjacent axes that step
//! as one merge, size-1 axes drop), so a permuted or broadcast view becomes a few long rows with
//! one stride each; the innermost loop then runs over a row with a fixed stride, which the compiler
//! vectorises for the common strides 1 (copy) and 0 (broadcast fill). A view whose innermost
//! stride is not 1 but whose next axis is contiguous (a transpose) is copied in square tiles, so
//! both the reads and the writes stay within a few cache lines.

use rayon::prelude::*;

use super::fresh::zeros;
use super::PAR_THRESHOLD;
use crate::Layout;

/// Axes of `layout` with size-1 axes removed and mergeable neighbours merged: `(sizes, strides)`,
/// at least one axis (a scalar view becomes one row of one element).
pub fn coalesce(layout: &Layout) -> (Vec<usize>, Vec<usize>) {
    let (sizes, [strides]) = coalesce_views([layout]);
    (sizes, strides)
}

/// Axes of `K` views of one shape, coalesced jointly: axes merge only where every view allows it.
/// Returns the sizes and each view's strides (at least one axis).
pub fn coalesce_views<const K: usize>(views: [&Layout; K]) -> (Vec<usize>, [Vec<usize>; K]) {
    let shape = views.first().map_or(&[][..], |v| v.shape());
    let mut sizes: Vec<usize> = Vec::new();
    let mut strides: [Vec<usize>; K] = std::array::from_fn(|_| Vec::new());
    for (axis, &size) in shape.iter().enumerate() {
        if size == 1 {
            continue;
        }
        let merges = !sizes.is_empty()
            && views
                .iter()
                .zip(&strides)
                .all(|(v, st)| st.last() == Some(&(v.strides()[axis] * size)));
        if merges {
            if let Some(last) = sizes.last_mut() {
                *last *= size;
            }
            for (v, st) in views.iter().zip(strides.iter_mut()) {
                if let Some(last) = st.last_mut() {
                    *last = v.strides()[axis];
                }
            }
        } else {
            sizes.push(size);
            for (v, st) in views.iter().zip(strides.iter_mut()) {
                st.push(v.strides()[axis]);
            }
        }
    }
    if sizes.is_empty() {
        sizes.push(1);
        strides.iter_mut().for_each(|st| st.push(0));
    }
    (sizes, strides)
}

/// Storage offset of the first element of row `row` (row-major over the outer axes).
fn row_start(offset: usize, outer: &[usize], outer_strides: &[usize], mut row: usize) -> usize {
    let mut at = offset;
    for (&size, &stride) in outer.iter().zip(outer_strides).rev() {
        at += (row % size) * stride;
        row /= size;
    }
    at
}

/// Fills `out` (contiguous, one element per element of the views) row by row: `fill(row, starts,
/// strides)` writes one row whose elements sit, in view `i`, at `starts[i] + j * strides[i]`.
/// The views share one shape and are coalesced jointly; rows are split across threads when the
/// output is large.
pub fn for_each_row<U: Send, const K: usize>(
    out: &mut [U],
    views: [&Layout; K],
    fill: impl Fn(&mut [U], [usize; K], [usize; K]) + Sync,
) {
    let (sizes, strides) = coalesce_views(views);
    let rank = sizes.len();
    let inner = sizes[rank - 1];
    let inner_strides: [usize; K] = std::array::from_fn(|i| strides[i][rank - 1]);
    let outer = &sizes[..rank - 1];
    if inner == 0 || out.is_empty() {
        return;
    }
    let rows_per_task = (PAR_THRESHOLD / 4).div_ceil(inner).max(1);
    let task = |(t, chunk): (usize, &mut [U])| {
        for (r, row) in chunk.chunks_mut(inner).enumerate() {
            let index = t * rows_per_task + r;
            let starts: [usize; K] = std::array::from_fn(|i| {
                row_start(views[i].offset(), outer, &strides[i][..rank - 1], index)
            });
            fill(row, starts, inner_strides);
        }
    };
    if out.len() >= PAR_THRESHOLD {
        out.par_chunks_mut(rows_per_task * inner)
            .enumerate()
            .for_each(task);
    } else {
        task((0, out));
    }
}

/// Side of the square tiles a transposing copy moves at a time.
const TILE: usize = 32;

/// The elements of `layout` as a new row-major vector.
pub fn gather<T: Copy + Send + Sync + Default>(src: &[T], layout: &Layout) -> Vec<T> {
    if let Some((a, b)) = layout.contiguous_range() {
        return src[a..b].to_vec();
    }
    let mut out = zeros(layout.numel());
    if out.is_empty() {
        return out;
    }
    let (sizes, strides) = coalesce(layout);
    let rank = sizes.len();
    if rank >= 2 && strides[rank - 1] != 1 && strides[rank - 2] == 1 {
        transpose_tiles(&mut out, src, layout.offset(), &sizes, &strides);
        return out;
    }
    for_each_row(&mut out, [layout], |row, [start], [stride]| match stride {
        0 => row.fill(src[start]),
        1 => row.copy_from_slice(&src[start..start + row.len()]),
        _ => row
            .iter_mut()
            .zip(src[start..].iter().step_by(stride))
            .for_each(|(o, &v)| *o = v),
    });
    out
}

/// Copies a view whose last two coalesced axes are [rows, cols] with strides [1, s]: each
/// [rows, cols] plane is an (offset) transpose, moved in TILE x TILE blocks.
fn transpose_tiles<T: Copy + Send + Sync>(
    out: &mut [T],
    src: &[T],
    offset: usize,
    sizes: &[usize],
    strides: &[usize],
) {
    let rank = sizes.len();
    let (rows, cols, col_stride) = (sizes[rank - 2], sizes[rank - 1], strides[rank - 1]);
    let (outer, outer_strides) = (&sizes[..rank - 2], &strides[..rank - 2]);
    let plane = rows * cols;
    let one_plane = |(p, dst): (usize, &mut [T])| {
        let base = row_start(offset, outer, outer_strides, p);
        transpose_rows(dst, src, base, 0, (cols, col_stride));
    };
    if out.len() >= PAR_THRESHOLD && outer.iter().product::<usize>() > 1 {
        out.par_chunks_mut(plane).enumerate().for_each(one_plane);
    } else if out.len() >= PAR_THRESHOLD {
        // One large plane: split it by bands of TILE rows.
        out.par_chunks_mut(TILE * cols)
            .enumerate()
            .for_each(|(b, dst)| transpose_rows(dst, src, offset, b * TILE, (cols, col_stride)));
    } else {
        out.chunks_mut(plane).enumerate().for_each(one_plane);
    }
}

/// Fills the rows of `dst` ([rows, cols], row-major) with rows `first..first + rows` of a plane
/// stored column-major at `base` (element (r, c) at `base + r + c * col_stride`), in TILE x TILE
/// blocks: reads run down a source column, writes across `dst` rows.
fn transpose_rows<T: Copy>(
    dst: &mut [T],
    src: &[T],
    base: usize,
    first: usize,
    (cols, col_stride): (usize, usize),
) {
    let rows = dst.len() / cols.max(1);
    for r0 in (0..rows).step_by(TILE) {
        for c0 in (0..cols).step_by(TILE) {
            for c in c0..(c0 + TILE).min(cols) {
                let column = &src[base + first + c * col_stride..];
                for r in r0..(r0 + TILE).min(rows) {
                    dst[r * cols + c] = column[r];
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reference: one element at a time through the layout's offsets.
    fn naive(src: &[f32], layout: &Layout) -> Vec<f32> {
        layout.offsets().map(|o| src[o]).collect()
    }

    fn data(n: usize) -> Vec<f32> {
        (0..n).map(|i| i as f32).collect()
    }

    #[test]
    fn coalesce_merges_contiguous_and_drops_unit_axes() {
        let l = Layout::contiguous(&[2, 1, 3, 4]);
        assert_eq!(coalesce(&l), (vec![24], vec![1]));
        let t = Layout::contiguous(&[2, 3, 4]).permute(&[0, 2, 1]).unwrap();
        assert_eq!(coalesce(&t), (vec![2, 4, 3], vec![12, 1, 4]));
        let b = Layout::contiguous(&[3, 1])
            .broadcast_to(&[2, 3, 5])
            .unwrap();
        assert_eq!(coalesce(&b), (vec![2, 3, 5], vec![0, 1, 0]));
        assert_eq!(coalesce(&Layout::contiguous(&[])), (vec![1], vec![0]));
    }

    #[test]
    fn views_merge_only_where_all_of_them_allow_it() {
        let a = Layout::contiguous(&[4, 5, 6]);
        let row = Layout::contiguous(&[6]).broadcast_to(&[4, 5, 6]).unwrap();
        let (sizes, [sa, sb]) = coalesce_views([&a, &row]);
        assert_eq!(sizes, vec![20, 6]);
        assert_eq!((sa, sb), (vec![6, 1], vec![0, 1]));
        let column = Layout::contiguous(&[4, 5, 1])
            .broadcast_to(&[4, 5, 6])
            .unwrap();
        let (sizes, [_, sc]) = coalesce_views([&a, &column]);
        assert_eq!((sizes, sc), (vec![20, 6], vec![1, 0]));
    }

    #[test]
    fn gather_matches_the_offset_walk_for_views() {
        let src = data(2 * 3 * 40 * 50);
        let base = Layout::contiguous(&[2, 3, 40, 50]);
        let views = [
            base.permute(&[0, 1, 3, 2]).unwrap(),
            base.permute(&[3, 2, 1, 0]).unwrap(),
            base.permute(&[1, 0, 2, 3]).unwrap(),
            base.slice(3, 1, 20, 2).unwrap(),
            base.slice(2, 3, 30, 1)
                .unwrap()
                .permute(&[2, 3, 0, 1])
                .unwrap(),
            Layout::contiguous(&[40, 1])
                .broadcast_to(&[3, 40, 50])
                .unwrap(),
            Layout::contiguous(&[50])
                .broadcast_to(&[6, 40, 50])
                .unwrap(),
        ];
        for v in &views {
            assert_eq!(gather(&src, v), naive(&src, v), "{v:?}");
        }
    }

    #[test]
    fn a_large_transpose_is_split_into_bands() {
        let src = data(700 * 900);
        let t = Layout::contiguous(&[700, 900]).permute(&[1, 0]).unwrap();
        assert_eq!(gather(&src, &t), naive(&src, &t));
        let offset = Layout::new(vec![300, 400], vec![1, 700], 5);
        assert_eq!(gather(&src, &offset), naive(&src, &offset));
    }

    #[test]
    fn for_each_row_visits_rows_in_order_across_tasks() {
        let l = Layout::contiguous(&[3000, 7]).permute(&[1, 0]).unwrap();
        let mut out = vec![(0usize, 0usize); l.numel()];
        for_each_row(&mut out, [&l], |row, [start], [stride]| {
            for (j, o) in row.iter_mut().enumerate() {
                *o = (start + j * stride, 0);
            }
        });
        let expected: Vec<usize> = l.offsets().collect();
        assert_eq!(out.iter().map(|p| p.0).collect::<Vec<_>>(), expected);
    }
}
