//! Host kernels of the fused recurrent cells: one pass over each batch row computes every gate
//! nonlinearity and the new state, and one pass computes all the gradients.

use rayon::prelude::*;

/// Rows below this many values per call run on one thread.
const PARALLEL_VALUES: usize = 1 << 15;

fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + (-x).exp())
}

/// Runs `f(row, ...)` over matching rows of the chunked slices, in parallel when large.
fn rows<A: Send + Sync, F>(total: usize, work: Vec<A>, f: F)
where
    F: Fn(A) + Send + Sync,
{
    if total >= PARALLEL_VALUES {
        work.into_par_iter().for_each(f);
    } else {
        work.into_iter().for_each(f);
    }
}

/// LSTM cell, PyTorch's gate order (input, forget, cell, output). `gates` `[B, 4H]` are the
/// pre-activations; writes `out` `[B, 2H]` = (h | c) per row and `acts` `[B, 4H]` = the gate
/// activations the backward pass needs.
pub fn lstm_forward(
    gates: &[f32],
    c_prev: &[f32],
    hidden: usize,
    out: &mut [f32],
    acts: &mut [f32],
) {
    let work: Vec<_> = gates
        .chunks(4 * hidden)
        .zip(c_prev.chunks(hidden))
        .zip(out.chunks_mut(2 * hidden))
        .zip(acts.chunks_mut(4 * hidden))
        .collect();
    rows(gates.len(), work, |(((g, cp), o), a)| {
        let (h_out, c_out) = o.split_at_mut(hidden);
        for j in 0..hidden {
            let i = sigmoid(g[j]);
            let f = sigmoid(g[hidden + j]);
            let gg = g[2 * hidden + j].tanh();
            let og = sigmoid(g[3 * hidden + j]);
            let c = f * cp[j] + i * gg;
            c_out[j] = c;
            h_out[j] = og * c.tanh();
            a[j] = i;
            a[hidden + j] = f;
            a[2 * hidden + j] = gg;
            a[3 * hidden + j] = og;
        }
    });
}

/// Gradients of [`lstm_forward`]: from `grad_out` `[B, 2H]` (dh | dc) writes `grad_gates`
/// `[B, 4H]` (pre-activation) and `grad_c_prev` `[B, H]`.
pub fn lstm_backward(
    grad_out: &[f32],
    acts: &[f32],
    c_prev: &[f32],
    out: &[f32],
    hidden: usize,
    grad_gates: &mut [f32],
    grad_c_prev: &mut [f32],
) {
    let work: Vec<_> = grad_out
        .chunks(2 * hidden)
        .zip(acts.chunks(4 * hidden))
        .zip(c_prev.chunks(hidden))
        .zip(out.chunks(2 * hidden))
        .zip(grad_gates.chunks_mut(4 * hidden))
        .zip(grad_c_prev.chunks_mut(hidden))
        .collect();
    rows(acts.len(), work, |(((((go, a), cp), o), gg), gc)| {
        for j in 0..hidden {
            let (i, f, g, og) = (a[j], a[hidden + j], a[2 * hidden + j], a[3 * hidden + j]);
            let tc = o[hidden + j].tanh();
            let dh = go[j];
            let dc = go[hidden + j] + dh * og * (1.0 - tc * tc);
            gg[j] = dc * g * i * (1.0 - i);
            gg[hidden + j] = dc * cp[j] * f * (1.0 - f);
            gg[2 * hidden + j] = dc * i * (1.0 - g * g);
            gg[3 * hidden + j] = dh * tc * og * (1.0 - og);
            gc[j] = dc * f;
        }
    });
}

/// GRU cell, PyTorch's gate order (reset, update, new) and formula
/// `n = tanh(x_n + r * h_n)`, `h' = (1 - z) n + z h`: `gx`, `gh` `[B, 3H]` are the input and
/// hidden projections (biases included). Writes `h` `[B, H]` and `acts` `[B, 3H]` = (r, z, n).
pub fn gru_forward(
    gx: &[f32],
    gh: &[f32],
    h_prev: &[f32],
    hidden: usize,
    h: &mut [f32],
    acts: &mut [f32],
) {
    let work: Vec<_> = gx
        .chunks(3 * hidden)
        .zip(gh.chunks(3 * hidden))
        .zip(h_prev.chunks(hidden))
        .zip(h.chunks_mut(hidden))
        .zip(acts.chunks_mut(3 * hidden))
        .collect();
    rows(gx.len(), work, |((((x, hh), hp), out), a)| {
        for j in 0..hidden {
            let r = sigmoid(x[j] + hh[j]);
            let z = sigmoid(x[hidden + j] + hh[hidden + j]);
            let n = (x[2 * hidden + j] + r * hh[2 * hidden + j]).tanh();
            out[j] = (1.0 - z) * n + z * hp[j];
            a[j] = r;
            a[hidden + j] = z;
            a[2 * hidden + j] = n;
        }
    });
}

/// Gradients of [`gru_forward`] from `grad_h` `[B, H]`: writes `grad_gx`, `grad_gh` `[B, 3H]`
/// and `grad_h_prev` `[B, H]`.
#[allow(clippy::too_many_arguments)]
pub fn gru_backward(
    grad_h: &[f32],
    acts: &[f32],
    gh: &[f32],
    h_prev: &[f32],
    hidden: usize,
    grad_gx: &mut [f32],
    grad_gh: &mut [f32],
    grad_h_prev: &mut [f32],
) {
    let work: Vec<_> = grad_h
        .chunks(hidden)
        .zip(acts.chunks(3 * hidden))
        .zip(gh.chunks(3 * hidden))
        .zip(h_prev.chunks(hidden))
        .zip(grad_gx.chunks_mut(3 * hidden))
        .zip(grad_gh.chunks_mut(3 * hidden))
        .zip(grad_h_prev.chunks_mut(hidden))
        .collect();
    rows(
        acts.len(),
        work,
        |((((((dh, a), hh), hp), gx), ghh), ghp)| {
            for j in 0..hidden {
                let (r, z, n) = (a[j], a[hidden + j], a[2 * hidden + j]);
                let dn = dh[j] * (1.0 - z) * (1.0 - n * n);
                let dz = dh[j] * (hp[j] - n) * z * (1.0 - z);
                let dr = dn * hh[2 * hidden + j] * r * (1.0 - r);
                gx[j] = dr;
                gx[hidden + j] = dz;
                gx[2 * hidden + j] = dn;
                ghh[j] = dr;
                ghh[hidden + j] = dz;
                ghh[2 * hidden + j] = dn * r;
                ghp[j] = dh[j] * z;
            }
        },
    );
}
