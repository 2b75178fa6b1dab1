//! conv2d on a GPU as implicit GEMM (`cuda/conv.rs`): the forward pass and both gradients are our
//! own kernels, which read the NCHW images and the weights in place (no column matrix). The bias
//! gradient is the output gradient summed over images and positions, and the weight gradient the
//! sum of the kernel's split partials, both with the reduction kernels (a fixed order).

use crate::cpu::conv::ConvGeometry;
use crate::cuda::conv::{backward_input, backward_weight_partials, forward};
use crate::cuda::products::Products;
use crate::ops::unary::UnaryOp;
use crate::{Layout, Result, Storage, Tensor};

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
    let (xc, wc) = (x.contiguous()?, weight.contiguous()?);
    let bias_c = bias.map(|b| b.contiguous()).transpose()?;
    let y = {
        let (sx, sw) = (xc.storage()?, wc.storage()?);
        let sb = bias_c.as_ref().map(|b| b.storage()).transpose()?;
        let b = sb.as_ref().map(|s| s.cuda(OP)).transpose()?;
        forward(sx.cuda(OP)?, sw.cuda(OP)?, b, geo, products, relu)?
    };
    let mut inputs = vec![x, weight];
    inputs.extend(bias);
    let shape = [geo.batch, geo.out_channels, geo.out_height, geo.out_width];
    let grads = Grads {
        x: xc,
        weight: wc,
        geo: *geo,
        has_bias: bias.is_some(),
        products,
    };
    Ok(match relu {
        // The fused op keeps its output for the ReLU's gradient: the composed ReLU's, g * step(x),
        // is g * step(y) (y <= 0 exactly where x was, and NaN where it was NaN).
        true => {
            Tensor::from_op_saving_output(Storage::Cuda(y), &shape, "conv2d_relu", &inputs, |y| {
                Box::new(move |g| grads.of(&g.times_derivative(&y, UnaryOp::Step)?))
            })
        }
        false => Tensor::from_op(
            Storage::Cuda(y),
            &shape,
            OP,
            &inputs,
            Box::new(move |g| grads.of(g)),
        ),
    })
}

/// What the backward pass of a convolution needs.
struct Grads {
    x: Tensor,
    weight: Tensor,
    geo: ConvGeometry,
    has_bias: bool,
    products: Products,
}

impl Grads {
    /// The gradients of the input, the weight and the bias from the output's gradient `g`.
    fn of(&self, g: &Tensor) -> Result<Vec<Option<Tensor>>> {
        let (xc, wc, geo, products) = (&self.x, &self.weight, &self.geo, self.products);
        let g = g.contiguous()?;
        let (dx, dw) = {
            let gs = g.storage()?;
            let dy = gs.cuda(OP)?;
            let dx = match xc.requires_grad() {
                true => Some(backward_input(dy, wc.storage()?.cuda(OP)?, geo, products)?),
                false => None,
            };
            let dw = match wc.requires_grad() {
                true => Some(backward_weight_partials(
                    dy,
                    xc.storage()?.cuda(OP)?,
                    geo,
                    products,
                )?),
                false => None,
            };
            (dx, dw)
        };
        let dx = dx.map(|d| Tensor::from_storage(Storage::Cuda(d), Layout::contiguous(xc.shape())));
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
