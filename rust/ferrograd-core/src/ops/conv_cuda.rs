//! conv2d on a GPU as implicit GEMM (`cuda/conv.rs`): the forward pass and both gradients are our
//! own kernels, which read the images through their strides and the weights in place (no column
//! matrix). The output, and the input gradient, take the input's memory format: channels-last
//! in, channels-last out, as in PyTorch. The bias gradient is the output gradient summed over
//! images and positions, and the weight gradient the sum of the kernel's split partials, both with
//! the reduction kernels (a fixed order).

use crate::cpu::conv::ConvGeometry;
use crate::cuda::conv::{backward_input, backward_weight_partials, forward, reads_in_place};
use crate::cuda::products::Products;
use crate::ops::unary::UnaryOp;
use crate::{Layout, MemoryFormat, Result, Storage, Tensor};

const OP: &str = "conv2d";

/// The convolution of `x` with `weight` plus `bias` (all on one GPU), through a ReLU fused into
/// the kernel's epilogue when `relu`, with its backward pass recorded. Inside a lowered (bf16
/// autocast) convolution the operands, and in the backward pass the output gradient, are bf16
/// values, and all three products run on bf16 tensor cores.
pub(super) fn conv2d_implicit_gemm(
    x: &Tensor,
    weight: &Tensor,
    bias: Option<&Tensor>,
    geo: &ConvGeometry,
    relu: bool,
) -> Result<Tensor> {
    let products = Products::from_autocast();
    let format = MemoryFormat::of_input(x.layout());
    let (xr, wc) = (in_place_or_dense(x, format)?, weight.contiguous()?);
    let bias_c = bias.map(|b| b.contiguous()).transpose()?;
    let y = {
        let (sx, sw) = (xr.storage()?, wc.storage()?);
        let sb = bias_c.as_ref().map(|b| b.storage()).transpose()?;
        let b = sb.as_ref().map(|s| s.cuda(OP)).transpose()?;
        forward(
            sx.cuda(OP)?,
            xr.layout(),
            sw.cuda(OP)?,
            b,
            geo,
            products,
            relu,
            format,
        )?
    };
    let mut inputs = vec![x, weight];
    inputs.extend(bias);
    let shape = [geo.batch, geo.out_channels, geo.out_height, geo.out_width];
    let layout = Layout::new(shape.to_vec(), format.strides(&shape), 0);
    let grads = Grads {
        x: xr,
        weight: wc,
        geo: *geo,
        has_bias: bias.is_some(),
        products,
        format,
    };
    Ok(match relu {
        // The fused op keeps its output for the ReLU's gradient: the composed ReLU's, g * step(x),
        // is g * step(y) (y <= 0 exactly where x was, and NaN where it was NaN).
        true => Tensor::from_op_saving_output_laid_out(
            Storage::Cuda(y),
            layout,
            "conv2d_relu",
            &inputs,
            |y| Box::new(move |g| grads.of(&g.times_derivative(&y, UnaryOp::Step)?)),
        ),
        false => Tensor::from_op_laid_out(
            Storage::Cuda(y),
            layout,
            OP,
            &inputs,
            Box::new(move |g| grads.of(g)),
        ),
    })
}

/// `t` itself when the kernels can address it where it lies, else a dense copy in `format`.
fn in_place_or_dense(t: &Tensor, format: MemoryFormat) -> Result<Tensor> {
    match reads_in_place(t.layout()) {
        true => Ok(t.clone()),
        false => t.contiguous_in(format),
    }
}

/// What the backward pass of a convolution needs.
struct Grads {
    x: Tensor,
    weight: Tensor,
    geo: ConvGeometry,
    has_bias: bool,
    products: Products,
    /// The forward output's memory format, which the input gradient takes too.
    format: MemoryFormat,
}

impl Grads {
    /// The gradients of the input, the weight and the bias from the output's gradient `g`.
    fn of(&self, g: &Tensor) -> Result<Vec<Option<Tensor>>> {
        if crate::autograd::is_grad_enabled() {
            let (x, w) = (&self.x, &self.weight);
            return super::conv_recorded::conv2d_gradients(g, x, w, &self.geo, self.has_bias);
        }
        let (xr, wc, geo, products) = (&self.x, &self.weight, &self.geo, self.products);
        let g = in_place_or_dense(g, self.format)?;
        let (dx, dw) = {
            let gs = g.storage()?;
            let dy = gs.cuda(OP)?;
            let dx = match xr.requires_grad() {
                true => Some(backward_input(
                    dy,
                    g.layout(),
                    wc.storage()?.cuda(OP)?,
                    geo,
                    products,
                    self.format,
                )?),
                false => None,
            };
            let dw = match wc.requires_grad() {
                true => Some(backward_weight_partials(
                    dy,
                    g.layout(),
                    xr.storage()?.cuda(OP)?,
                    xr.layout(),
                    geo,
                    products,
                )?),
                false => None,
            };
            (dx, dw)
        };
        let dx_layout = Layout::new(xr.shape().to_vec(), self.format.strides(xr.shape()), 0);
        let dx = dx.map(|d| Tensor::from_storage(Storage::Cuda(d), dx_layout));
        let dw = match dw {
            Some((partials, splits)) => {
                let parts = [&[splits][..], wc.shape()].concat();
                let partials =
                    Tensor::from_storage(Storage::Cuda(partials), Layout::contiguous(&parts));
                Some(match splits {
                    1 => partials.reshape(wc.shape())?,
                    _ => partials.sum(&[0], false)?,
                })
            }
            None => None,
        };
        let mut grads = vec![dx, dw];
        if self.has_bias {
            grads.push(Some(g.sum(&[0, 2, 3], false)?));
        }
        Ok(grads)
    }
}
