//! Layer and batch normalisation's gradients as recorded ops, for create_graph walks: the
//! normalisation is recomposed from means, squares and a square root (all twice
//! differentiable) and differentiated with a nested recorded walk
//! (`double_backward::recomposed`). The fused kernels stay the first-order path.

use crate::double_backward::recomposed;
use crate::{Result, Tensor};

/// `(x - mean) / sqrt(var + eps)` over `axes`, with the biased variance of `x` there, or with
/// the fixed statistics `stats` (running mean and variance, shaped to broadcast).
fn standardized(
    x: &Tensor,
    axes: &[isize],
    stats: Option<&(Tensor, Tensor)>,
    eps: f32,
) -> Result<Tensor> {
    let (mean, var) = match stats {
        Some((mean, var)) => (mean.clone(), var.clone()),
        None => {
            let mean = x.mean(axes, true)?;
            let var = x.sub(&mean)?.square()?.mean(axes, true)?;
            (mean, var)
        }
    };
    x.sub(&mean)?.div(&var.add_scalar(eps)?.sqrt()?)
}

/// `y * weight + bias` for the inputs after `x` in `[x, weight?, bias?]`, each reshaped to `shape`.
fn scaled(y: Tensor, params: &[Tensor], affine: (bool, bool), shape: &[usize]) -> Result<Tensor> {
    let (weight, bias) = match affine {
        (true, true) => (params.first(), params.get(1)),
        (true, false) => (params.first(), None),
        (false, true) => (None, params.first()),
        (false, false) => (None, None),
    };
    let y = match weight {
        Some(w) => y.mul(&w.reshape(shape)?)?,
        None => y,
    };
    match bias {
        Some(b) => y.add(&b.reshape(shape)?),
        None => Ok(y),
    }
}

/// Layer norm's recorded gradients over the trailing `normalized` axes, for the inputs
/// `[x, weight?, bias?]`.
pub(crate) fn layer_norm_gradients(
    g: &Tensor,
    inputs: &[Tensor],
    normalized: &[usize],
    affine: (bool, bool),
    eps: f32,
) -> Result<Vec<Option<Tensor>>> {
    let axes: Vec<isize> = (1..=normalized.len() as isize).map(|k| -k).collect();
    recomposed(inputs, g, |t| {
        scaled(
            standardized(&t[0], &axes, None, eps)?,
            &t[1..],
            affine,
            normalized,
        )
    })
}

/// Batch norm's recorded gradients over every axis but the channels (axis 1), for the inputs
/// `[x, weight?, bias?]`; `running` holds the fixed statistics (per channel) when the batch's are
/// not used.
pub(crate) fn batch_norm_gradients(
    g: &Tensor,
    inputs: &[Tensor],
    affine: (bool, bool),
    running: Option<(Tensor, Tensor)>,
    eps: f32,
) -> Result<Vec<Option<Tensor>>> {
    let x = &inputs[0];
    let mut channel_shape = vec![1; x.rank()];
    channel_shape[1] = x.shape()[1];
    let axes: Vec<isize> = (0..x.rank() as isize).filter(|&a| a != 1).collect();
    let stats = running
        .map(|(m, v)| -> Result<_> { Ok((m.reshape(&channel_shape)?, v.reshape(&channel_shape)?)) })
        .transpose()?;
    recomposed(inputs, g, |t| {
        let y = standardized(&t[0], &axes, stats.as_ref(), eps)?;
        scaled(y, &t[1..], affine, &channel_shape)
    })
}
