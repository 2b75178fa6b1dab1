//! Reductions over the trailing block of a contiguous buffer: the op layer permutes the reduced
//! axes to the end, so each output element reduces one contiguous row of `inner` values.

use rayon::prelude::*;

use super::PAR_THRESHOLD;

/// Which reduction to run on each row.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RowReduce {
    Sum,
    Max,
    Min,
    ArgMax,
    ArgMin,
}

/// Sums with eight independent lanes (so the loop vectorises) and an f64 total per 1024-block,
/// which keeps the error of long sums close to pairwise summation.
pub fn sum_f32(row: &[f32]) -> f32 {
    let mut total = 0f64;
    for block in row.chunks(1024) {
        let mut lanes = [0f32; 8];
        let mut it = block.chunks_exact(8);
        for c in &mut it {
            for i in 0..8 {
                lanes[i] += c[i];
            }
        }
        let tail: f32 = it.remainder().iter().sum();
        total += (lanes.iter().sum::<f32>() + tail) as f64;
    }
    total as f32
}

/// Index of the first maximum (`max` true) or minimum; NaN wins, as in PyTorch.
pub fn arg_extremum(row: &[f32], max: bool) -> usize {
    let mut best = 0;
    for (i, &v) in row.iter().enumerate().skip(1) {
        let b = row[best];
        if b.is_nan() {
            break;
        }
        if v.is_nan() || (max && v > b) || (!max && v < b) {
            best = i;
        }
    }
    best
}

fn reduce_row(row: &[f32], op: RowReduce) -> f32 {
    match op {
        RowReduce::Sum => sum_f32(row),
        RowReduce::Max => row[arg_extremum(row, true)],
        RowReduce::Min => row[arg_extremum(row, false)],
        RowReduce::ArgMax => arg_extremum(row, true) as f32,
        RowReduce::ArgMin => arg_extremum(row, false) as f32,
    }
}

/// Reduces each of the `data.len() / inner` rows (arg-reductions give f32-encoded indices; the
/// op layer converts them to int64).
pub fn reduce_rows(data: &[f32], inner: usize, op: RowReduce) -> Vec<f32> {
    if inner == 0 {
        return Vec::new();
    }
    if data.len() >= PAR_THRESHOLD {
        data.par_chunks(inner).map(|r| reduce_row(r, op)).collect()
    } else {
        data.chunks(inner).map(|r| reduce_row(r, op)).collect()
    }
}

/// Integer-exact arg-reduction for rows longer than f32 can index exactly.
pub fn arg_rows(data: &[f32], inner: usize, max: bool) -> Vec<i64> {
    if inner == 0 {
        return Vec::new();
    }
    data.par_chunks(inner)
        .map(|r| arg_extremum(r, max) as i64)
        .collect()
}

/// Row blocks a parallel column sum is cut into: a fixed count, so the order of additions (and so
/// the result, bit for bit) does not depend on the number of threads.
const COLUMN_SUM_BLOCKS: usize = 16;

/// Rows added into float32 partial sums at a time; each block's partials then go into float64
/// totals, so a column sum's error is that of a 64-term sum however many rows there are (adding
/// 200,000 rows one by one in float32 was 1e-4 off, where PyTorch's cascade sum is 2e-7 off).
const ROWS_PER_PARTIAL: usize = 64;

/// Float64 column totals of the contiguous rows in `rows`, each `inner` wide.
fn column_totals(rows: &[f32], inner: usize) -> Vec<f64> {
    let mut totals = vec![0f64; inner];
    let mut partial = vec![0f32; inner];
    for block in rows.chunks(ROWS_PER_PARTIAL * inner) {
        partial.fill(0.0);
        // Row by row into the partials: a loop the compiler vectorises along the row.
        for row in block.chunks_exact(inner) {
            for (a, &v) in partial.iter_mut().zip(row) {
                *a += v;
            }
        }
        for (t, &p) in totals.iter_mut().zip(&partial) {
            *t += p as f64;
        }
    }
    totals
}

/// Sums over the leading `outer` rows of a contiguous [outer, inner] buffer (column sums, as bias
/// gradients need), reading the rows in order instead of transposing the data first.
pub fn sum_leading(data: &[f32], outer: usize, inner: usize) -> Vec<f32> {
    if inner == 0 {
        return Vec::new();
    }
    let rows = &data[..outer * inner];
    let totals = if data.len() >= PAR_THRESHOLD && outer >= 2 * COLUMN_SUM_BLOCKS {
        // Totals over blocks of rows, then one final pass.
        let rows_per_block = outer.div_ceil(COLUMN_SUM_BLOCKS);
        let partials: Vec<Vec<f64>> = rows
            .par_chunks(rows_per_block * inner)
            .map(|block| column_totals(block, inner))
            .collect();
        let mut totals = vec![0f64; inner];
        for p in partials {
            for (t, v) in totals.iter_mut().zip(p) {
                *t += v;
            }
        }
        totals
    } else {
        column_totals(rows, inner)
    };
    totals.into_iter().map(|t| t as f32).collect()
}

/// Sums a contiguous buffer of `shape` over `axes` (sorted), reading it in memory order.
///
/// Adjacent axes that are all reduced or all kept merge into one block, so the view becomes
/// alternating [.., kept, reduced, kept, reduced] blocks. The innermost block is then removed
/// repeatedly: a reduced one by summing contiguous rows, a kept one by adding the rows of the
/// reduced block before it (`sum_leading` per outer slice). A bias gradient (axes 0, 2, 3 of
/// NCHW) is one pass of row sums over the planes and a small column sum over the batch.
pub fn sum_axes_contiguous(data: &[f32], shape: &[usize], axes: &[usize]) -> Vec<f32> {
    let out_len: usize = shape
        .iter()
        .enumerate()
        .filter(|(i, _)| !axes.contains(i))
        .map(|(_, &d)| d)
        .product();
    if data.is_empty() {
        return vec![0.0; out_len];
    }
    // (size, reduced) blocks, outermost first; size-1 axes change nothing.
    let mut blocks: Vec<(usize, bool)> = Vec::new();
    for (i, &size) in shape.iter().enumerate() {
        let reduced = axes.contains(&i);
        match blocks.last_mut() {
            _ if size == 1 => {}
            Some((s, r)) if *r == reduced => *s *= size,
            _ => blocks.push((size, reduced)),
        }
    }
    let mut current = std::borrow::Cow::Borrowed(data);
    while let Some(&(size, reduced)) = blocks.last() {
        if reduced {
            current = reduce_rows(&current, size, RowReduce::Sum).into();
            blocks.pop();
        } else if blocks.len() >= 2 {
            let rows = blocks[blocks.len() - 2].0;
            let slice = rows * size;
            let next: Vec<f32> = if current.len() / slice >= rayon::current_num_threads() {
                current
                    .par_chunks(slice)
                    .flat_map_iter(|s| sum_leading(s, rows, size))
                    .collect()
            } else {
                current
                    .chunks(slice)
                    .flat_map(|s| sum_leading(s, rows, size))
                    .collect()
            };
            current = next.into();
            blocks.remove(blocks.len() - 2);
            // The kept blocks on either side of the removed one are now neighbours: merge them.
            if blocks.len() >= 2 && !blocks[blocks.len() - 2].1 {
                let last = blocks.pop().map_or(1, |b| b.0);
                if let Some(b) = blocks.last_mut() {
                    b.0 *= last;
                }
            }
        } else {
            break;
        }
    }
    debug_assert_eq!(current.len(), out_len);
    current.into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reference: every element added to its output cell in f64.
    fn naive_sum(data: &[f32], shape: &[usize], axes: &[usize]) -> Vec<f32> {
        let kept: Vec<usize> = (0..shape.len()).filter(|i| !axes.contains(i)).collect();
        let out_len: usize = kept.iter().map(|&i| shape[i]).product();
        let mut out = vec![0f64; out_len];
        let mut index = vec![0usize; shape.len()];
        for &v in data {
            let at = kept.iter().fold(0, |acc, &i| acc * shape[i] + index[i]);
            out[at] += v as f64;
            for d in (0..shape.len()).rev() {
                index[d] += 1;
                if index[d] < shape[d] {
                    break;
                }
                index[d] = 0;
            }
        }
        out.into_iter().map(|v| v as f32).collect()
    }

    #[test]
    fn memory_order_sums_match_a_reference_for_every_axis_pattern() {
        let shape = [3, 4, 1, 5, 6];
        let n: usize = shape.iter().product();
        let data: Vec<f32> = (0..n)
            .map(|i| ((i * 37) % 101) as f32 / 7.0 - 5.0)
            .collect();
        for mask in 0u32..(1 << shape.len()) {
            let axes: Vec<usize> = (0..shape.len()).filter(|i| mask & (1 << i) != 0).collect();
            let got = sum_axes_contiguous(&data, &shape, &axes);
            let want = naive_sum(&data, &shape, &axes);
            assert_eq!(got.len(), want.len(), "axes {axes:?}");
            for (g, w) in got.iter().zip(&want) {
                assert!(
                    (g - w).abs() <= 1e-4 * w.abs().max(1.0),
                    "axes {axes:?}: {g} vs {w}"
                );
            }
        }
    }

    #[test]
    fn a_bias_gradient_sum_is_the_same_bits_on_every_run() {
        let shape = [64, 8, 30, 30];
        let n: usize = shape.iter().product();
        let data: Vec<f32> = (0..n).map(|i| ((i * 7919) % 1000) as f32 * 1e-3).collect();
        let first = sum_axes_contiguous(&data, &shape, &[0, 2, 3]);
        let want = naive_sum(&data, &shape, &[0, 2, 3]);
        for (g, w) in first.iter().zip(&want) {
            assert!((g - w).abs() <= 1e-5 * w.abs(), "{g} vs {w}");
        }
        assert_eq!(first, sum_axes_contiguous(&data, &shape, &[0, 2, 3]));
    }

    #[test]
    fn long_column_sums_keep_the_error_of_short_ones() {
        // 200,000 rows of 1/200,000: one-by-one float32 accumulation ends 9.4e-5 low.
        let (outer, inner) = (200_000, 3);
        let data = vec![1.0 / outer as f32; outer * inner];
        for total in sum_leading(&data, outer, inner) {
            assert!((total - 1.0).abs() < 2e-6, "{total}");
        }
    }

    #[test]
    fn empty_inputs_sum_to_zeros_of_the_kept_shape() {
        assert_eq!(sum_axes_contiguous(&[], &[0, 3], &[0]), vec![0.0; 3]);
        assert_eq!(sum_axes_contiguous(&[], &[3, 0], &[0]), Vec::<f32>::new());
    }
}
