//! Fused cross-entropy over rows of logits with class-index targets: one pass per row computes
//! the stable log-softmax, the row's loss and the row's gradient with respect to the logits.

use rayon::prelude::*;

use super::PAR_THRESHOLD;

/// Per-row results: the loss and the weight the row contributes to a 'mean' reduction.
pub struct CrossEntropyRows {
    pub loss: Vec<f32>,
    pub row_weight: Vec<f32>,
    /// d(loss_i)/d(logits_i), row-major like the logits.
    pub grad: Vec<f32>,
}

/// `logits` is [rows, classes]; `target[i]` is a class in range or `ignore_index`; `weight` holds
/// one weight per class. With label smoothing e the row loss is
/// `(1-e) w_t (-log p_t) + (e/C) sum_c w_c (-log p_c)`, as PyTorch defines it.
pub fn cross_entropy_rows(
    logits: &[f32],
    classes: usize,
    target: &[i64],
    weight: Option<&[f32]>,
    ignore_index: i64,
    smoothing: f32,
) -> CrossEntropyRows {
    let rows = target.len();
    let mut loss = vec![0f32; rows];
    let mut row_weight = vec![0f32; rows];
    let mut grad = vec![0f32; rows * classes];
    let w = |c: usize| weight.map_or(1.0, |w| w[c]);
    let total_weight: f32 = (0..classes).map(w).sum();
    let row = |(i, ((l, rw), g)): (usize, ((&mut f32, &mut f32), &mut [f32]))| {
        let t = target[i];
        if t == ignore_index {
            return;
        }
        let t = t as usize;
        let x = &logits[i * classes..(i + 1) * classes];
        let max = x.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        let sum: f32 = x.iter().map(|&v| (v - max).exp()).sum();
        let lse = max + sum.ln();
        let wt = w(t);
        let mut value = (1.0 - smoothing) * wt * (lse - x[t]);
        let eps_c = smoothing / classes as f32;
        if smoothing > 0.0 {
            let smooth: f32 = x.iter().enumerate().map(|(c, &v)| w(c) * (lse - v)).sum();
            value += eps_c * smooth;
        }
        for (c, gc) in g.iter_mut().enumerate() {
            let p = (x[c] - lse).exp();
            let hard = (1.0 - smoothing) * wt * (p - if c == t { 1.0 } else { 0.0 });
            *gc = hard + eps_c * (total_weight * p - w(c));
        }
        *l = value;
        *rw = wt;
    };
    let width = classes.max(1);
    if rows * classes >= PAR_THRESHOLD {
        loss.par_iter_mut()
            .zip(row_weight.par_iter_mut())
            .zip(grad.par_chunks_mut(width))
            .enumerate()
            .for_each(row);
    } else {
        loss.iter_mut()
            .zip(row_weight.iter_mut())
            .zip(grad.chunks_mut(width))
            .enumerate()
            .for_each(row);
    }
    CrossEntropyRows {
        loss,
        row_weight,
        grad,
    }
}
