//! Matrix products with torch.matmul's rules: 1-D operands are promoted, batch axes broadcast.

use crate::cpu::gemm::batched_matmul;
use crate::layout::broadcast_shapes;
use crate::{CpuStorage, Error, Result, Storage, Tensor};

impl Tensor {
    /// Matrix product (`@`).
    pub fn matmul(&self, rhs: &Tensor) -> Result<Tensor> {
        if let Some(out) = crate::autocast::lowered(&[self, rhs], true, |t| t[0].matmul(&t[1])) {
            return out;
        }
        // Operands of one half type only: PyTorch's products refuse mixed dtypes.
        if let Some(dtype) = super::half_result(&[self, rhs]).filter(|&d| d != crate::DType::F32) {
            return super::widened(&[self, rhs], dtype, |t| t[0].matmul(&t[1]));
        }
        super::expect_f32("matmul", self)?;
        super::expect_f32("matmul", rhs)?;
        super::same_device("matmul", self, rhs)?;
        if self.rank() == 0 || rhs.rank() == 0 {
            return Err(Error::shape(
                "matmul",
                "both arguments need at least one dimension",
            ));
        }
        // Promote vectors to matrices and remember which axes to drop at the end.
        let a = if self.rank() == 1 {
            self.unsqueeze(0)?
        } else {
            self.clone()
        };
        let b = if rhs.rank() == 1 {
            rhs.unsqueeze(1)?
        } else {
            rhs.clone()
        };
        let out = if a.rank() > 2 && b.rank() == 2 {
            // [..., M, K] @ [K, N] is one [(...)*M, K] @ [K, N] product: a single large GEMM
            // (packing the weight once), and in backward the weight gradient is one product too
            // instead of a batch of products summed afterwards.
            let k = a.shape()[a.rank() - 1];
            let rows = a.shape()[..a.rank() - 1].iter().product();
            let shape = [&a.shape()[..a.rank() - 1], &b.shape()[1..]].concat();
            a.reshape(&[rows, k])?.matmul_nd(&b)?.reshape(&shape)?
        } else {
            a.matmul_nd(&b)?
        };
        let mut shape = out.shape().to_vec();
        if rhs.rank() == 1 {
            shape.pop();
        }
        if self.rank() == 1 {
            shape.remove(shape.len() - if rhs.rank() == 1 { 1 } else { 2 });
        }
        out.reshape(&shape)
    }

    /// Product of operands of rank >= 2 with broadcast batch axes.
    fn matmul_nd(&self, rhs: &Tensor) -> Result<Tensor> {
        let (ra, rb) = (self.rank(), rhs.rank());
        let (m, k) = (self.shape()[ra - 2], self.shape()[ra - 1]);
        let (k2, n) = (rhs.shape()[rb - 2], rhs.shape()[rb - 1]);
        crate::ensure_shape!(
            k == k2,
            "matmul",
            "shapes {:?} and {:?} cannot be multiplied ({k} != {k2})",
            self.shape(),
            rhs.shape()
        );
        let batch_shape =
            broadcast_shapes("matmul", &self.shape()[..ra - 2], &rhs.shape()[..rb - 2])?;
        let batch: usize = batch_shape.iter().product();
        let full = |t: &Tensor, r: usize, c: usize| -> Result<crate::Layout> {
            let mut s = batch_shape.clone();
            s.extend([r, c]);
            let l = t.layout().broadcast_to(&s)?;
            // Collapse the batch axes into one; strides must be uniform, so copy when they are not.
            collapse_batch(&l, batch)
        };
        let (a, b) = (
            self.contiguous_if_needed(&batch_shape, m, k)?,
            rhs.contiguous_if_needed(&batch_shape, k, n)?,
        );
        let (mut la, mut lb) = (full(&a, m, k)?, full(&b, k, n)?);
        let on_gpu = matches!(self.device(), crate::Device::Cuda(_));
        // cuBLAS reads a matrix with a unit row or column stride; anything else is copied once.
        let a = if on_gpu && !crate::cuda::gemm::readable(&la) {
            let c = a
                .expand(&[&batch_shape[..], &[m, k]].concat())?
                .contiguous()?;
            la = full(&c, m, k)?;
            c
        } else {
            a
        };
        let b = if on_gpu && !crate::cuda::gemm::readable(&lb) {
            let c = b
                .expand(&[&batch_shape[..], &[k, n]].concat())?
                .contiguous()?;
            lb = full(&c, k, n)?;
            c
        } else {
            b
        };
        let bf16_operands = crate::autocast::bf16_operands();
        let out = {
            let (sa, sb) = (a.storage()?, b.storage()?);
            match (&*sa, &*sb) {
                (Storage::Cpu(_), Storage::Cpu(_)) => Storage::Cpu(CpuStorage::F32(
                    batched_matmul(sa.f32s("matmul")?, &la, sb.f32s("matmul")?, &lb, None),
                )),
                (Storage::Cuda(x), Storage::Cuda(y)) => Storage::Cuda(
                    crate::cuda::gemm::batched_matmul(x, &la, y, &lb, bf16_operands)?,
                ),
                _ => return Err(super::mixed_devices("matmul", self, rhs)),
            }
        };
        let mut shape = batch_shape;
        shape.extend([m, n]);
        let (x, y) = (self.clone(), rhs.clone());
        Ok(Tensor::from_op(
            out,
            &shape,
            "matmul",
            &[self, rhs],
            Box::new(move |g| {
                // The backward products multiply bf16 values too when the forward one did (the
                // gradient reaching a lowered product is rounded), wherever backward runs.
                let _exact = crate::autocast::Bf16OperandsGuard::new(bf16_operands);
                // A transposed 2-D operand (a linear layer's `weight.T`) gets its gradient as
                // the transpose of a contiguous product, so the gradient reaching the weight
                // is contiguous and needs no transposing copy.
                let ga = if !x.requires_grad() {
                    None
                } else if is_transposed_matrix(&x) && y.rank() == 2 && g.rank() == 2 {
                    Some(y.matmul_nd(&g.transpose(-1, -2)?)?.transpose(-1, -2)?)
                } else {
                    Some(g.matmul_nd(&y.transpose(-1, -2)?)?.sum_to(x.shape())?)
                };
                let gb = if !y.requires_grad() {
                    None
                } else if is_transposed_matrix(&y) && x.rank() == 2 && g.rank() == 2 {
                    Some(g.transpose(-1, -2)?.matmul_nd(&x)?.transpose(-1, -2)?)
                } else {
                    Some(x.transpose(-1, -2)?.matmul_nd(g)?.sum_to(y.shape())?)
                };
                Ok(vec![ga, gb])
            }),
        ))
    }

    /// This tensor, or a contiguous copy when its batch axes cannot be collapsed into one stride.
    fn contiguous_if_needed(&self, batch_shape: &[usize], r: usize, c: usize) -> Result<Tensor> {
        let mut s = batch_shape.to_vec();
        s.extend([r, c]);
        let l = self.layout().broadcast_to(&s)?;
        if collapse_batch(&l, batch_shape.iter().product()).is_ok() {
            Ok(self.clone())
        } else {
            // Batch axes broadcast in both operands: materialise the broadcast copy once.
            let _guard = crate::NoGradGuard::new();
            self.expand(&s)?.contiguous()
        }
    }
}

/// A 2-D view stored column-major (the transpose of a contiguous matrix).
fn is_transposed_matrix(t: &Tensor) -> bool {
    let (shape, strides) = (t.shape(), t.layout().strides());
    t.rank() == 2 && shape[0] > 1 && shape[1] > 1 && strides[0] == 1 && strides[1] == shape[0]
}

/// Views [b1, ..., bn, r, c] as [B, r, c] when the batch axes step uniformly (or all broadcast).
fn collapse_batch(l: &crate::Layout, batch: usize) -> Result<crate::Layout> {
    let rank = l.rank();
    let (shape, strides) = (l.shape(), l.strides());
    let batch_axes: Vec<usize> = (0..rank - 2).filter(|&i| shape[i] != 1).collect();
    let stride = if batch_axes.iter().all(|&i| strides[i] == 0) {
        0
    } else {
        // Row-major over the non-trivial batch axes with no gaps and no broadcasting.
        let mut expected = strides[*batch_axes.last().unwrap_or(&0)];
        for &i in batch_axes.iter().rev() {
            if strides[i] != expected || expected == 0 {
                return Err(Error::shape(
                    "matmul",
                    "batch axes are not uniformly strided",
                ));
            }
            expected *= shape[i];
        }
        batch_axes.last().map(|&i| strides[i]).unwrap_or(0)
    };
    Ok(crate::Layout::new(
        vec![batch, shape[rank - 2], shape[rank - 1]],
        vec![stride, strides[rank - 2], strides[rank - 1]],
        l.offset(),
    ))
}
