//! Batch norm on CUDA: the per-channel kernels of `cuda/batch_norm.rs` compute the statistics,
//! apply the normalisation and give the input gradient; the per-channel coefficients in between
//! are `[C]` vector ops (a few small launches, no host round trip).

use crate::cuda::batch_norm::{channel_affine, channel_sums, grad_sums, Dims};
use crate::cuda::CudaStorage;
use crate::{DType, Error, Layout, NoGradGuard, Result, Storage, Tensor};

/// A `[len]` tensor over a fresh device buffer.
fn vector(s: CudaStorage, len: usize) -> Tensor {
    Tensor::from_storage(Storage::Cuda(s), Layout::contiguous(&[len]))
}

/// `a * u + b * v + k` channel-wise over contiguous `[N, C, S]` tensors.
fn affine(
    u: &Tensor,
    v: &Tensor,
    (a, b, k): (&Tensor, &Tensor, &Tensor),
    dims: Dims,
) -> Result<CudaStorage> {
    let (su, sv) = (u.storage()?, v.storage()?);
    let (sa, sb, sk) = (a.contiguous()?, b.contiguous()?, k.contiguous()?);
    let (sa, sb, sk) = (sa.storage()?, sb.storage()?, sk.storage()?);
    let op = "batch_norm";
    channel_affine(
        (su.cuda(op)?, sv.cuda(op)?),
        (sa.cuda(op)?, sb.cuda(op)?, sk.cuda(op)?),
        dims,
    )
}

/// Batch norm of `x` (`[N, C, ...]`, on a GPU) with the semantics of `ops::norm::batch_norm`.
pub(super) fn batch_norm_cuda(
    x: &Tensor,
    running: Option<(&Tensor, &Tensor)>,
    (weight, bias): (Option<&Tensor>, Option<&Tensor>),
    training: bool,
    momentum: f32,
    eps: f32,
) -> Result<Tensor> {
    const OP: &str = "batch_norm";
    let (n, c) = (x.shape()[0], x.shape()[1]);
    let s: usize = x.shape()[2..].iter().product();
    let dims = (n, c, s);
    let count = n * s;
    if training && count <= 1 {
        return Err(Error::shape(
            OP,
            format!(
                "expected more than 1 value per channel when training, got input of shape {:?}",
                x.shape()
            ),
        ));
    }
    let xc = x.contiguous()?.detach();
    let use_batch = training || running.is_none();
    // The statistics and coefficients stay off the graph; the output's node (below) carries the
    // whole backward.
    let no_grad = NoGradGuard::new();
    let (mean, var) = match running {
        Some((rm, rv)) if !use_batch => (rm.detach().contiguous()?, rv.detach().contiguous()?),
        _ => {
            let sums = vector(channel_sums(xc.storage()?.cuda(OP)?, None, dims)?, c);
            let mean = sums.mul_scalar(1.0 / count as f32)?;
            let squares = {
                let (sx, sm) = (xc.storage()?, mean.storage()?);
                channel_sums(sx.cuda(OP)?, Some(sm.cuda(OP)?), dims)?
            };
            (mean, vector(squares, c).mul_scalar(1.0 / count as f32)?)
        }
    };
    if let (true, Some((rm, rv))) = (training, running) {
        let unbiased = var.mul_scalar(count as f32 / (count - 1) as f32)?;
        rm.assign(
            &rm.mul_scalar(1.0 - momentum)?
                .add(&mean.mul_scalar(momentum)?)?,
        )?;
        rv.assign(
            &rv.mul_scalar(1.0 - momentum)?
                .add(&unbiased.mul_scalar(momentum)?)?,
        )?;
    }
    let inv_std = var.add_scalar(eps)?.sqrt()?.recip()?;
    let gamma = weight.map(|w| w.detach());
    let scale = match &gamma {
        Some(g) => g.mul(&inv_std)?,
        None => inv_std.clone(),
    };
    let zeros = Tensor::zeros(&[c], DType::F32, x.device())?;
    let shift = match bias {
        Some(b) => b.detach().sub(&mean.mul(&scale)?)?,
        None => mean.mul(&scale)?.neg()?,
    };
    let y = affine(&xc, &xc, (&scale, &zeros, &shift), dims)?;
    drop(no_grad);
    let inputs = super::norm::norm_inputs(x, weight, bias);
    let (has_w, has_b) = (weight.is_some(), bias.is_some());
    let shape = x.shape().to_vec();
    let operands: Vec<Tensor> = inputs.iter().map(|t| (*t).clone()).collect();
    let running = (!use_batch).then(|| (mean.clone(), var.clone()));
    Ok(Tensor::from_op(
        Storage::Cuda(y),
        &shape.clone(),
        OP,
        &inputs,
        Box::new(move |g| {
            if crate::autograd::is_grad_enabled() {
                let (affine, running) = ((has_w, has_b), running.clone());
                return super::norm_recorded::batch_norm_gradients(
                    g, &operands, affine, running, eps,
                );
            }
            let dy = g.contiguous()?;
            let sums = {
                let (sdy, sx, sm, si) = (
                    dy.storage()?,
                    xc.storage()?,
                    mean.storage()?,
                    inv_std.storage()?,
                );
                vector(
                    grad_sums(
                        sdy.cuda(OP)?,
                        sx.cuda(OP)?,
                        (sm.cuda(OP)?, si.cuda(OP)?),
                        dims,
                    )?,
                    2 * c,
                )
            };
            let (sum_dy, sum_dyx) = (sums.narrow(0, 0, c)?, sums.narrow(0, c, c)?);
            // dx = k (dy - mean(dy) - xhat mean(dy xhat)) with k = gamma * inv_std, written as
            // a dy + b x + k0 per channel; with running statistics only the a dy term remains.
            let (a, b, k0) = if use_batch {
                let m = count as f32;
                let b = scale.mul(&inv_std)?.mul(&sum_dyx)?.mul_scalar(-1.0 / m)?;
                let k0 = scale
                    .mul(&sum_dy)?
                    .mul_scalar(-1.0 / m)?
                    .sub(&b.mul(&mean)?)?;
                (scale.clone(), b, k0)
            } else {
                (scale.clone(), zeros.clone(), zeros.clone())
            };
            let dx = affine(&dy, &xc, (&a, &b, &k0), dims)?;
            let dx = Tensor::from_storage(Storage::Cuda(dx), Layout::contiguous(&shape));
            let dw = has_w.then(|| sum_dyx.contiguous()).transpose()?;
            let db = has_b.then(|| sum_dy.contiguous()).transpose()?;
            Ok(super::norm::norm_grads(dx, dw, db))
        }),
    ))
}
