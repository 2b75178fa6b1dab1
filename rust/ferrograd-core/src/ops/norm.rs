//! batch_norm and layer_norm as fused kernels with closed-form backward passes.

use super::norm_recorded::{batch_norm_gradients, layer_norm_gradients};
use crate::cpu::norm::{
    channel_affine, channel_backward, channel_grad_sums, channel_stats, layer_norm_backward_rows,
    layer_norm_rows,
};
use crate::{CpuStorage, Error, Result, Storage, Tensor};

fn check_shape(op: &'static str, name: &str, t: &Tensor, len: usize) -> Result<()> {
    if t.shape() != [len] {
        return Err(Error::arg(
            op,
            name,
            format!("a tensor of shape [{len}]"),
            format!("shape {:?}", t.shape()),
        ));
    }
    Ok(())
}

/// A normalisation's autograd inputs: `x`, then the weight and the bias when given.
pub(super) fn norm_inputs<'a>(
    x: &'a Tensor,
    weight: Option<&'a Tensor>,
    bias: Option<&'a Tensor>,
) -> Vec<&'a Tensor> {
    std::iter::once(x).chain(weight).chain(bias).collect()
}

/// Gradients in `norm_inputs` order: `dx`, then the weight's and the bias's when those are inputs.
pub(super) fn norm_grads(
    dx: Tensor,
    weight: Option<Tensor>,
    bias: Option<Tensor>,
) -> Vec<Option<Tensor>> {
    std::iter::once(Some(dx))
        .chain(weight.map(Some))
        .chain(bias.map(Some))
        .collect()
}

fn check_vector(
    op: &'static str,
    name: &str,
    t: Option<&Tensor>,
    len: usize,
) -> Result<Option<Vec<f32>>> {
    t.map(|t| {
        check_shape(op, name, t, len)?;
        t.to_vec::<f32>()
    })
    .transpose()
}

/// Layer norm on CUDA: the fused row kernels for y and dx; the weight and bias gradients are
/// column sums over rows (reduction kernels).
fn layer_norm_cuda(
    x: &Tensor,
    normalized_shape: &[usize],
    (weight, bias): (Option<&Tensor>, Option<&Tensor>),
    eps: f32,
) -> Result<Tensor> {
    const OP: &str = "layer_norm";
    for t in weight.iter().chain(bias.iter()) {
        super::same_device(OP, x, t)?;
    }
    let d: usize = normalized_shape.iter().product();
    let xc = x.contiguous()?.detach();
    let rows = xc.numel() / d.max(1);
    let wc = weight
        .map(|w| w.contiguous().map(|w| w.detach()))
        .transpose()?;
    let bc = bias.map(|b| b.contiguous()).transpose()?;
    let fwd = {
        let sx = xc.storage()?;
        let sw = wc.as_ref().map(|t| t.storage()).transpose()?;
        let sb = bc.as_ref().map(|t| t.storage()).transpose()?;
        crate::cuda::norm::layer_norm(
            sx.cuda(OP)?,
            (rows, d),
            sw.as_ref().map(|s| s.cuda(OP)).transpose()?,
            sb.as_ref().map(|s| s.cuda(OP)).transpose()?,
            eps,
        )?
    };
    let stat = |s| Tensor::from_storage(Storage::Cuda(s), crate::Layout::contiguous(&[rows, 1]));
    let (mean, inv_std) = (stat(fwd.mean), stat(fwd.inv_std));
    let inputs = norm_inputs(x, weight, bias);
    let (has_w, has_b) = (weight.is_some(), bias.is_some());
    let (shape, norm_shape) = (x.shape().to_vec(), normalized_shape.to_vec());
    let operands: Vec<Tensor> = inputs.iter().map(|t| (*t).clone()).collect();
    Ok(Tensor::from_op(
        Storage::Cuda(fwd.y),
        &shape.clone(),
        OP,
        &inputs,
        Box::new(move |g| {
            if crate::autograd::is_grad_enabled() {
                let affine = (has_w, has_b);
                return layer_norm_gradients(g, &operands, &norm_shape, affine, eps);
            }
            let dy = g.contiguous()?;
            let dx = {
                let (sdy, sx, sm, ss) = (
                    dy.storage()?,
                    xc.storage()?,
                    mean.storage()?,
                    inv_std.storage()?,
                );
                let sw = wc.as_ref().map(|t| t.storage()).transpose()?;
                crate::cuda::norm::layer_norm_backward(
                    sdy.cuda(OP)?,
                    sx.cuda(OP)?,
                    (sm.cuda(OP)?, ss.cuda(OP)?),
                    sw.as_ref().map(|s| s.cuda(OP)).transpose()?,
                    (rows, d),
                )?
            };
            let dx = Tensor::from_storage(Storage::Cuda(dx), crate::Layout::contiguous(&shape));
            let dy_rows = dy.reshape(&[rows, d])?;
            let dw = has_w
                .then(|| {
                    let xhat = xc.reshape(&[rows, d])?.sub(&mean)?.mul(&inv_std)?;
                    dy_rows.mul(&xhat)?.sum(&[0], false)?.reshape(&norm_shape)
                })
                .transpose()?;
            let db = has_b
                .then(|| dy_rows.sum(&[0], false)?.reshape(&norm_shape))
                .transpose()?;
            Ok(norm_grads(dx, dw, db))
        }),
    ))
}

/// Batch normalisation over [N, C] or [N, C, ...]. In training (or without running statistics)
/// the batch's statistics normalise; running statistics, when given and training, are updated in
/// place as `(1 - momentum) * running + momentum * batch` (unbiased variance), as in PyTorch.
#[allow(clippy::too_many_arguments)]
pub fn batch_norm(
    x: &Tensor,
    running_mean: Option<&Tensor>,
    running_var: Option<&Tensor>,
    weight: Option<&Tensor>,
    bias: Option<&Tensor>,
    training: bool,
    momentum: f32,
    eps: f32,
) -> Result<Tensor> {
    const OP: &str = "batch_norm";
    super::expect_f32(OP, x)?;
    crate::ensure_shape!(
        x.rank() >= 2,
        OP,
        "input must be [N, C] or [N, C, ...], got {:?}",
        x.shape()
    );
    if x.is_channels_last_only() {
        // Per-channel statistics of [N, C, H, W] are column statistics of its [N * H * W, C]
        // rows, which a channels-last tensor holds row-major: normalise those and keep the format.
        let [n, c, h, w] = [x.shape()[0], x.shape()[1], x.shape()[2], x.shape()[3]];
        return Tensor::in_nhwc_order(&[x], |v| {
            let rows = v[0].reshape(&[n * h * w, c])?;
            batch_norm(
                &rows,
                running_mean,
                running_var,
                weight,
                bias,
                training,
                momentum,
                eps,
            )?
            .reshape(&[n, h, w, c])
        });
    }
    let (n, c) = (x.shape()[0], x.shape()[1]);
    let s: usize = x.shape()[2..].iter().product();
    if let crate::Device::Cuda(_) = x.device() {
        for (name, t) in [
            ("weight", weight),
            ("bias", bias),
            ("running_mean", running_mean),
            ("running_var", running_var),
        ] {
            if let Some(t) = t {
                check_shape(OP, name, t, c)?;
                super::same_device(OP, x, t)?;
            }
        }
        let running = running_mean.zip(running_var);
        return super::batch_norm_cuda::batch_norm_cuda(
            x,
            running,
            (weight, bias),
            training,
            momentum,
            eps,
        );
    }
    let gamma = check_vector(OP, "weight", weight, c)?;
    let beta = check_vector(OP, "bias", bias, c)?;
    let rm = check_vector(OP, "running_mean", running_mean, c)?;
    let rv = check_vector(OP, "running_var", running_var, c)?;
    let use_batch = training || rm.is_none() || rv.is_none();
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
    let xc = x.contiguous()?;
    let (mean, var) = match (use_batch, &rm, &rv) {
        (false, Some(m), Some(v)) => (m.clone(), v.clone()),
        _ => xc.with_f32_slice(OP, |xv| channel_stats(xv, n, c, s))?,
    };
    if training {
        if let (Some(rmt), Some(rvt), Some(m0), Some(v0)) = (running_mean, running_var, &rm, &rv) {
            let unbias = count as f32 / (count - 1) as f32;
            let new_m: Vec<f32> = m0
                .iter()
                .zip(&mean)
                .map(|(r, b)| (1.0 - momentum) * r + momentum * b)
                .collect();
            let new_v: Vec<f32> = v0
                .iter()
                .zip(&var)
                .map(|(r, b)| (1.0 - momentum) * r + momentum * b * unbias)
                .collect();
            rmt.assign(&Tensor::from_vec(new_m, &[c])?)?;
            rvt.assign(&Tensor::from_vec(new_v, &[c])?)?;
        }
    }
    let inv_std: Vec<f32> = var.iter().map(|v| 1.0 / (v + eps).sqrt()).collect();
    let scale: Vec<f32> = (0..c)
        .map(|i| gamma.as_ref().map_or(1.0, |g| g[i]) * inv_std[i])
        .collect();
    let shift: Vec<f32> = (0..c)
        .map(|i| beta.as_ref().map_or(0.0, |b| b[i]) - mean[i] * scale[i])
        .collect();
    let y = xc.with_f32_slice(OP, |xv| channel_affine(xv, c, s, &scale, &shift))??;
    let inputs = norm_inputs(x, weight, bias);
    let (has_w, has_b) = (weight.is_some(), bias.is_some());
    let shape = x.shape().to_vec();
    let operands: Vec<Tensor> = inputs.iter().map(|t| (*t).clone()).collect();
    Ok(Tensor::from_op(
        Storage::Cpu(CpuStorage::F32(y)),
        &shape.clone(),
        OP,
        &inputs,
        Box::new(move |g| {
            if crate::autograd::is_grad_enabled() {
                let running = match use_batch {
                    true => None,
                    false => Some((
                        Tensor::from_vec(mean.clone(), &[c])?,
                        Tensor::from_vec(var.clone(), &[c])?,
                    )),
                };
                return batch_norm_gradients(g, &operands, (has_w, has_b), running, eps);
            }
            let (dx, sum_dy, sum_dyx) = g.with_f32_slice(OP, |dy| {
                xc.with_f32_slice(OP, |xv| -> Result<_> {
                    let (sum_dy, sum_dyx) = channel_grad_sums(dy, xv, n, c, s, &mean, &inv_std);
                    let dx = if use_batch {
                        let m = count as f32;
                        let mean_dy: Vec<f32> = sum_dy.iter().map(|v| v / m).collect();
                        let mean_dyx: Vec<f32> = sum_dyx.iter().map(|v| v / m).collect();
                        channel_backward(
                            dy, xv, c, s, &scale, &mean, &inv_std, &mean_dy, &mean_dyx,
                        )?
                    } else {
                        channel_affine(dy, c, s, &scale, &vec![0.0; c])?
                    };
                    Ok((dx, sum_dy, sum_dyx))
                })
            })???;
            let dw = has_w.then(|| Tensor::from_vec(sum_dyx, &[c])).transpose()?;
            let db = has_b.then(|| Tensor::from_vec(sum_dy, &[c])).transpose()?;
            Ok(norm_grads(Tensor::from_vec(dx, &shape)?, dw, db))
        }),
    ))
}

/// Layer normalisation over the trailing `normalized_shape` axes.
pub fn layer_norm(
    x: &Tensor,
    normalized_shape: &[usize],
    weight: Option<&Tensor>,
    bias: Option<&Tensor>,
    eps: f32,
) -> Result<Tensor> {
    const OP: &str = "layer_norm";
    if matches!(x.dtype(), crate::DType::F16 | crate::DType::BF16) {
        // PyTorch normalises half inputs in float32 (with float32 or half affine parameters)
        // and rounds the result to the input's dtype once.
        let operands: Vec<&Tensor> = [Some(x), weight, bias].into_iter().flatten().collect();
        return super::widened(&operands, x.dtype(), |t| {
            let mut affine = t[1..].iter();
            let w = weight.and_then(|_| affine.next());
            let b = bias.and_then(|_| affine.next());
            layer_norm(&t[0], normalized_shape, w, b, eps)
        });
    }
    super::expect_f32(OP, x)?;
    let k = normalized_shape.len();
    crate::ensure_shape!(
        k >= 1 && k <= x.rank() && x.shape()[x.rank() - k..] == *normalized_shape,
        OP,
        "normalized_shape {normalized_shape:?} must match the trailing axes of input {:?}",
        x.shape()
    );
    let d: usize = normalized_shape.iter().product();
    for (name, t) in [("weight", weight), ("bias", bias)] {
        if let Some(t) = t {
            crate::ensure_shape!(
                t.shape() == normalized_shape,
                OP,
                "{name} must have shape {normalized_shape:?}, got {:?}",
                t.shape()
            );
        }
    }
    if let crate::Device::Cuda(_) = x.device() {
        return layer_norm_cuda(x, normalized_shape, (weight, bias), eps);
    }
    let gamma = weight.map(|w| w.to_vec::<f32>()).transpose()?;
    let beta = bias.map(|b| b.to_vec::<f32>()).transpose()?;
    let xc = x.contiguous()?;
    let (y, mean, inv_std) = xc.with_f32_slice(OP, |xv| {
        layer_norm_rows(xv, d, eps, gamma.as_deref(), beta.as_deref())
    })??;
    let inputs = norm_inputs(x, weight, bias);
    let (has_w, has_b) = (weight.is_some(), bias.is_some());
    let (shape, norm_shape) = (x.shape().to_vec(), normalized_shape.to_vec());
    let operands: Vec<Tensor> = inputs.iter().map(|t| (*t).clone()).collect();
    Ok(Tensor::from_op(
        Storage::Cpu(CpuStorage::F32(y)),
        &shape.clone(),
        OP,
        &inputs,
        Box::new(move |g| {
            if crate::autograd::is_grad_enabled() {
                let affine = (has_w, has_b);
                return layer_norm_gradients(g, &operands, &norm_shape, affine, eps);
            }
            let (dx, dgamma, dbeta) = g.with_f32_slice(OP, |dy| {
                xc.with_f32_slice(OP, |xv| {
                    layer_norm_backward_rows(dy, xv, d, &mean, &inv_std, gamma.as_deref())
                })
            })???;
            let dw = has_w
                .then(|| Tensor::from_vec(dgamma, &norm_shape))
                .transpose()?;
            let db = has_b
                .then(|| Tensor::from_vec(dbeta, &norm_shape))
                .transpose()?;
            Ok(norm_grads(Tensor::from_vec(dx, &shape)?, dw, db))
        }),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::gradcheck;

    fn leaf(shape: &[usize], seed: u64) -> Tensor {
        crate::testing::random_leaf_with(shape, seed, 0.5, 2.0)
    }

    #[test]
    fn batch_norm_normalises_updates_running_stats_and_differentiates() {
        let x = leaf(&[4, 3, 2, 2], 1);
        let (w, b) = (leaf(&[3], 2), leaf(&[3], 3));
        let rm = Tensor::zeros(&[3], crate::DType::F32, crate::Device::Cpu).unwrap();
        let rv = Tensor::ones(&[3], crate::DType::F32, crate::Device::Cpu).unwrap();
        let y = batch_norm(&x, Some(&rm), Some(&rv), None, None, true, 0.1, 1e-5).unwrap();
        let m = y.mean(&[0, 2, 3], false).unwrap().to_vec::<f32>().unwrap();
        let v = y
            .var(&[0, 2, 3], 0, false)
            .unwrap()
            .to_vec::<f32>()
            .unwrap();
        assert!(
            m.iter().all(|a| a.abs() < 1e-5) && v.iter().all(|a| (a - 1.0).abs() < 1e-3),
            "{m:?} {v:?}"
        );
        let bm = x.mean(&[0, 2, 3], false).unwrap().to_vec::<f32>().unwrap();
        let bv = x
            .var(&[0, 2, 3], 1, false)
            .unwrap()
            .to_vec::<f32>()
            .unwrap();
        let (rmv, rvv) = (rm.to_vec::<f32>().unwrap(), rv.to_vec::<f32>().unwrap());
        for i in 0..3 {
            assert!(
                (rmv[i] - 0.1 * bm[i]).abs() < 1e-5 && (rvv[i] - (0.9 + 0.1 * bv[i])).abs() < 1e-4
            );
        }
        gradcheck(
            |t| batch_norm(&t[0], None, None, Some(&t[1]), Some(&t[2]), true, 0.1, 1e-5),
            &[x.clone(), w.clone(), b.clone()],
            1e-2,
            2e-2,
        );
        gradcheck(
            |t| {
                batch_norm(
                    &t[0],
                    Some(&rm),
                    Some(&rv),
                    Some(&t[1]),
                    Some(&t[2]),
                    false,
                    0.1,
                    1e-5,
                )
            },
            &[x, w, b],
            1e-2,
            2e-2,
        );
    }

    #[test]
    fn layer_norm_matches_definition_and_differentiates() {
        let x = leaf(&[2, 3, 4], 4);
        let (w, b) = (leaf(&[3, 4], 5), leaf(&[3, 4], 6));
        let y = layer_norm(&x, &[3, 4], None, None, 1e-5).unwrap();
        let m = y.mean(&[1, 2], false).unwrap().to_vec::<f32>().unwrap();
        assert!(m.iter().all(|a| a.abs() < 1e-5));
        gradcheck(
            |t| {
                layer_norm(
                    &t[0],
                    &[4],
                    Some(&t[1].narrow(0, 0, 1)?.reshape(&[4])?),
                    Some(&t[2].narrow(0, 1, 1)?.reshape(&[4])?),
                    1e-5,
                )
            },
            &[x.clone(), w.clone(), b.clone()],
            1e-2,
            2e-2,
        );
        gradcheck(
            |t| layer_norm(&t[0], &[3, 4], Some(&t[1]), Some(&t[2]), 1e-5),
            &[x, w, b],
            1e-2,
            2e-2,
        );
    }

    /// Empty inputs (a zero-length axis) give empty outputs and gradients; this used to recurse
    /// without end (an empty layout has no contiguous range) and overflow the stack.
    #[test]
    fn norms_of_empty_tensors_are_empty() {
        let x = Tensor::zeros(&[2, 0], crate::DType::F32, crate::Device::Cpu).unwrap();
        x.set_requires_grad(true).unwrap();
        let y = layer_norm(&x, &[0], None, None, 1e-5).unwrap();
        assert_eq!(y.shape(), [2, 0]);
        y.sum(&[], false).unwrap().backward(None).unwrap();
        assert_eq!(x.grad().unwrap().shape(), [2, 0]);
        let z = Tensor::zeros(&[0, 3, 2], crate::DType::F32, crate::Device::Cpu).unwrap();
        let y = layer_norm(&z, &[3, 2], None, None, 1e-5).unwrap();
        assert_eq!(y.shape(), [0, 3, 2]);
    }
}
