//! conv2d's and conv_transpose2d's backward passes as recorded ops, for create_graph walks (see
//! `double_backward.rs`).
//! The fast backward kernels write plain buffers; here each gradient is itself a differentiable
//! op of the output gradient, the input and the weight, so a penalty on an input gradient
//! (a gradient norm, an alignment term) back-propagates to the weights.

use super::conv_transpose::TransposedConv;
use crate::cpu::conv::ConvGeometry;
use crate::{Result, Tensor};

/// The (input, weight[, bias]) gradients of `conv2d(x, w)` for the output gradient `g`, recorded.
/// The input gradient is the transposed convolution of `g` with `w`; the weight gradient is a
/// convolution of the input with `g` with batch and channels swapped (stride and dilation trade
/// places), cut to the kernel's size; the bias gradient sums `g` per channel.
pub(crate) fn conv2d_gradients(
    g: &Tensor,
    x: &Tensor,
    w: &Tensor,
    geo: &ConvGeometry,
    has_bias: bool,
) -> Result<Vec<Option<Tensor>>> {
    layer_gradients(
        g,
        [x, w],
        has_bias,
        || input_gradient(g, w, geo),
        || weight_gradient(g, x, geo),
    )
}

/// `[dx, dw]` (each computed only if its tensor requires grad) and, with a bias, the output
/// gradient summed per channel.
fn layer_gradients(
    g: &Tensor,
    [x, w]: [&Tensor; 2],
    has_bias: bool,
    dx: impl FnOnce() -> Result<Tensor>,
    dw: impl FnOnce() -> Result<Tensor>,
) -> Result<Vec<Option<Tensor>>> {
    let mut grads = vec![
        x.requires_grad().then(dx).transpose()?,
        w.requires_grad().then(dw).transpose()?,
    ];
    if has_bias {
        grads.push(Some(g.sum(&[0, 2, 3], false)?));
    }
    Ok(grads)
}

/// The (input, weight[, bias]) gradients of `conv_transpose2d(x, w)` for the output gradient
/// `g`, recorded. `geo` is the convolution that the transposed one reverses (from its output's
/// shape back to its input's): the input gradient is that convolution of `g`, and the weight
/// gradient is that convolution's weight gradient with `g` as its input and `x` as its output
/// gradient.
pub(crate) fn conv_transpose2d_gradients(
    g: &Tensor,
    x: &Tensor,
    w: &Tensor,
    geo: &ConvGeometry,
    has_bias: bool,
) -> Result<Vec<Option<Tensor>>> {
    // An output_padding of at least the stride (allowed below the dilation) adds rows that the
    // convolution maps past the input's last one: cut them.
    let dx = || {
        g.conv2d(w, None, geo.stride, geo.padding, geo.dilation, geo.groups)?
            .narrow(2, 0, geo.out_height)?
            .narrow(3, 0, geo.out_width)
    };
    layer_gradients(g, [x, w], has_bias, dx, || weight_gradient(x, g, geo))
}

fn input_gradient(g: &Tensor, w: &Tensor, geo: &ConvGeometry) -> Result<Tensor> {
    let (kh, kw) = geo.kernel;
    // The transposed convolution's output size falls short of the input's by the rows and
    // columns the forward strides skipped: output_padding restores them.
    let reached = |out: usize, k: usize, s: usize, p: usize, d: usize| {
        (out - 1) * s + d * (k - 1) + 1 - 2 * p
    };
    let settings = TransposedConv {
        stride: geo.stride,
        padding: geo.padding,
        output_padding: (
            geo.height
                - reached(
                    geo.out_height,
                    kh,
                    geo.stride.0,
                    geo.padding.0,
                    geo.dilation.0,
                ),
            geo.width
                - reached(
                    geo.out_width,
                    kw,
                    geo.stride.1,
                    geo.padding.1,
                    geo.dilation.1,
                ),
        ),
        dilation: geo.dilation,
        groups: geo.groups,
    };
    g.conv_transpose2d(w, None, settings)
}

fn weight_gradient(g: &Tensor, x: &Tensor, geo: &ConvGeometry) -> Result<Tensor> {
    let (kh, kw) = geo.kernel;
    let (in_per_group, out_per_group) =
        (geo.in_channels / geo.groups, geo.out_channels / geo.groups);
    let per_group = (0..geo.groups)
        .map(|group| {
            let xg = x.narrow(1, group * in_per_group, in_per_group)?;
            let gg = g.narrow(1, group * out_per_group, out_per_group)?;
            // [C_in, N, H, W] convolved with [C_out, N, oh, ow]: [C_in, C_out, ≥kh, ≥kw].
            let full = xg.transpose(0, 1)?.conv2d(
                &gg.transpose(0, 1)?,
                None,
                geo.dilation,
                geo.padding,
                geo.stride,
                1,
            )?;
            full.narrow(2, 0, kh)?.narrow(3, 0, kw)?.transpose(0, 1)
        })
        .collect::<Result<Vec<_>>>()?;
    match per_group.len() {
        1 => per_group[0].contiguous(),
        _ => Tensor::cat(&per_group, 0),
    }
}
