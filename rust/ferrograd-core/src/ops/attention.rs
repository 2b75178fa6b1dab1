//! Scaled dot-product attention as one op (`torch.nn.functional.scaled_dot_product_attention`).
//! On the CPU it runs the fused per-slice kernel of `cpu::attention`; on a GPU, flash attention
//! (`attention_cuda.rs`) for head dims up to 128 and up to 65,535 (batch, head) slices, without
//! dropout. Otherwise on a GPU, or with a mask that itself needs a gradient, it is composed of
//! matmul, softmax and dropout. Inside a bf16 autocast scope the flash kernels run on bf16 tensor
//! cores (sm_80 and later), rounding the probabilities to bf16 for their products as PyTorch's
//! flash kernels do; the CPU and the composed path keep them f32. bf16 and f16 tensors run the
//! same way on their f32 values (f16 tensor cores for f16), and the output comes back in their
//! dtype.

use super::attention_cuda::flash_attention;
use crate::cpu::attention::{
    attention_backward, attention_forward, AttentionDims, AttentionDropout, AttentionSaved,
    SliceView,
};
use crate::cuda::attention::{FLASH_MAX_HEAD, FLASH_MAX_SLICES};
use crate::cuda::products::Products;
use crate::layout::broadcast_shapes;
use crate::{CpuStorage, DType, Error, Layout, Result, Storage, Tensor};

const OP: &str = "scaled_dot_product_attention";

/// Where each slice of `t` (viewed as `[batch..., rows, cols]`) starts, and its row and column
/// strides.
pub(super) struct SliceLayout {
    pub(super) starts: Vec<usize>,
    pub(super) row_stride: usize,
    pub(super) col_stride: usize,
}

impl SliceLayout {
    fn of(t: &Tensor, batch: &[usize], rows: usize, cols: usize) -> Result<SliceLayout> {
        let full = [batch, &[rows, cols]].concat();
        let l = t.layout().broadcast_to(&full)?;
        let r = batch.len();
        let batch_only = Layout::new(batch.to_vec(), l.strides()[..r].to_vec(), l.offset());
        Ok(SliceLayout {
            starts: batch_only.offsets().collect(),
            row_stride: l.strides()[r],
            col_stride: l.strides()[r + 1],
        })
    }

    fn view<'a>(&'a self, data: &'a [f32]) -> SliceView<'a> {
        SliceView {
            data,
            starts: &self.starts,
            row_stride: self.row_stride,
            col_stride: self.col_stride,
        }
    }
}

impl Tensor {
    /// `softmax(self @ key^T * scale + mask) @ value` over the last two axes: `self` (the
    /// queries) `[..., Lq, d]`, `key` `[..., Lk, d]`, `value` `[..., Lk, dv]`, batch axes
    /// broadcast. `mask` is added to the scores and broadcasts to `[..., Lq, Lk]`; with `causal`,
    /// query i attends to keys 0..=i only (PyTorch's `is_causal`: the lower triangle from the top
    /// left corner). `dropout_p` drops probabilities (with `dropout`'s seeded masks); `scale`
    /// defaults to `1 / sqrt(d)`. q, k and v are all f32, all bf16 or all f16; the output has
    /// their dtype.
    pub fn scaled_dot_product_attention(
        &self,
        key: &Tensor,
        value: &Tensor,
        mask: Option<&Tensor>,
        dropout_p: f32,
        scale: Option<f32>,
        causal: bool,
    ) -> Result<Tensor> {
        let dtype = self.dtype();
        if let Some(products) = match dtype {
            DType::BF16 => Some(Products::Bf16),
            DType::F16 => Some(Products::F16),
            _ => None,
        } {
            // 16-bit q, k and v: the op runs on their (exact) f32 values, with that product
            // format for the GPU's flash kernels, and the output returns in their dtype. A
            // floating mask may be f32 or of that dtype. Widening and narrowing are
            // differentiable, so gradients come back in the inputs' dtype.
            for t in [key, value] {
                if t.dtype() != dtype {
                    return Err(Error::dtype(
                        OP,
                        format!("{dtype} like the query"),
                        t.dtype(),
                    ));
                }
            }
            let wide = |t: &Tensor| t.to_dtype(DType::F32);
            let mask = mask
                .map(|m| {
                    if m.dtype() == dtype {
                        wide(m)
                    } else {
                        Ok(m.clone())
                    }
                })
                .transpose()?;
            let (q, k, v) = (wide(self)?, wide(key)?, wide(value)?);
            return q
                .attention(&k, &v, mask.as_ref(), dropout_p, scale, causal, products)?
                .to_dtype(dtype);
        }
        if let Some(out) = crate::autocast::lowered(&[self, key, value], false, |t| {
            t[0].attention(&t[1], &t[2], mask, dropout_p, scale, causal, Products::Bf16)
        }) {
            return out;
        }
        self.attention(key, value, mask, dropout_p, scale, causal, Products::F32)
    }

    /// `scaled_dot_product_attention` with autocast settled: `products` says whether q, k and v
    /// (and later the output's gradient) hold bf16 or f16 values, so that the GPU's flash kernels
    /// may run on 16-bit tensor cores.
    #[allow(clippy::too_many_arguments)]
    fn attention(
        &self,
        key: &Tensor,
        value: &Tensor,
        mask: Option<&Tensor>,
        dropout_p: f32,
        scale: Option<f32>,
        causal: bool,
        products: Products,
    ) -> Result<Tensor> {
        let (q, k, v) = (self, key, value);
        for t in [q, k, v].into_iter().chain(mask) {
            super::expect_f32(OP, t)?;
            super::same_device(OP, q, t)?;
        }
        super::expect_probability(OP, "dropout_p", dropout_p)?;
        for (name, t) in [("query", q), ("key", k), ("value", v)] {
            crate::ensure_shape!(
                t.rank() >= 2,
                OP,
                "{name} must be [..., L, d], got {:?}",
                t.shape()
            );
        }
        let last2 = |t: &Tensor| (t.shape()[t.rank() - 2], t.shape()[t.rank() - 1]);
        let ((lq, d), (lk, dk), (lv, dv)) = (last2(q), last2(k), last2(v));
        crate::ensure_shape!(
            d == dk && lk == lv,
            OP,
            "query {:?}, key {:?} and value {:?} do not fit: need [..., Lq, d], [..., Lk, d] and \
             [..., Lk, dv]",
            q.shape(),
            k.shape(),
            v.shape()
        );
        let batch_of = |t: &Tensor| t.shape()[..t.rank() - 2].to_vec();
        let batch = broadcast_shapes(OP, &batch_of(q), &batch_of(k))?;
        let batch = broadcast_shapes(OP, &batch, &batch_of(v))?;
        if let Some(m) = mask {
            let scores = [&batch[..], &[lq, lk]].concat();
            crate::ensure_shape!(
                m.layout().broadcast_to(&scores).is_ok(),
                OP,
                "mask {:?} does not broadcast to the scores' shape {scores:?}",
                m.shape()
            );
        }
        let scale = scale.unwrap_or(1.0 / (d as f32).sqrt());
        let slices: usize = batch.iter().product();
        let plain_mask = !mask.is_some_and(|m| m.requires_grad()) && slices * lq * lk * d * dv > 0;
        let fused = plain_mask && q.device() == crate::Device::Cpu;
        let flash = plain_mask
            && q.device() != crate::Device::Cpu
            && dropout_p == 0.0
            && d.max(dv) <= FLASH_MAX_HEAD
            && slices <= FLASH_MAX_SLICES;
        if !fused && !flash {
            return composed(q, k, v, mask, dropout_p, scale, causal);
        }
        let dims = AttentionDims {
            slices,
            lq,
            lk,
            d,
            dv,
            scale,
            causal,
        };
        let layouts = [
            SliceLayout::of(q, &batch, lq, d)?,
            SliceLayout::of(k, &batch, lk, d)?,
            SliceLayout::of(v, &batch, lk, dv)?,
        ];
        let mask_layout = mask
            .map(|m| SliceLayout::of(m, &batch, lq, lk))
            .transpose()?;
        if flash {
            return flash_attention(q, k, v, mask, layouts, mask_layout, dims, products, &batch);
        }
        if dropout_p > 0.0 {
            crate::cuda::graph::refuse_in_capture(
                "attention dropout (it copies the generator into its arguments)",
            )?;
        }
        let dropout = (dropout_p > 0.0).then(|| {
            crate::rng::with_global(|r| AttentionDropout {
                p: dropout_p,
                rng: *r,
                start: r.reserve(slices * lq * lk),
            })
        });
        let keep =
            crate::autograd::is_grad_enabled() && [q, k, v].iter().any(|t| t.requires_grad());
        let (out, saved) = {
            let (sq, sk, sv) = (q.storage()?, k.storage()?, v.storage()?);
            let sm = mask.map(|m| m.storage()).transpose()?;
            let mask_view = match (&sm, &mask_layout) {
                (Some(s), Some(l)) => Some(l.view(s.f32s(OP)?)),
                _ => None,
            };
            attention_forward(
                layouts[0].view(sq.f32s(OP)?),
                layouts[1].view(sk.f32s(OP)?),
                layouts[2].view(sv.f32s(OP)?),
                mask_view,
                dims,
                dropout,
                keep,
            )?
        };
        let shape = [&batch[..], &[lq, dv]].concat();
        let storage = Storage::Cpu(CpuStorage::F32(out));
        let Some(saved) = saved else {
            return Ok(Tensor::from_storage(storage, Layout::contiguous(&shape)));
        };
        let inputs = [q.clone(), k.clone(), v.clone()];
        let mask = mask.cloned();
        Ok(Tensor::from_op(
            storage,
            &shape,
            OP,
            &[q, k, v],
            Box::new(move |g| {
                let fused = |g: &Tensor| {
                    let [qc, kc, vc] = &inputs;
                    let grads = backward(qc, kc, vc, &layouts, &g.contiguous()?, dims, &saved)?;
                    let shapes = [
                        [&batch[..], &[lq, d]].concat(),
                        [&batch[..], &[lk, d]].concat(),
                        [&batch[..], &[lk, dv]].concat(),
                    ];
                    let grads = grads
                        .into_iter()
                        .zip(shapes)
                        .map(|(grad, shape)| Tensor::from_vec(grad, &shape))
                        .collect::<Result<Vec<_>>>()?;
                    input_grads(grads, &inputs)
                };
                if !crate::autograd::is_grad_enabled() {
                    return fused(g);
                }
                // A create_graph walk. Without dropout the gradients are recorded; a dropout
                // mask cannot be drawn again, so then they are the fused pass's, marked as not
                // differentiable twice.
                if dropout_p == 0.0 {
                    return recorded_gradients(&inputs, g, mask.as_ref(), dims);
                }
                let previous = crate::autograd::set_grad_enabled(false);
                let grads = fused(g);
                crate::autograd::set_grad_enabled(previous);
                let [qc, kc, vc] = &inputs;
                Ok(crate::double_backward::mark_unsupported(
                    OP,
                    grads?,
                    &[g, qc, kc, vc],
                ))
            }),
        ))
    }
}

/// The gradients of q, k and v (each [batch..., L, d], over the broadcast batch) summed back to
/// their inputs' shapes; None for an input that needs none.
pub(super) fn input_grads(
    grads: impl IntoIterator<Item = Tensor>,
    inputs: &[Tensor; 3],
) -> Result<Vec<Option<Tensor>>> {
    grads
        .into_iter()
        .zip(inputs)
        .map(|(grad, input)| {
            if !input.requires_grad() {
                return Ok(None);
            }
            Ok(Some(grad.sum_to(input.shape())?))
        })
        .collect()
}

/// The gradients in a create_graph walk, recorded so they can be differentiated again: the
/// attention (without dropout) is recomposed from matmul and softmax, both twice
/// differentiable, and differentiated by a nested recorded walk.
fn recorded_gradients(
    inputs: &[Tensor; 3],
    g: &Tensor,
    mask: Option<&Tensor>,
    dims: AttentionDims,
) -> Result<Vec<Option<Tensor>>> {
    let partials = crate::double_backward::recomposed(inputs, g, |t| {
        composed(&t[0], &t[1], &t[2], mask, 0.0, dims.scale, dims.causal)
    })?;
    Ok(partials
        .into_iter()
        .zip(inputs)
        .map(|(grad, input)| grad.filter(|_| input.requires_grad()))
        .collect())
}

/// The fused backward pass on the saved probabilities.
fn backward(
    q: &Tensor,
    k: &Tensor,
    v: &Tensor,
    layouts: &[SliceLayout; 3],
    g: &Tensor,
    dims: AttentionDims,
    saved: &AttentionSaved,
) -> Result<[Vec<f32>; 3]> {
    let (sq, sk, sv, sg) = (q.storage()?, k.storage()?, v.storage()?, g.storage()?);
    let (dq, dk, dv) = attention_backward(
        layouts[0].view(sq.f32s(OP)?),
        layouts[1].view(sk.f32s(OP)?),
        layouts[2].view(sv.f32s(OP)?),
        &sg.f32s(OP)?[g.layout().offset()..],
        dims,
        saved,
    )?;
    Ok([dq, dk, dv])
}

/// The op from matmul, softmax and dropout (GPU tensors, or a mask that needs its gradient).
fn composed(
    q: &Tensor,
    k: &Tensor,
    v: &Tensor,
    mask: Option<&Tensor>,
    dropout_p: f32,
    scale: f32,
    causal: bool,
) -> Result<Tensor> {
    let mut scores = q.matmul(&k.transpose(-2, -1)?)?.mul_scalar(scale)?;
    if let Some(m) = mask {
        scores = scores.add(m)?;
    }
    if causal {
        let (lq, lk) = (q.dim(-2)?, k.dim(-2)?);
        let above_diagonal = (0..lq * lk)
            .map(|at| {
                if at % lk > at / lk {
                    f32::NEG_INFINITY
                } else {
                    0.0
                }
            })
            .collect();
        let bias = Tensor::from_vec(above_diagonal, &[lq, lk])?.to_device(q.device())?;
        scores = scores.add(&bias)?;
    }
    let probs = super::dropout::dropout(&scores.softmax(-1)?, dropout_p, true)?;
    probs.matmul(v)
}

#[cfg(test)]
mod tests {
    use super::composed;
    use crate::testing::{gradcheck, random_leaf, seeded};
    use crate::Tensor;

    fn close(a: &Tensor, b: &Tensor, what: &str) {
        assert_eq!(a.shape(), b.shape(), "{what}");
        let (x, y) = (a.to_vec::<f32>().unwrap(), b.to_vec::<f32>().unwrap());
        for (i, (u, w)) in x.iter().zip(&y).enumerate() {
            assert!(
                (u - w).abs() <= 1e-5 * w.abs().max(1.0),
                "{what}[{i}]: {u} vs {w}"
            );
        }
    }

    /// The fused kernel gives the composed ops' output and gradients: queries permuted out of a
    /// [B, L, H, d] tensor (strided slices), values broadcast over the batch, a mask broadcast
    /// over heads and query rows, and dropout with the same seed (the same masks).
    #[test]
    fn fused_attention_matches_the_composed_ops() {
        let q = random_leaf(&[2, 5, 3, 4], 1);
        let k = random_leaf(&[2, 3, 6, 4], 2);
        let v = random_leaf(&[1, 3, 6, 7], 3);
        let mask = random_leaf(&[2, 1, 1, 6], 4).detach();
        let qh = q.permute(&[0, 2, 1, 3]).unwrap();
        for p in [0.0, 0.25] {
            let fused = seeded(9, || {
                qh.scaled_dot_product_attention(&k, &v, Some(&mask), p, Some(0.3), false)
                    .unwrap()
            });
            let reference = seeded(9, || {
                composed(&qh, &k, &v, Some(&mask), p, 0.3, false).unwrap()
            });
            close(&fused, &reference, "output");
            let weight = random_leaf(fused.shape(), 5).detach();
            let grads = |y: &Tensor| {
                let loss = y.mul(&weight).unwrap().sum(&[], false).unwrap();
                crate::autograd::grad(&loss, &[q.clone(), k.clone(), v.clone()]).unwrap()
            };
            for (i, (a, b)) in grads(&fused).iter().zip(grads(&reference)).enumerate() {
                close(
                    a.as_ref().unwrap(),
                    b.as_ref().unwrap(),
                    &format!("grad {i}"),
                );
            }
        }
    }

    /// Causal attention, fused (a triangle of -inf in the kernel) and composed (an additive mask),
    /// for square, wide and tall score matrices, with a mask and dropout on top; gradients pass
    /// gradcheck; a later key does not change an earlier query's output.
    #[test]
    fn causal_attention_fused_matches_composed_and_ignores_later_keys() {
        for (lq, lk) in [(4, 4), (3, 5), (5, 3)] {
            let q = random_leaf(&[2, lq, 4], 20);
            let k = random_leaf(&[2, lk, 4], 21);
            let v = random_leaf(&[2, lk, 3], 22);
            let mask = random_leaf(&[lq, lk], 23).detach();
            for p in [0.0, 0.25] {
                let fused = seeded(3, || {
                    q.scaled_dot_product_attention(&k, &v, Some(&mask), p, None, true)
                        .unwrap()
                });
                let reference = seeded(3, || {
                    composed(&q, &k, &v, Some(&mask), p, 0.5, true).unwrap()
                });
                close(&fused, &reference, "causal output");
            }
            gradcheck(
                |t| t[0].scaled_dot_product_attention(&t[1], &t[2], None, 0.0, None, true),
                &[q.clone(), k.clone(), v.clone()],
                1e-3,
                1e-2,
            );
            // Changing the last key and value leaves every query row before it unchanged.
            let out = |k: &Tensor, v: &Tensor| {
                q.scaled_dot_product_attention(k, v, None, 0.0, None, true)
                    .unwrap()
                    .to_vec::<f32>()
                    .unwrap()
            };
            let (k2, v2) = (k.affine(1.0, 0.0).unwrap(), v.affine(1.0, 0.0).unwrap());
            let last = |t: &Tensor| {
                let rows = t.dim(-2).unwrap();
                let bump = (0..t.numel())
                    .map(|i| {
                        if (i / t.dim(-1).unwrap()) % rows == rows - 1 {
                            3.0
                        } else {
                            0.0
                        }
                    })
                    .collect();
                t.add(&Tensor::from_vec(bump, t.shape()).unwrap()).unwrap()
            };
            let (before, after) = (out(&k2, &v2), out(&last(&k2), &last(&v2)));
            for (i, (a, b)) in before.iter().zip(&after).enumerate() {
                let row = (i / 3) % lq;
                if row + 1 < lk {
                    assert_eq!(a, b, "row {row} saw key {}", lk - 1);
                } else {
                    assert_ne!(a, b, "row {row} should see the last key");
                }
            }
        }
    }

    /// Finite differences agree with the fused backward, with a mask and with dropout (reseeded
    /// per call so every evaluation drops the same elements).
    #[test]
    fn fused_attention_gradchecks() {
        let q = random_leaf(&[2, 3, 4], 6);
        let k = random_leaf(&[2, 5, 4], 7);
        let v = random_leaf(&[2, 5, 3], 8);
        let mask = random_leaf(&[3, 5], 9).detach();
        for p in [0.0, 0.3] {
            gradcheck(
                |t| {
                    seeded(4, || {
                        t[0].scaled_dot_product_attention(&t[1], &t[2], Some(&mask), p, None, false)
                    })
                },
                &[q.clone(), k.clone(), v.clone()],
                1e-3,
                1e-2,
            );
        }
    }

    #[test]
    fn attention_rejects_mismatched_operands() {
        let (q, k) = (random_leaf(&[2, 3, 4], 1), random_leaf(&[2, 5, 4], 2));
        let v = random_leaf(&[2, 6, 4], 3);
        let err = q
            .scaled_dot_product_attention(&k, &v, None, 0.0, None, false)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("[2, 6, 4]") && err.contains("[..., Lk, dv]"),
            "{err}"
        );
        let v = random_leaf(&[2, 5, 4], 3);
        let mask = random_leaf(&[4, 5], 4);
        let err = q
            .scaled_dot_product_attention(&k, &v, Some(&mask), 0.0, None, false)
            .unwrap_err()
            .to_string();
        assert!(err.contains("mask [4, 5] does not broadcast"), "{err}");
        let err = q
            .scaled_dot_product_attention(&k, &v, None, 1.5, None, false)
            .unwrap_err()
            .to_string();
        assert!(err.contains("dropout_p"), "{err}");
    }
}
