//! The linear layer `x @ weight.T + bias` as one op. On the CPU the bias is the product's starting
//! value (the GEMM adds onto it), so the layer makes one output buffer in one pass instead of a
//! product, a cleared buffer and a broadcast add; its backward is three products and a row sum.
//! `linear_relu` clamps that buffer in place and masks the gradient once in its backward: one op
//! and one output where the composed layer and ReLU make two of each.

use super::unary::UnaryOp;
use crate::cpu::gemm::batched_matmul;
use crate::cpu::relu::par_relu_in_place;
use crate::{CpuStorage, Layout, Result, Storage, Tensor};

impl Tensor {
    /// `x @ weight.T + bias` over the last axis of `x` (`torch.nn.functional.linear`): `x` is
    /// `[..., in_features]`, `weight` `[out_features, in_features]`, `bias` `[out_features]`.
    pub fn linear(&self, weight: &Tensor, bias: Option<&Tensor>) -> Result<Tensor> {
        self.linear_then(weight, bias, false)
    }

    /// `linear(...).relu()` as one op: the same values and gradients as the two ops.
    pub fn linear_relu(&self, weight: &Tensor, bias: Option<&Tensor>) -> Result<Tensor> {
        self.linear_then(weight, bias, true)
    }

    /// The linear layer, followed by a fused ReLU when `relu`.
    fn linear_then(&self, weight: &Tensor, bias: Option<&Tensor>, relu: bool) -> Result<Tensor> {
        if let Some(out) = crate::autocast::lowered(&[self, weight], true, |t| {
            t[0].linear_then(&t[1], bias, relu)
        }) {
            return out;
        }
        let operands: Vec<&Tensor> = [self, weight].into_iter().chain(bias).collect();
        // Operands of one half type only: PyTorch's products refuse mixed dtypes.
        if let Some(dtype) = super::half_result(&operands).filter(|&d| d != crate::DType::F32) {
            return super::widened(&operands, dtype, |t| {
                t[0].linear_then(&t[1], t.get(2), relu)
            });
        }
        const OP: &str = "linear";
        super::check_input_and_weight(OP, self, weight)?;
        crate::ensure_shape!(
            weight.rank() == 2,
            OP,
            "weight must be [out_features, in_features], got {:?}",
            weight.shape()
        );
        let (out_features, in_features) = (weight.shape()[0], weight.shape()[1]);
        crate::ensure_shape!(
            self.rank() >= 1 && self.shape()[self.rank() - 1] == in_features,
            OP,
            "input must be [..., {in_features}] for weight {:?}, got {:?}",
            weight.shape(),
            self.shape()
        );
        super::check_bias(OP, self, bias, out_features)?;
        if self.device() != crate::Device::Cpu {
            let y = self.matmul(&weight.transpose(0, 1)?)?;
            let y = match bias {
                Some(b) => y.add(b)?,
                None => y,
            };
            return if relu { y.relu() } else { Ok(y) };
        }
        let mut shape = self.shape().to_vec();
        shape[self.rank() - 1] = out_features;
        let rows: usize = self.shape()[..self.rank() - 1].iter().product();
        let x = self.reshape(&[rows, in_features])?;
        let out = {
            let (sx, sw) = (x.storage()?, weight.storage()?);
            let (lx, lw) = (x.layout(), weight.layout());
            // [1, rows, in] @ [1, in, out]: the weight read transposed through its strides.
            let x_batch = Layout::new(
                vec![1, rows, in_features],
                vec![0, lx.strides()[0], lx.strides()[1]],
                lx.offset(),
            );
            let w_transposed = Layout::new(
                vec![1, in_features, out_features],
                vec![0, lw.strides()[1], lw.strides()[0]],
                lw.offset(),
            );
            let start = bias.map(|b| b.to_vec::<f32>()).transpose()?;
            let mut out = batched_matmul(
                sx.f32s(OP)?,
                &x_batch,
                sw.f32s(OP)?,
                &w_transposed,
                start.as_deref(),
            );
            if relu {
                par_relu_in_place(&mut out);
            }
            out
        };
        let mut inputs = vec![self, weight];
        inputs.extend(bias);
        let (input_shape, w) = (self.shape().to_vec(), weight.clone());
        let grads_wanted = (
            self.requires_grad(),
            weight.requires_grad(),
            bias.is_some_and(|b| b.requires_grad()),
        );
        let has_bias = bias.is_some();
        let linear_grads = move |g: &Tensor| -> Result<Vec<Option<Tensor>>> {
            let g = g.reshape(&[rows, out_features])?;
            let mut grads = vec![
                grads_wanted
                    .0
                    .then(|| g.matmul(&w)?.reshape(&input_shape))
                    .transpose()?,
                // g^T @ x is [out, in]: the weight's own layout, no transposing copy.
                grads_wanted
                    .1
                    .then(|| g.transpose(0, 1)?.matmul(&x))
                    .transpose()?,
            ];
            if has_bias {
                grads.push(
                    grads_wanted
                        .2
                        .then(|| g.sum_axes(&[0], false))
                        .transpose()?,
                );
            }
            Ok(grads)
        };
        let storage = Storage::Cpu(CpuStorage::F32(out));
        if !relu {
            return Ok(Tensor::from_op(
                storage,
                &shape,
                OP,
                &inputs,
                Box::new(move |g| linear_grads(g)),
            ));
        }
        Ok(Tensor::from_op_saving_output(
            storage,
            &shape,
            "linear_relu",
            &inputs,
            |y| {
                // The ReLU's own backward, `g * step(y)`: `y <= 0` exactly where the ReLU's
                // input was (NaN where it was NaN), so this is the composed op's gradient.
                Box::new(move |g| linear_grads(&g.times_derivative(&y, UnaryOp::Step)?))
            },
        ))
    }
}

#[cfg(test)]
mod tests {
    use crate::testing::{gradcheck, random_leaf};
    use crate::{DType, Device, Tensor};

    /// The fused layer equals the composed `x @ w.T + b`, for 1-D, 2-D and 3-D inputs, with a
    /// transposed (non-contiguous) weight, and without a bias; gradients pass gradcheck.
    #[test]
    fn linear_matches_matmul_plus_bias_and_gradchecks() {
        let w = random_leaf(&[5, 7], 1);
        let b = random_leaf(&[5], 2);
        for shape in [vec![7], vec![4, 7], vec![2, 3, 7]] {
            let x = random_leaf(&shape, 3);
            let fused = x.linear(&w, Some(&b)).unwrap();
            let composed = x
                .matmul(&w.transpose(0, 1).unwrap())
                .unwrap()
                .add(&b)
                .unwrap();
            assert_eq!(fused.shape(), composed.shape());
            for (f, c) in fused
                .to_vec::<f32>()
                .unwrap()
                .iter()
                .zip(composed.to_vec::<f32>().unwrap())
            {
                assert!((f - c).abs() <= 1e-5 * c.abs().max(1.0), "{f} vs {c}");
            }
            gradcheck(
                |t| t[0].linear(&t[1], Some(&t[2])),
                &[x.clone(), w.clone(), b.clone()],
                1e-3,
                1e-2,
            );
            gradcheck(|t| t[0].linear(&t[1], None), &[x, w.clone()], 1e-3, 1e-2);
        }
        let wt = random_leaf(&[7, 5], 4);
        let x = random_leaf(&[3, 7], 5);
        gradcheck(
            |t| t[0].linear(&t[1].transpose(0, 1)?, None),
            &[x, wt],
            1e-3,
            1e-2,
        );
    }

    /// The fused linear + ReLU gives the composed ops' output and gradients bit for bit (the
    /// same products on the same masked gradient), with and without a bias, for inputs of several
    /// ranks and an output long enough for the parallel clamp and mask; finite differences agree.
    #[test]
    fn linear_relu_matches_the_composed_ops() {
        for (i, (x_shape, out_features, with_bias)) in [
            (vec![7], 5, true),
            (vec![4, 7], 5, false),
            (vec![2, 3, 7], 5, true),
            (vec![300, 9], 1000, true),
        ]
        .into_iter()
        .enumerate()
        {
            let seed = 10 * i as u64;
            let in_features = *x_shape.last().unwrap();
            let x = random_leaf(&x_shape, seed + 1);
            let w = random_leaf(&[out_features, in_features], seed + 2);
            let b = random_leaf(&[out_features], seed + 3);
            let bias = with_bias.then_some(&b);
            let fused = x.linear_relu(&w, bias).unwrap();
            let composed = x.linear(&w, bias).unwrap().relu().unwrap();
            assert_eq!(fused.node().unwrap().name, "linear_relu");
            assert_eq!(
                fused.to_vec::<f32>().unwrap(),
                composed.to_vec::<f32>().unwrap(),
                "case {i}: outputs"
            );
            let weight = random_leaf(fused.shape(), seed + 4).detach();
            let leaves = [x.clone(), w.clone(), b.clone()];
            let grads = |y: &Tensor| {
                let loss = y.mul(&weight).unwrap().sum(&[], false).unwrap();
                crate::autograd::grad(&loss, &leaves[..2 + with_bias as usize]).unwrap()
            };
            for (k, (a, e)) in grads(&fused).iter().zip(grads(&composed)).enumerate() {
                assert_eq!(
                    a.as_ref().unwrap().to_vec::<f32>().unwrap(),
                    e.as_ref().unwrap().to_vec::<f32>().unwrap(),
                    "case {i}: gradient {k}"
                );
            }
        }
        let (x, w, b) = (
            random_leaf(&[4, 6], 91),
            random_leaf(&[3, 6], 92),
            random_leaf(&[3], 93),
        );
        gradcheck(
            |t| t[0].linear_relu(&t[1], Some(&t[2])),
            &[x, w, b],
            1e-3,
            2e-2,
        );
    }

    /// No input features: every output row is the bias (zeros without one), and the weight's
    /// gradient is empty.
    #[test]
    fn linear_with_no_input_features_gives_the_bias() {
        let x = random_leaf(&[3, 0], 1);
        let w = random_leaf(&[2, 0], 2);
        let b = Tensor::from_vec(vec![1.5f32, -2.0], &[2]).unwrap();
        let y = x.linear(&w, Some(&b)).unwrap();
        assert_eq!(y.shape(), [3, 2]);
        assert_eq!(
            y.to_vec::<f32>().unwrap(),
            [1.5, -2.0, 1.5, -2.0, 1.5, -2.0]
        );
        let y = x.linear(&w, None).unwrap();
        assert_eq!(y.to_vec::<f32>().unwrap(), [0.0; 6]);
        y.sum(&[], false).unwrap().backward(None).unwrap();
        assert_eq!(w.grad().unwrap().shape(), [2, 0]);
    }

    #[test]
    fn linear_rejects_mismatched_shapes() {
        let zeros = |shape: &[usize]| Tensor::zeros(shape, DType::F32, Device::Cpu).unwrap();
        let (x, w) = (zeros(&[2, 3]), zeros(&[4, 5]));
        let err = x.linear(&w, None).unwrap_err().to_string();
        assert!(err.contains("[..., 5]") && err.contains("[2, 3]"), "{err}");
        let (w, b) = (zeros(&[4, 3]), zeros(&[3]));
        let err = x.linear(&w, Some(&b)).unwrap_err().to_string();
        assert!(err.contains("bias must have shape [4]"), "{err}");
    }
}
