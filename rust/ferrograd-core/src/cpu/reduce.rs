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

/// Sums over the leading `outer` rows of a contiguous [outer, inner] buffer (column sums, as bias
/// gradients need): rows are added into the output in order, a loop the compiler vectorises,
/// instead of transposing the data first.
pub fn sum_leading(data: &[f32], outer: usize, inner: usize) -> Vec<f32> {
    let mut out = vec![0f32; inner];
    if inner == 0 {
        return out;
    }
    let add_rows = |acc: &mut [f32], rows: &[f32]| {
        for row in rows.chunks_exact(inner) {
            for (a, &v) in acc.iter_mut().zip(row) {
                *a += v;
            }
        }
    };
    if data.len() >= PAR_THRESHOLD && outer >= 8 {
        // Per-thread partial sums over blocks of rows, then one final pass.
        let rows_per_block = outer.div_ceil(rayon::current_num_threads() * 2).max(1);
        let partials: Vec<Vec<f32>> = data
            .par_chunks(rows_per_block * inner)
            .map(|block| {
                let mut acc = vec![0f32; inner];
                add_rows(&mut acc, block);
                acc
            })
            .collect();
        for p in partials {
            for (a, v) in out.iter_mut().zip(p) {
                *a += v;
            }
        }
    } else {
        add_rows(&mut out, &data[..outer * inner]);
    }
    out
}
