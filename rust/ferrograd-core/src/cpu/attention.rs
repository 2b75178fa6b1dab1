//! Scaled dot-product attention, `softmax(q k^T * scale + mask) @ v`, one (batch, head) slice per
//! task. A slice's scores ([Lq, Lk]: 64 KiB at 128 tokens) stay in the core's cache from the
//! product that makes them, through the mask, softmax and dropout, to the product with v; the
//! composed ops wrote and re-read the whole [B, H, Lq, Lk] tensor five times.
//!
//! Operands are read through their strides (heads split out of a [B, L, H*d] projection by a
//! permute need no copy). Training keeps the probabilities (and the dropout mask) for backward,
//! which runs per slice the same way.

use rayon::prelude::*;

use super::fresh::zeros;
use super::gemm::matmul_strided;
use super::softmax::softmax_in_place;
use crate::rng::RngState;
use crate::Result;

/// One operand: its buffer, where each slice's matrix starts, and its row and column strides.
#[derive(Clone, Copy)]
pub struct SliceView<'a> {
    pub data: &'a [f32],
    pub starts: &'a [usize],
    pub row_stride: usize,
    pub col_stride: usize,
}

impl<'a> SliceView<'a> {
    /// Slice `s`'s matrix from its first element on.
    fn at(&self, s: usize) -> &'a [f32] {
        &self.data[self.starts[s]..]
    }

    /// The same matrix read transposed.
    fn transposed(self) -> SliceView<'a> {
        SliceView {
            row_stride: self.col_stride,
            col_stride: self.row_stride,
            ..self
        }
    }

    fn strides(&self) -> (usize, usize) {
        (self.row_stride, self.col_stride)
    }
}

/// Sizes of the attention: `slices` (batch times heads) products of [Lq, d] queries with [Lk, d]
/// keys and [Lk, dv] values (for the CUDA flash kernels too).
#[derive(Clone, Copy, Debug)]
pub struct AttentionDims {
    pub slices: usize,
    pub lq: usize,
    pub lk: usize,
    pub d: usize,
    pub dv: usize,
    pub scale: f32,
    /// Query i attends to keys 0..=i only.
    pub causal: bool,
}

/// Dropout on the probabilities: element (s, i, j) is kept when value `(s * Lq + i) * Lk + j`
/// of the draw starting at `start` is at least `p` (the mask `dropout` would draw for the
/// probabilities tensor), and kept values are scaled by 1 / (1 - p).
#[derive(Clone, Copy, Debug)]
pub struct AttentionDropout {
    pub p: f32,
    pub rng: RngState,
    pub start: u64,
}

impl AttentionDropout {
    /// The multipliers (0 or 1 / (1 - p)) of the flattened [S, Lq, Lk] probabilities from
    /// position `first` on, as many as `out` holds.
    fn multipliers(&self, first: usize, out: &mut [f32]) {
        self.rng.uniform_at(self.start, first as u64, out);
        let keep = if self.p < 1.0 {
            1.0 / (1.0 - self.p)
        } else {
            0.0
        };
        for u in out.iter_mut() {
            *u = if *u >= self.p { keep } else { 0.0 };
        }
    }
}

/// What the forward pass keeps for backward: the probabilities and the dropout multipliers
/// ([S, Lq, Lk] each; the multipliers empty without dropout).
pub struct AttentionSaved {
    pub probs: Vec<f32>,
    pub multipliers: Vec<f32>,
}

/// The forward pass: the output [S, Lq, dv], and the saved probabilities when `keep` is set.
pub fn attention_forward(
    q: SliceView<'_>,
    k: SliceView<'_>,
    v: SliceView<'_>,
    mask: Option<SliceView<'_>>,
    dims: AttentionDims,
    dropout: Option<AttentionDropout>,
    keep: bool,
) -> Result<(Vec<f32>, Option<AttentionSaved>)> {
    let AttentionDims { lq, lk, d, dv, .. } = dims;
    let plane = lq * lk;
    let mut out = zeros(dims.slices * lq * dv);
    let (mut probs, mut multipliers) = if keep {
        let saved_mask = if dropout.is_some() { plane } else { 0 };
        (zeros(dims.slices * plane), zeros(dims.slices * saved_mask))
    } else {
        (Vec::new(), Vec::new())
    };
    // Per slice: scores into `p` (the saved probabilities, or scratch), mask and softmax in
    // place, dropout into `dropped` (scratch), then the product with v.
    let slice = |s: usize, o: &mut [f32], p: &mut [f32], m: &mut [f32], dropped: &mut [f32]| {
        matmul_strided(
            p,
            (lq, lk, d),
            q.at(s),
            q.strides(),
            k.at(s),
            k.transposed().strides(),
            false,
            false,
        )?;
        for (i, row) in p.chunks_exact_mut(lk).enumerate() {
            match mask {
                Some(mk) => {
                    let base = &mk.at(s)[i * mk.row_stride..];
                    for (j, x) in row.iter_mut().enumerate() {
                        *x = *x * dims.scale + base[j * mk.col_stride];
                    }
                }
                None => row.iter_mut().for_each(|x| *x *= dims.scale),
            }
            if dims.causal {
                // exp(-inf) = 0: the later keys get probability 0, so backward skips them too.
                row[(i + 1).min(lk)..].fill(f32::NEG_INFINITY);
            }
            softmax_in_place(row);
        }
        let weights: &[f32] = match dropout {
            Some(drop) => {
                drop.multipliers(s * plane, m);
                for ((w, &pv), &mv) in dropped.iter_mut().zip(p.iter()).zip(m.iter()) {
                    *w = pv * mv;
                }
                dropped
            }
            None => p,
        };
        matmul_strided(
            o,
            (lq, dv, lk),
            weights,
            (lk, 1),
            v.at(s),
            v.strides(),
            false,
            false,
        )
    };
    let scratch_len = |wanted: bool| if wanted { plane } else { 0 };
    let chunks = out.par_chunks_mut(lq * dv).enumerate();
    match (keep, dropout.is_some()) {
        (true, true) => chunks
            .zip(probs.par_chunks_mut(plane))
            .zip(multipliers.par_chunks_mut(plane))
            .try_for_each_init(
                || vec![0f32; plane],
                |dropped, (((s, o), p), m)| slice(s, o, p, m, dropped),
            ),
        (true, false) => chunks
            .zip(probs.par_chunks_mut(plane))
            .try_for_each(|((s, o), p)| slice(s, o, p, &mut [], &mut [])),
        (false, with_dropout) => chunks.try_for_each_init(
            || {
                (
                    vec![0f32; plane],
                    vec![0f32; scratch_len(with_dropout)],
                    vec![0f32; scratch_len(with_dropout)],
                )
            },
            |(p, m, dropped), (s, o)| slice(s, o, p, m, dropped),
        ),
    }?;
    let saved = keep.then_some(AttentionSaved { probs, multipliers });
    Ok((out, saved))
}

/// Gradients of q, k and v ([S, Lq, d], [S, Lk, d], [S, Lk, dv]) from the output's gradient `g`
/// (contiguous [S, Lq, dv]) and what the forward pass saved.
///
/// With W = P * M the dropped probabilities: dV = W^T dO; dW = dO V^T; dP = dW * M;
/// dS = P * (dP - rowsum(dP * P)) * scale (softmax's backward); dQ = dS K; dK = dS^T Q.
pub fn attention_backward(
    q: SliceView<'_>,
    k: SliceView<'_>,
    v: SliceView<'_>,
    g: &[f32],
    dims: AttentionDims,
    saved: &AttentionSaved,
) -> Result<(Vec<f32>, Vec<f32>, Vec<f32>)> {
    let AttentionDims { lq, lk, d, dv, .. } = dims;
    let plane = lq * lk;
    let with_dropout = !saved.multipliers.is_empty();
    let (mut dq, mut dk, mut dvs) = (
        zeros(dims.slices * lq * d),
        zeros(dims.slices * lk * d),
        zeros(dims.slices * lk * dv),
    );
    dq.par_chunks_mut(lq * d)
        .zip(dk.par_chunks_mut(lk * d))
        .zip(dvs.par_chunks_mut(lk * dv))
        .enumerate()
        .try_for_each_init(
            || (vec![0f32; plane], vec![0f32; plane]),
            |(weights, dw), (s, ((dq_s, dk_s), dv_s))| {
                let p = &saved.probs[s * plane..(s + 1) * plane];
                let go = &g[s * lq * dv..(s + 1) * lq * dv];
                let w: &[f32] = if with_dropout {
                    let m = &saved.multipliers[s * plane..(s + 1) * plane];
                    for ((x, &pv), &mv) in weights.iter_mut().zip(p).zip(m) {
                        *x = pv * mv;
                    }
                    weights
                } else {
                    p
                };
                matmul_strided(dv_s, (lk, dv, lq), w, (1, lk), go, (dv, 1), false, false)?;
                matmul_strided(
                    dw,
                    (lq, lk, dv),
                    go,
                    (dv, 1),
                    v.at(s),
                    v.transposed().strides(),
                    false,
                    false,
                )?;
                if with_dropout {
                    let m = &saved.multipliers[s * plane..(s + 1) * plane];
                    dw.iter_mut().zip(m).for_each(|(x, &mv)| *x *= mv);
                }
                for (row, prow) in dw.chunks_exact_mut(lk).zip(p.chunks_exact(lk)) {
                    let dot: f32 = row.iter().zip(prow).map(|(a, b)| a * b).sum();
                    for (x, &pv) in row.iter_mut().zip(prow) {
                        *x = pv * (*x - dot) * dims.scale;
                    }
                }
                matmul_strided(
                    dq_s,
                    (lq, d, lk),
                    dw,
                    (lk, 1),
                    k.at(s),
                    k.strides(),
                    false,
                    false,
                )?;
                matmul_strided(
                    dk_s,
                    (lk, d, lq),
                    dw,
                    (1, lk),
                    q.at(s),
                    q.strides(),
                    false,
                    false,
                )
            },
        )?;
    Ok((dq, dk, dvs))
}
