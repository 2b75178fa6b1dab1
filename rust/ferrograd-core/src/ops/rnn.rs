//! Fused recurrent cells. A step of an LSTM or GRU is a dozen elementwise ops; fused, it is one
//! pass forward and one backward over `[B, H]`, with the gate activations kept for backward.
//! The projections around the cell stay matrix products (the input projection of every time
//! step is one GEMM in the layer). In a create_graph walk the cells differentiate their composed
//! form instead, recorded, so they are twice differentiable.

use std::sync::Arc;

use crate::cpu::rnn::{gru_backward, gru_forward, lstm_backward, lstm_forward};
use crate::double_backward::recomposed;
use crate::{CpuStorage, Error, Result, Storage, Tensor};

/// Checks a `[B, width]` float32 operand.
fn expect_rows(op: &'static str, name: &str, t: &Tensor, rows: usize, width: usize) -> Result<()> {
    super::expect_f32(op, t)?;
    if t.shape() != [rows, width] {
        return Err(Error::arg(
            op,
            name,
            format!("shape [{rows}, {width}]"),
            format!("{:?}", t.shape()),
        ));
    }
    Ok(())
}

fn host(op: &'static str, t: &Tensor) -> Result<Vec<f32>> {
    let t = t.contiguous()?;
    let s = t.storage()?;
    match &*s {
        Storage::Cpu(_) => Ok(s.f32s(op)?.to_vec()),
        Storage::Cuda(_) => Err(crate::storage::no_cuda_kernel(op)),
    }
}

/// One LSTM step from the gate pre-activations `gates` `[B, 4H]` (input, forget, cell, output,
/// as PyTorch orders them) and the previous cell state `c_prev` `[B, H]`: returns `[B, 2H]`,
/// the new hidden state in the first `H` columns and the new cell state in the last `H`.
pub fn lstm_cell(gates: &Tensor, c_prev: &Tensor) -> Result<Tensor> {
    const OP: &str = "lstm_cell";
    super::expect_f32(OP, gates)?;
    let (b, hidden) = match gates.shape() {
        [b, w] if w % 4 == 0 => (*b, w / 4),
        other => {
            return Err(Error::arg(
                OP,
                "gates",
                "shape [B, 4*hidden]",
                format!("{other:?}"),
            ))
        }
    };
    expect_rows(OP, "c_prev", c_prev, b, hidden)?;
    super::same_device(OP, gates, c_prev)?;
    if gates.device() != crate::Device::Cpu {
        return lstm_cell_composed(gates, c_prev, hidden);
    }
    let (g, cp) = (host(OP, gates)?, host(OP, c_prev)?);
    let mut out = vec![0f32; b * 2 * hidden];
    let mut acts = vec![0f32; b * 4 * hidden];
    lstm_forward(&g, &cp, hidden, &mut out, &mut acts);
    let (acts, cp) = (Arc::new(acts), Arc::new(cp));
    let inputs = [gates.clone(), c_prev.clone()];
    Ok(Tensor::from_op_saving_output(
        Storage::Cpu(CpuStorage::F32(out)),
        &[b, 2 * hidden],
        OP,
        &[gates, c_prev],
        move |saved_out| {
            Box::new(move |grad| {
                if crate::autograd::is_grad_enabled() {
                    // A create_graph walk: differentiate the composed cell, recorded.
                    return recomposed(&inputs, grad, |t| lstm_cell_composed(&t[0], &t[1], hidden));
                }
                let (go, out) = (host(OP, grad)?, host(OP, &saved_out)?);
                let mut grad_gates = vec![0f32; b * 4 * hidden];
                let mut grad_c = vec![0f32; b * hidden];
                lstm_backward(&go, &acts, &cp, &out, hidden, &mut grad_gates, &mut grad_c);
                Ok(vec![
                    Some(Tensor::from_vec(grad_gates, &[b, 4 * hidden])?),
                    Some(Tensor::from_vec(grad_c, &[b, hidden])?),
                ])
            })
        },
    ))
}

/// One GRU step from the input projection `gx` and hidden projection `gh` (`[B, 3H]` each,
/// biases included; reset, update, new as PyTorch orders them) and `h_prev` `[B, H]`: returns
/// the new hidden state `[B, H]`.
pub fn gru_cell(gx: &Tensor, gh: &Tensor, h_prev: &Tensor) -> Result<Tensor> {
    const OP: &str = "gru_cell";
    super::expect_f32(OP, gx)?;
    let (b, hidden) = match gx.shape() {
        [b, w] if w % 3 == 0 => (*b, w / 3),
        other => {
            return Err(Error::arg(
                OP,
                "gx",
                "shape [B, 3*hidden]",
                format!("{other:?}"),
            ))
        }
    };
    expect_rows(OP, "gh", gh, b, 3 * hidden)?;
    expect_rows(OP, "h_prev", h_prev, b, hidden)?;
    super::same_device(OP, gx, gh)?;
    super::same_device(OP, gx, h_prev)?;
    if gx.device() != crate::Device::Cpu {
        return gru_cell_composed(gx, gh, h_prev, hidden);
    }
    let (x, hh, hp) = (host(OP, gx)?, host(OP, gh)?, host(OP, h_prev)?);
    let mut h = vec![0f32; b * hidden];
    let mut acts = vec![0f32; b * 3 * hidden];
    gru_forward(&x, &hh, &hp, hidden, &mut h, &mut acts);
    let (acts, hh, hp) = (Arc::new(acts), Arc::new(hh), Arc::new(hp));
    let inputs = [gx.clone(), gh.clone(), h_prev.clone()];
    Ok(Tensor::from_op(
        Storage::Cpu(CpuStorage::F32(h)),
        &[b, hidden],
        OP,
        &[gx, gh, h_prev],
        Box::new(move |grad| {
            if crate::autograd::is_grad_enabled() {
                // A create_graph walk: differentiate the composed cell, recorded.
                return recomposed(&inputs, grad, |t| {
                    gru_cell_composed(&t[0], &t[1], &t[2], hidden)
                });
            }
            let dh = host(OP, grad)?;
            let mut grad_gx = vec![0f32; b * 3 * hidden];
            let mut grad_gh = vec![0f32; b * 3 * hidden];
            let mut grad_h = vec![0f32; b * hidden];
            gru_backward(
                &dh,
                &acts,
                &hh,
                &hp,
                hidden,
                &mut grad_gx,
                &mut grad_gh,
                &mut grad_h,
            );
            Ok(vec![
                Some(Tensor::from_vec(grad_gx, &[b, 3 * hidden])?),
                Some(Tensor::from_vec(grad_gh, &[b, 3 * hidden])?),
                Some(Tensor::from_vec(grad_h, &[b, hidden])?),
            ])
        }),
    ))
}

/// The LSTM cell from tensor ops (autograd derives its backward), as the CUDA backend runs it
/// until it has a fused kernel: c = σ(f) c_prev + σ(i) tanh(g), h = σ(o) tanh(c), out = [h | c].
fn lstm_cell_composed(gates: &Tensor, c_prev: &Tensor, hidden: usize) -> Result<Tensor> {
    let gate = |k: usize| gates.narrow(1, k * hidden, hidden);
    let (i, f, g, o) = (
        gate(0)?.sigmoid()?,
        gate(1)?.sigmoid()?,
        gate(2)?.tanh()?,
        gate(3)?.sigmoid()?,
    );
    let c = f.mul(c_prev)?.add(&i.mul(&g)?)?;
    let h = o.mul(&c.tanh()?)?;
    Tensor::cat(&[h, c], 1)
}

/// The GRU cell from tensor ops: r = σ(x_r + h_r), z = σ(x_z + h_z), n = tanh(x_n + r h_n),
/// h = (1 - z) n + z h_prev, as PyTorch defines it.
fn gru_cell_composed(gx: &Tensor, gh: &Tensor, h_prev: &Tensor, hidden: usize) -> Result<Tensor> {
    let part = |t: &Tensor, k: usize| t.narrow(1, k * hidden, hidden);
    let r = part(gx, 0)?.add(&part(gh, 0)?)?.sigmoid()?;
    let z = part(gx, 1)?.add(&part(gh, 1)?)?.sigmoid()?;
    let n = part(gx, 2)?.add(&r.mul(&part(gh, 2)?)?)?.tanh()?;
    n.add(&z.mul(&h_prev.sub(&n)?)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::gradcheck;

    fn input(shape: &[usize], seed: u64) -> Tensor {
        crate::rng::manual_seed(seed);
        let t = Tensor::randn(shape, 0.0, 1.0).unwrap();
        t.set_requires_grad(true).unwrap();
        t
    }

    #[test]
    fn lstm_cell_matches_the_unfused_formula_and_its_gradients() {
        let (g, c) = (input(&[3, 8], 1), input(&[3, 2], 2));
        let fused = lstm_cell(&g, &c).unwrap().to_vec::<f32>().unwrap();
        let (gv, cv) = (g.to_vec::<f32>().unwrap(), c.to_vec::<f32>().unwrap());
        let s = |x: f32| 1.0 / (1.0 + (-x).exp());
        for r in 0..3 {
            for j in 0..2 {
                let at = |k: usize| gv[r * 8 + k * 2 + j];
                let cell = s(at(1)) * cv[r * 2 + j] + s(at(0)) * at(2).tanh();
                assert!((fused[r * 4 + 2 + j] - cell).abs() < 1e-6);
                assert!((fused[r * 4 + j] - s(at(3)) * cell.tanh()).abs() < 1e-6);
            }
        }
        gradcheck(|t| lstm_cell(&t[0], &t[1]), &[g, c], 1e-2, 2e-2);
    }

    /// The composed cells (the CUDA backend's) against the fused CPU kernels, values and gradients.
    #[test]
    fn composed_cells_match_the_fused_kernels() {
        let check = |fused: Tensor, composed: Tensor, inputs: &[Tensor]| {
            let close = |a: Vec<f32>, b: Vec<f32>| {
                assert!(
                    a.iter().zip(&b).all(|(x, y)| (x - y).abs() < 1e-5),
                    "{a:?} vs {b:?}"
                );
            };
            close(fused.to_vec().unwrap(), composed.to_vec().unwrap());
            let w = input(fused.shape(), 42).detach();
            let grads = |y: &Tensor| {
                let loss = y.mul(&w).unwrap().sum(&[], false).unwrap();
                crate::autograd::grad(&loss, inputs).unwrap()
            };
            for (a, b) in grads(&fused).iter().zip(grads(&composed)) {
                let (a, b) = (a.as_ref().unwrap(), b.unwrap());
                close(a.to_vec().unwrap(), b.to_vec().unwrap());
            }
        };
        let (g, c) = (input(&[3, 8], 1), input(&[3, 2], 2));
        check(
            lstm_cell(&g, &c).unwrap(),
            lstm_cell_composed(&g, &c, 2).unwrap(),
            &[g, c],
        );
        let (x, h, hp) = (input(&[2, 9], 3), input(&[2, 9], 4), input(&[2, 3], 5));
        let inputs = [x.clone(), h.clone(), hp.clone()];
        check(
            gru_cell(&x, &h, &hp).unwrap(),
            gru_cell_composed(&x, &h, &hp, 3).unwrap(),
            &inputs,
        );
    }

    #[test]
    fn gru_cell_gradients_and_shape_errors() {
        let (x, h, hp) = (input(&[2, 9], 3), input(&[2, 9], 4), input(&[2, 3], 5));
        gradcheck(
            |t| gru_cell(&t[0], &t[1], &t[2]),
            &[x.clone(), h.clone(), hp.clone()],
            1e-2,
            2e-2,
        );
        assert!(matches!(
            gru_cell(&x, &h, &input(&[2, 4], 6)),
            Err(Error::Argument { .. })
        ));
        assert!(matches!(
            lstm_cell(&input(&[2, 7], 7), &hp),
            Err(Error::Argument { .. })
        ));
    }
}
