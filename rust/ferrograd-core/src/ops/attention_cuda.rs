//! Scaled dot-product attention on a GPU as flash attention (`cuda/attention.rs`): the output and
//! each query row's log-sum-exp come from one kernel, and the backward pass recomputes the
//! probabilities from them, so the [Lq, Lk] scores are never stored.

use std::sync::Arc;

use super::attention::SliceLayout;
use crate::cpu::attention::AttentionDims;
use crate::cuda::attention::{backward, forward, Operand};
use crate::cuda::products::Products;
use crate::{Layout, Result, Storage, Tensor};

const OP: &str = "scaled_dot_product_attention";

/// The tensors and their slice layouts (q, k, v, then the mask's).
struct Inputs {
    tensors: [Tensor; 3],
    mask: Option<Tensor>,
    layouts: [SliceLayout; 3],
    mask_layout: Option<SliceLayout>,
}

impl Inputs {
    /// Runs `body` with the operands' device buffers borrowed.
    fn with_operands<R>(
        &self,
        body: impl FnOnce([&Operand; 3], Option<&Operand>) -> Result<R>,
    ) -> Result<R> {
        let guards = self
            .tensors
            .iter()
            .map(|t| t.storage())
            .collect::<Result<Vec<_>>>()?;
        let mask_guard = self.mask.as_ref().map(|m| m.storage()).transpose()?;
        let ops = [
            operand(&guards[0], &self.layouts[0])?,
            operand(&guards[1], &self.layouts[1])?,
            operand(&guards[2], &self.layouts[2])?,
        ];
        let mask = match (&mask_guard, &self.mask_layout) {
            (Some(s), Some(l)) => Some(operand(s, l)?),
            _ => None,
        };
        body([&ops[0], &ops[1], &ops[2]], mask.as_ref())
    }
}

/// The kernels' view of one operand.
fn operand<'a>(storage: &'a Storage, l: &'a SliceLayout) -> Result<Operand<'a>> {
    Ok(Operand {
        data: storage.cuda(OP)?,
        starts: &l.starts,
        row_stride: l.row_stride,
        col_stride: l.col_stride,
    })
}

/// The attention of `q`, `k`, `v` (on one GPU; batch axes `batch`) with an optional additive
/// `mask` that needs no gradient, as flash attention with its backward pass recorded. With
/// `Products::Bf16` (q, k, v and the output's gradient hold bf16 values) both passes may run on
/// bf16 tensor cores.
#[allow(clippy::too_many_arguments)]
pub(super) fn flash_attention(
    q: &Tensor,
    k: &Tensor,
    v: &Tensor,
    mask: Option<&Tensor>,
    layouts: [SliceLayout; 3],
    mask_layout: Option<SliceLayout>,
    dims: AttentionDims,
    products: Products,
    batch: &[usize],
) -> Result<Tensor> {
    let inputs = Arc::new(Inputs {
        tensors: [q.clone(), k.clone(), v.clone()],
        mask: mask.cloned(),
        layouts,
        mask_layout,
    });
    let (out, lse) =
        inputs.with_operands(|[q, k, v], mask| forward(q, k, v, mask, dims, products))?;
    let shape = [batch, &[dims.lq, dims.dv]].concat();
    let lse = Tensor::from_storage(
        Storage::Cuda(lse),
        Layout::contiguous(&[dims.slices, dims.lq]),
    );
    let batch = batch.to_vec();
    Ok(Tensor::from_op_saving_output(
        Storage::Cuda(out),
        &shape,
        OP,
        &[q, k, v],
        move |out| {
            Box::new(move |g| {
                let g = g.contiguous()?;
                // delta_i = sum_c dO_ic O_ic, the row term of softmax's backward.
                let delta = g.mul(&out)?.sum(&[-1], false)?.contiguous()?;
                let (gs, ds, ls) = (g.storage()?, delta.storage()?, lse.storage()?);
                let grads = inputs.with_operands(|[q, k, v], mask| {
                    backward(
                        q,
                        k,
                        v,
                        mask,
                        dims,
                        products,
                        ls.cuda(OP)?,
                        ds.cuda(OP)?,
                        gs.cuda(OP)?,
                    )
                })?;
                let shapes = [
                    [&batch[..], &[dims.lq, dims.d]].concat(),
                    [&batch[..], &[dims.lk, dims.d]].concat(),
                    [&batch[..], &[dims.lk, dims.dv]].concat(),
                ];
                let grads = grads.into_iter().zip(shapes).map(|(grad, shape)| {
                    Tensor::from_storage(Storage::Cuda(grad), Layout::contiguous(&shape))
                });
                super::attention::input_grads(grads, &inputs.tensors)
            })
        },
    ))
}
