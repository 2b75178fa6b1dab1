//! conv2d with PyTorch's semantics (NCHW, weight [C_out, C_in/groups, kH, kW], stride, padding,
//! dilation, groups) and its three gradients.

use super::conv_recorded::conv2d_gradients;
use super::pool::{MaxPoolWindow, Winners};
use super::unary::UnaryOp;
use crate::cpu::conv::{
    conv2d_backward, conv2d_backward_input, conv2d_backward_weight, conv2d_forward,
    conv2d_relu_max_pool_forward, ConvGeometry, ConvGrads, Fused, OutputGrad,
};
use crate::{CpuStorage, Error, Result, Storage, Tensor};

/// Output length of a sliding window along one axis (PyTorch's formula), or an error.
pub(crate) fn window_output(
    op: &'static str,
    size: usize,
    kernel: usize,
    stride: usize,
    pad: usize,
    dil: usize,
    ceil: bool,
) -> Result<usize> {
    let span = dil * (kernel - 1) + 1;
    if size + 2 * pad < span {
        return Err(Error::shape(
            op,
            format!("input size {size} with padding {pad} is smaller than the (dilated) kernel size {span}"),
        ));
    }
    let numer = size + 2 * pad - span;
    let mut out = if ceil {
        numer.div_ceil(stride) + 1
    } else {
        numer / stride + 1
    };
    // With ceil_mode, the last window must start inside the input or the left padding.
    if ceil && (out - 1) * stride >= size + pad {
        out -= 1;
    }
    Ok(out)
}

/// The four sizes of a tensor already checked to be 4-D (NCHW input or convolution weight).
pub(crate) fn dims4(t: &Tensor) -> [usize; 4] {
    let s = t.shape();
    [s[0], s[1], s[2], s[3]]
}

/// How a convolution-like op computes its gradients from the output gradient `g`, on host slices
/// read in place (no copies of the activations): `input(g, weight)`, `weight(g, input)` (with the
/// bias gradient alongside, when it comes on the way), `all(g, input, weight)` giving all of them
/// in one pass when both operands need gradients, and `bias(g)` (per-channel sums of `g`) for an
/// op with a bias whose gradient did not come with the weight's.
pub(crate) struct GradKernels<I, W, A, B> {
    pub input: I,
    pub weight: W,
    pub all: Option<A>,
    pub bias: Option<B>,
}

/// The (input, weight, bias) gradients of a convolution-like op from the output gradient `g`,
/// each only for an operand that requires one.
pub(crate) fn conv_grads<I, W, A, B>(
    op: &'static str,
    g: &Tensor,
    x: &Tensor,
    wt: &Tensor,
    kernels: GradKernels<I, W, A, B>,
) -> Result<Vec<Option<Tensor>>>
where
    I: Fn(&[f32], &[f32]) -> Result<Vec<f32>>,
    W: Fn(&[f32], &[f32]) -> Result<(Vec<f32>, Option<Vec<f32>>)>,
    A: Fn(&[f32], &[f32], &[f32]) -> Result<ConvGrads>,
    B: Fn(&[f32]) -> Result<Vec<f32>>,
{
    let GradKernels {
        input: input_grad,
        weight: weight_grad,
        all: all_grads,
        bias: bias_grad,
    } = kernels;
    let (dx, dw, db) = g.with_f32_slice(op, |dy| -> Result<_> {
        if let (true, true, Some(all)) = (x.requires_grad(), wt.requires_grad(), &all_grads) {
            let grads =
                x.with_f32_slice(op, |xv| wt.with_f32_slice(op, |wv| all(dy, xv, wv)))???;
            return Ok((grads.input, Some(grads.weight), grads.bias));
        }
        let dx = match x.requires_grad() {
            true => Some(wt.with_f32_slice(op, |wv| input_grad(dy, wv))??),
            false => None,
        };
        let (dw, db) = match wt.requires_grad() {
            true => {
                let (dw, db) = x.with_f32_slice(op, |xv| weight_grad(dy, xv))??;
                (Some(dw), db)
            }
            false => (None, None),
        };
        Ok((dx, dw, db))
    })??;
    let db = match (db, &bias_grad) {
        (_, None) => None,
        (Some(db), Some(_)) => Some(db),
        (None, Some(f)) => Some(g.with_f32_slice(op, f)??),
    };
    let dx = dx.map(|v| Tensor::from_vec(v, x.shape())).transpose()?;
    let dw = dw.map(|v| Tensor::from_vec(v, wt.shape())).transpose()?;
    let mut grads = vec![dx, dw];
    if let Some(db) = db {
        let channels = db.len();
        grads.push(Some(Tensor::from_vec(db, &[channels])?));
    }
    Ok(grads)
}

/// Checks a convolution's operands and arguments (input [N, C, H, W]) and gives its geometry.
pub(crate) fn conv_geometry(
    x: &Tensor,
    weight: &Tensor,
    bias: Option<&Tensor>,
    stride: (usize, usize),
    padding: (usize, usize),
    dilation: (usize, usize),
    groups: usize,
) -> Result<ConvGeometry> {
    const OP: &str = "conv2d";
    super::check_input_and_weight(OP, x, weight)?;
    crate::ensure_shape!(
        x.rank() == 4,
        OP,
        "input must be [N, C, H, W], got {:?}",
        x.shape()
    );
    crate::ensure_shape!(
        weight.rank() == 4,
        OP,
        "weight must be [C_out, C_in/groups, kH, kW], got {:?}",
        weight.shape()
    );
    super::expect_positive_pair(OP, "stride", stride)?;
    super::expect_positive_pair(OP, "dilation", dilation)?;
    if groups == 0 {
        return Err(Error::arg(OP, "groups", "a value >= 1", groups));
    }
    let ([n, c, h, w], [co, ci, kh, kw]) = (dims4(x), dims4(weight));
    crate::ensure_shape!(
        c % groups == 0 && co % groups == 0,
        OP,
        "channels in {c} and out {co} must both be divisible by groups {groups}"
    );
    crate::ensure_shape!(
        ci * groups == c,
        OP,
        "weight {:?} expects {} input channels, input {:?} has {c}",
        weight.shape(),
        ci * groups,
        x.shape()
    );
    crate::ensure_shape!(
        kh > 0 && kw > 0,
        OP,
        "kernel size must be positive, weight is {:?}",
        weight.shape()
    );
    super::check_bias(OP, x, bias, co)?;
    Ok(ConvGeometry {
        batch: n,
        in_channels: c,
        out_channels: co,
        height: h,
        width: w,
        kernel: (kh, kw),
        stride,
        padding,
        dilation,
        groups,
        out_height: window_output(OP, h, kh, stride.0, padding.0, dilation.0, false)?,
        out_width: window_output(OP, w, kw, stride.1, padding.1, dilation.1, false)?,
    })
}

impl Tensor {
    /// 2-D convolution of an NCHW input.
    pub fn conv2d(
        &self,
        weight: &Tensor,
        bias: Option<&Tensor>,
        stride: (usize, usize),
        padding: (usize, usize),
        dilation: (usize, usize),
        groups: usize,
    ) -> Result<Tensor> {
        self.conv2d_then(weight, bias, stride, padding, dilation, groups, false)
    }

    /// `conv2d(...).relu()` as one op on the host: the ReLU runs on each image while the
    /// convolution's output is still in cache, and its backward is folded into the
    /// convolution's (no pre-activation tensor, no ReLU passes over the whole output).
    pub fn conv2d_relu(
        &self,
        weight: &Tensor,
        bias: Option<&Tensor>,
        stride: (usize, usize),
        padding: (usize, usize),
        dilation: (usize, usize),
        groups: usize,
    ) -> Result<Tensor> {
        self.conv2d_then(weight, bias, stride, padding, dilation, groups, true)
    }

    /// conv2d, followed by a fused ReLU when `relu`.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn conv2d_then(
        &self,
        weight: &Tensor,
        bias: Option<&Tensor>,
        stride: (usize, usize),
        padding: (usize, usize),
        dilation: (usize, usize),
        groups: usize,
        relu: bool,
    ) -> Result<Tensor> {
        const OP: &str = "conv2d";
        if let Some(out) = crate::autocast::lowered(&[self, weight], true, |t| {
            t[0].conv2d_then(&t[1], bias, stride, padding, dilation, groups, relu)
        }) {
            return out;
        }
        if self.rank() == 3 {
            return self
                .unsqueeze(0)?
                .conv2d_then(weight, bias, stride, padding, dilation, groups, relu)?
                .squeeze(Some(0));
        }
        let operands: Vec<&Tensor> = [self, weight].into_iter().chain(bias).collect();
        let host_half = super::half_result(&operands).filter(|&d| d != crate::DType::F32);
        if let (crate::Device::Cpu, Some(dtype)) = (self.device(), host_half) {
            // The host kernels compute in float32; half operands convolve there and round once
            // (GPUs have native half kernels).
            return super::widened(&operands, dtype, |t| {
                t[0].conv2d_then(&t[1], t.get(2), stride, padding, dilation, groups, relu)
            });
        }
        let geo = conv_geometry(self, weight, bias, stride, padding, dilation, groups)?;
        if let crate::Device::Cuda(_) = self.device() {
            return super::conv_cuda::conv2d_implicit_gemm(self, weight, bias, &geo, relu);
        }
        let (x, wt) = (self.contiguous()?, weight.contiguous()?);
        let out = {
            let (sx, sw) = (x.storage()?, wt.storage()?);
            match (&*sx, &*sw) {
                (Storage::Cpu(_), Storage::Cpu(_)) => {
                    let b = bias.map(|b| b.to_vec::<f32>()).transpose()?;
                    conv2d_forward(sx.f32s(OP)?, sw.f32s(OP)?, b.as_deref(), &geo, relu)?
                }
                _ => return Err(crate::storage::no_cuda_kernel(OP)),
            }
        };
        let mut inputs = vec![self, weight];
        inputs.extend(bias);
        let shape = [geo.batch, geo.out_channels, geo.out_height, geo.out_width];
        let has_bias = bias.is_some();
        let storage = Storage::Cpu(CpuStorage::F32(out));
        Ok(if relu {
            // The fused op keeps its output, for the ReLU's mask.
            Tensor::from_op_saving_output(storage, &shape, "conv2d_relu", &inputs, move |y| {
                Box::new(move |g| {
                    if crate::autograd::is_grad_enabled() {
                        let g = g.times_derivative(&y, UnaryOp::Step)?;
                        return conv2d_gradients(&g, &x, &wt, &geo, has_bias);
                    }
                    y.with_f32_slice(OP, |y| {
                        conv2d_grads(g, &x, &wt, &geo, has_bias, Fused::Relu { y })
                    })?
                })
            })
        } else {
            Tensor::from_op(
                storage,
                &shape,
                OP,
                &inputs,
                Box::new(move |g| match crate::autograd::is_grad_enabled() {
                    true => conv2d_gradients(g, &x, &wt, &geo, has_bias),
                    false => conv2d_grads(g, &x, &wt, &geo, has_bias, Fused::Nothing),
                }),
            )
        })
    }

    /// `conv2d(...).relu().max_pool2d(...)` as one op on the host: each image's convolution
    /// output is pooled while it is in cache and never stored, and the backward pass rebuilds
    /// each image's output gradient from the pooled one (see `conv2d_relu_max_pool_forward`).
    /// Values equal the three ops' bit for bit. On a GPU, and inside a bf16 autocast scope
    /// (where the ops round the gradient of the convolution's own output), it runs the ops.
    #[allow(clippy::too_many_arguments)]
    pub fn conv2d_relu_max_pool2d(
        &self,
        weight: &Tensor,
        bias: Option<&Tensor>,
        stride: (usize, usize),
        padding: (usize, usize),
        dilation: (usize, usize),
        groups: usize,
        pool: MaxPoolWindow,
    ) -> Result<Tensor> {
        const OP: &str = "conv2d_relu_max_pool2d";
        let composed = || {
            self.conv2d_relu(weight, bias, stride, padding, dilation, groups)?
                .max_pool2d(
                    pool.kernel,
                    pool.stride,
                    pool.padding,
                    pool.dilation,
                    pool.ceil_mode,
                )
        };
        if self.device() != crate::Device::Cpu
            || crate::autocast::autocast_precision() != crate::autocast::Precision::F32
        {
            return composed();
        }
        if self.rank() == 3 {
            return self
                .unsqueeze(0)?
                .conv2d_relu_max_pool2d(weight, bias, stride, padding, dilation, groups, pool)?
                .squeeze(Some(0));
        }
        let geo = conv_geometry(self, weight, bias, stride, padding, dilation, groups)?;
        let pool_geo = pool.geometry("max_pool2d", (geo.out_height, geo.out_width))?;
        let (x, wt) = (self.contiguous()?, weight.contiguous()?);
        let (pooled, argmax) = {
            let (sx, sw) = (x.storage()?, wt.storage()?);
            match (&*sx, &*sw) {
                (Storage::Cpu(_), Storage::Cpu(_)) => {
                    let b = bias.map(|b| b.to_vec::<f32>()).transpose()?;
                    let (x, w) = (sx.f32s(OP)?, sw.f32s(OP)?);
                    conv2d_relu_max_pool_forward(x, w, b.as_deref(), &geo, &pool_geo)?
                }
                _ => return Err(crate::storage::no_cuda_kernel(OP)),
            }
        };
        let mut inputs = vec![self, weight];
        inputs.extend(bias);
        let (oh, ow) = pool_geo.out;
        let shape = [geo.batch, geo.out_channels, oh, ow];
        let has_bias = bias.is_some();
        let disjoint = pool.dilation == (1, 1)
            && pool.stride.0 >= pool.kernel.0
            && pool.stride.1 >= pool.kernel.1;
        let storage = Storage::Cpu(CpuStorage::F32(pooled));
        let argmax = std::sync::Arc::new(argmax);
        Ok(Tensor::from_op_saving_output(
            storage,
            &shape,
            OP,
            &inputs,
            move |pooled| {
                Box::new(move |g| {
                    if crate::autograd::is_grad_enabled() {
                        // The pool's backward onto the convolution's output, then the ReLU's
                        // at the winners (a pooled value is the ReLU's output there).
                        let winners = Winners {
                            argmax: argmax.clone(),
                            plane: geo.out_plane(),
                            out_plane: oh * ow,
                        };
                        let conv_out = [geo.batch, geo.out_channels, geo.out_height, geo.out_width];
                        let g = winners
                            .scatter(&g.times_derivative(&pooled, UnaryOp::Step)?, &conv_out)?;
                        return conv2d_gradients(&g, &x, &wt, &geo, has_bias);
                    }
                    pooled.with_f32_slice(OP, |pooled| {
                        let after = Fused::ReluMaxPool {
                            pooled,
                            argmax: argmax.as_slice(),
                            pool_plane: oh * ow,
                            disjoint,
                        };
                        conv2d_grads(g, &x, &wt, &geo, has_bias, after)
                    })?
                })
            },
        ))
    }
}

/// The (input, weight, bias) gradients of a conv2d from the gradient `g` of the op's output,
/// passed back through the ops fused `after` the convolution.
fn conv2d_grads(
    g: &Tensor,
    x: &Tensor,
    wt: &Tensor,
    geo: &ConvGeometry,
    has_bias: bool,
    after: Fused,
) -> Result<Vec<Option<Tensor>>> {
    let kernels = GradKernels {
        input: |dy: &[f32], wv: &[f32]| conv2d_backward_input(&OutputGrad { dy, after }, wv, geo),
        weight: |dy: &[f32], xv: &[f32]| {
            conv2d_backward_weight(&OutputGrad { dy, after }, xv, geo, has_bias)
        },
        all: Some(|dy: &[f32], xv: &[f32], wv: &[f32]| {
            conv2d_backward(&OutputGrad { dy, after }, xv, Some(wv), geo, has_bias)
        }),
        bias: has_bias.then_some(|dy: &[f32]| {
            let (images, channels) = (geo.batch, geo.out_channels);
            Ok(OutputGrad { dy, after }.channel_sums(images, channels, geo.out_plane()))
        }),
    };
    conv_grads("conv2d", g, x, wt, kernels)
}

#[cfg(test)]
mod tests {
    use crate::testing::gradcheck;
    use crate::Tensor;

    use crate::testing::random_leaf as leaf;

    /// Direct six-loop convolution.
    #[allow(clippy::too_many_arguments)]
    fn naive(
        x: &Tensor,
        w: &Tensor,
        b: &Tensor,
        s: (usize, usize),
        p: (usize, usize),
        d: (usize, usize),
        groups: usize,
    ) -> Vec<f32> {
        let (xs, ws) = (x.shape().to_vec(), w.shape().to_vec());
        let (xv, wv, bv) = (
            x.to_vec::<f32>().unwrap(),
            w.to_vec::<f32>().unwrap(),
            b.to_vec::<f32>().unwrap(),
        );
        let (n, c, h, wd) = (xs[0], xs[1], xs[2] as isize, xs[3] as isize);
        let (co, ci, kh, kw) = (ws[0], ws[1], ws[2], ws[3]);
        let oh = (h as usize + 2 * p.0 - d.0 * (kh - 1) - 1) / s.0 + 1;
        let ow = (wd as usize + 2 * p.1 - d.1 * (kw - 1) - 1) / s.1 + 1;
        let mut out = Vec::new();
        for img in 0..n {
            for o in 0..co {
                let g = o / (co / groups);
                for y in 0..oh {
                    for xo in 0..ow {
                        let mut acc = bv[o];
                        for k in 0..ci {
                            let ch = g * ci + k;
                            for a in 0..kh {
                                for bb in 0..kw {
                                    let iy = (y * s.0 + a * d.0) as isize - p.0 as isize;
                                    let ix = (xo * s.1 + bb * d.1) as isize - p.1 as isize;
                                    if iy >= 0 && iy < h && ix >= 0 && ix < wd {
                                        acc += xv[((img * c + ch) * h as usize + iy as usize)
                                            * wd as usize
                                            + ix as usize]
                                            * wv[((o * ci + k) * kh + a) * kw + bb];
                                    }
                                }
                            }
                        }
                        out.push(acc);
                    }
                }
            }
        }
        out
    }

    type Dims = (usize, usize, usize, usize);

    /// Random input, weight and bias leaves of the given input and weight shapes.
    fn operands(xs: Dims, ws: Dims, seed: u64) -> (Tensor, Tensor, Tensor) {
        (
            leaf(&[xs.0, xs.1, xs.2, xs.3], seed),
            leaf(&[ws.0, ws.1, ws.2, ws.3], seed + 1),
            leaf(&[ws.0], seed + 2),
        )
    }

    #[test]
    fn conv2d_matches_direct_loops_and_gradients() {
        let cases = [
            ((2, 4, 7, 6), (6, 2, 3, 2), (2, 1), (1, 2), (1, 2), 2),
            ((1, 3, 5, 5), (4, 3, 1, 1), (1, 1), (0, 0), (1, 1), 1),
            ((2, 4, 6, 5), (4, 1, 3, 3), (1, 2), (1, 1), (1, 1), 4),
            ((3, 2, 8, 8), (5, 2, 3, 3), (3, 3), (0, 0), (2, 2), 1),
        ];
        for (i, (xs, ws, s, p, d, g)) in cases.into_iter().enumerate() {
            let (x, w, b) = operands(xs, ws, 10 * i as u64);
            let got = x
                .conv2d(&w, Some(&b), s, p, d, g)
                .unwrap()
                .to_vec::<f32>()
                .unwrap();
            let want = naive(&x, &w, &b, s, p, d, g);
            assert_eq!(got.len(), want.len());
            for (a, e) in got.iter().zip(&want) {
                assert!((a - e).abs() < 1e-4, "case {i}: {a} vs {e}");
            }
            gradcheck(
                |t| t[0].conv2d(&t[1], Some(&t[2]), s, p, d, g),
                &[x, w, b],
                1e-2,
                2e-2,
            );
        }
    }

    /// The fused conv + ReLU gives the composed ops' output exactly and their gradients (the
    /// bias gradient is summed in another order), with groups, stride, padding and batches
    /// large enough for several weight-gradient chunks and products; finite differences agree.
    #[test]
    fn conv2d_relu_matches_the_composed_ops() {
        let cases = [
            ((20, 4, 7, 6), (6, 2, 3, 2), (2, 1), (1, 2), (1, 1), 2),
            ((3, 3, 6, 6), (5, 3, 3, 3), (1, 1), (0, 0), (1, 1), 1),
            ((2, 2, 5, 5), (4, 2, 1, 1), (1, 1), (0, 0), (1, 1), 1),
            // Columns too large for two images per weight-gradient product: three chunks of
            // three single-image products.
            ((40, 2, 98, 98), (2, 2, 3, 3), (1, 1), (0, 0), (1, 1), 1),
        ];
        for (i, (xs, ws, s, p, d, g)) in cases.into_iter().enumerate() {
            let (x, w, b) = operands(xs, ws, 100 + 10 * i as u64);
            let fused = x.conv2d_relu(&w, Some(&b), s, p, d, g).unwrap();
            let composed = x.conv2d(&w, Some(&b), s, p, d, g).unwrap().relu().unwrap();
            assert_eq!(
                fused.to_vec::<f32>().unwrap(),
                composed.to_vec::<f32>().unwrap(),
                "case {i}: outputs"
            );
            let weight = leaf(fused.shape(), 70 + i as u64).detach();
            let grads = |y: &Tensor| {
                let loss = y.mul(&weight).unwrap().sum(&[], false).unwrap();
                crate::autograd::grad(&loss, &[x.clone(), w.clone(), b.clone()]).unwrap()
            };
            for (k, (a, e)) in grads(&fused).iter().zip(grads(&composed)).enumerate() {
                let (a, e) = (a.as_ref().unwrap(), e.as_ref().unwrap());
                for (a, e) in a
                    .to_vec::<f32>()
                    .unwrap()
                    .iter()
                    .zip(e.to_vec::<f32>().unwrap())
                {
                    assert!(
                        (a - e).abs() <= 1e-5 * (1.0 + e.abs()),
                        "case {i} grad {k}: {a} vs {e}"
                    );
                }
            }
        }
        let x = leaf(&[2, 2, 5, 5], 80);
        let w = leaf(&[3, 2, 3, 3], 81);
        let b = leaf(&[3], 82);
        gradcheck(
            |t| t[0].conv2d_relu(&t[1], Some(&t[2]), (1, 1), (1, 1), (1, 1), 1),
            &[x, w, b],
            1e-3,
            2e-2,
        );
    }

    /// The fused conv + ReLU + max pool gives the three ops' output and all three gradients
    /// bit for bit, through each scan of the pool (2x2 vector rows, dense overlapping windows,
    /// padded, dilated and ceil-mode windows), with groups and batches of several
    /// weight-gradient chunks; finite differences agree.
    #[test]
    fn conv2d_relu_max_pool2d_matches_the_composed_ops() {
        use crate::ops::pool::MaxPoolWindow;
        let window = |k: usize, s: usize, p: usize, d: usize, ceil_mode: bool| MaxPoolWindow {
            kernel: (k, k),
            stride: (s, s),
            padding: (p, p),
            dilation: (d, d),
            ceil_mode,
        };
        let cases = [
            (
                (20, 3, 9, 9),
                (5, 3, 3, 3),
                (1, 1),
                1,
                window(2, 2, 0, 1, false),
            ),
            (
                (4, 3, 9, 9),
                (5, 3, 3, 3),
                (1, 1),
                1,
                window(2, 2, 0, 1, true),
            ),
            (
                (3, 4, 10, 8),
                (6, 2, 3, 2),
                (0, 1),
                2,
                window(3, 2, 0, 1, false),
            ),
            (
                (2, 2, 11, 11),
                (4, 2, 3, 3),
                (1, 1),
                1,
                window(3, 3, 1, 1, false),
            ),
            (
                (2, 2, 12, 12),
                (3, 2, 3, 3),
                (0, 0),
                1,
                window(2, 2, 0, 2, false),
            ),
        ];
        for (i, (xs, ws, padding, groups, pool)) in cases.into_iter().enumerate() {
            let x = leaf(&[xs.0, xs.1, xs.2, xs.3], 300 + i as u64);
            let w = leaf(&[ws.0, ws.1, ws.2, ws.3], 310 + i as u64);
            // A negative mean leaves whole windows at zero after the ReLU.
            let b = crate::testing::random_leaf_with(&[ws.0], 320 + i as u64, -0.5, 1.0);
            let conv = |t: &[Tensor]| (t[0].clone(), t[1].clone(), t[2].clone());
            let fused = |t: &[Tensor]| {
                let (x, w, b) = conv(t);
                x.conv2d_relu_max_pool2d(&w, Some(&b), (1, 1), padding, (1, 1), groups, pool)
            };
            let composed = |t: &[Tensor]| {
                let (x, w, b) = conv(t);
                x.conv2d(&w, Some(&b), (1, 1), padding, (1, 1), groups)?
                    .relu()?
                    .max_pool2d(
                        pool.kernel,
                        pool.stride,
                        pool.padding,
                        pool.dilation,
                        pool.ceil_mode,
                    )
            };
            let operands = [x.clone(), w.clone(), b.clone()];
            let (y, want) = (fused(&operands).unwrap(), composed(&operands).unwrap());
            assert_eq!(y.node().unwrap().name, "conv2d_relu_max_pool2d");
            assert_eq!(y.shape(), want.shape(), "case {i}: shapes");
            let values = |t: &Tensor| t.to_vec::<f32>().unwrap();
            assert_eq!(values(&y), values(&want), "case {i}: outputs");
            assert!(
                values(&y).contains(&0.0),
                "case {i}: no window left at zero"
            );
            let weight = leaf(y.shape(), 330 + i as u64).detach();
            let grads = |y: &Tensor| {
                let loss = y.mul(&weight).unwrap().sum(&[], false).unwrap();
                crate::autograd::grad(&loss, &operands).unwrap()
            };
            for (k, (a, e)) in grads(&y).iter().zip(grads(&want)).enumerate() {
                let (a, e) = (a.as_ref().unwrap(), e.as_ref().unwrap());
                assert_eq!(values(a), values(e), "case {i} grad {k}");
            }
            if i >= 2 {
                gradcheck(fused, &operands, 1e-3, 2e-2);
            }
        }
        // A single image (CHW) gives the batch-of-one result.
        let (x, w) = (leaf(&[2, 7, 7], 340), leaf(&[3, 2, 3, 3], 341));
        let pool = window(2, 2, 0, 1, false);
        let single = x
            .conv2d_relu_max_pool2d(&w, None, (1, 1), (0, 0), (1, 1), 1, pool)
            .unwrap();
        let batched = x
            .unsqueeze(0)
            .unwrap()
            .conv2d_relu_max_pool2d(&w, None, (1, 1), (0, 0), (1, 1), 1, pool)
            .unwrap();
        assert_eq!(single.shape(), &[3, 2, 2]);
        assert_eq!(
            single.to_vec::<f32>().unwrap(),
            batched.to_vec::<f32>().unwrap()
        );
    }

    #[test]
    fn conv2d_rejects_bad_arguments() {
        let x = Tensor::zeros(&[1, 3, 5, 5], crate::DType::F32, crate::Device::Cpu).unwrap();
        let w = Tensor::zeros(&[4, 2, 3, 3], crate::DType::F32, crate::Device::Cpu).unwrap();
        assert!(x.conv2d(&w, None, (1, 1), (0, 0), (1, 1), 1).is_err());
        let w = Tensor::zeros(&[4, 3, 7, 7], crate::DType::F32, crate::Device::Cpu).unwrap();
        assert!(x.conv2d(&w, None, (1, 1), (0, 0), (1, 1), 1).is_err());
        assert!(x.conv2d(&w, None, (0, 1), (1, 1), (1, 1), 1).is_err());
    }
}
