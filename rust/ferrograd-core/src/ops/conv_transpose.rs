//! Transposed 2-D convolution with PyTorch's semantics (weight `[C_in, C_out/groups, kH, kW]`,
//! stride, padding, output_padding, dilation, groups). It is the input gradient of the
//! convolution that maps its output shape back to its input shape, so it reuses the convolution
//! kernels with the roles swapped: forward is `conv2d_backward_input`, the input gradient is
//! `conv2d_forward`, the weight gradient is `conv2d_backward_weight` (in a create_graph walk, the
//! same three as recorded ops: `conv_recorded.rs`).

use super::conv::{conv_grads, dims4, GradKernels};
use super::conv_recorded::conv_transpose2d_gradients;
use crate::cpu::conv::{
    conv2d_backward_input, conv2d_backward_weight, conv2d_forward, ConvGeometry, ConvGrads,
    OutputGrad,
};
use crate::{CpuStorage, Error, Result, Storage, Tensor};

/// Output length along one axis: `(size - 1) * stride - 2 * pad + dil * (k - 1) + out_pad + 1`.
fn transposed_output(
    size: usize,
    kernel: usize,
    stride: usize,
    pad: usize,
    dil: usize,
    out_pad: usize,
) -> Result<usize> {
    let full = (size - 1) * stride + dil * (kernel - 1) + out_pad + 1;
    if full <= 2 * pad {
        return Err(Error::shape(
            "conv_transpose2d",
            format!("padding {pad} removes the whole output of size {full}"),
        ));
    }
    Ok(full - 2 * pad)
}

/// Settings of [`Tensor::conv_transpose2d`], per axis `(height, width)`.
#[derive(Clone, Copy, Debug)]
pub struct TransposedConv {
    pub stride: (usize, usize),
    pub padding: (usize, usize),
    pub output_padding: (usize, usize),
    pub dilation: (usize, usize),
    pub groups: usize,
}

impl Tensor {
    /// Transposed convolution of an NCHW (or unbatched CHW) input.
    pub fn conv_transpose2d(
        &self,
        weight: &Tensor,
        bias: Option<&Tensor>,
        settings: TransposedConv,
    ) -> Result<Tensor> {
        const OP: &str = "conv_transpose2d";
        if let Some(out) = crate::autocast::lowered(&[self, weight], true, |t| {
            t[0].conv_transpose2d(&t[1], bias, settings)
        }) {
            return out;
        }
        if self.rank() == 3 {
            return self
                .unsqueeze(0)?
                .conv_transpose2d(weight, bias, settings)?
                .squeeze(Some(0));
        }
        let TransposedConv {
            stride,
            padding,
            output_padding,
            dilation,
            groups,
        } = settings;
        super::expect_f32(OP, self)?;
        super::expect_f32(OP, weight)?;
        super::same_device(OP, self, weight)?;
        crate::ensure_shape!(
            self.rank() == 4 && weight.rank() == 4,
            OP,
            "input must be [N, C_in, H, W] and weight [C_in, C_out/groups, kH, kW], got {:?} and {:?}",
            self.shape(),
            weight.shape()
        );
        super::expect_positive_pair(OP, "stride", stride)?;
        super::expect_positive_pair(OP, "dilation", dilation)?;
        if groups == 0 {
            return Err(Error::arg(OP, "groups", "a value >= 1", groups));
        }
        if output_padding.0 >= stride.0.max(dilation.0)
            || output_padding.1 >= stride.1.max(dilation.1)
        {
            return Err(Error::arg(
                OP,
                "output_padding",
                format!(
                    "values below max(stride, dilation) = {:?}",
                    (stride.0.max(dilation.0), stride.1.max(dilation.1))
                ),
                format!("{output_padding:?}"),
            ));
        }
        let ([n, c, h, w], [wc, cog, kh, kw]) = (dims4(self), dims4(weight));
        crate::ensure_shape!(
            wc == c && c % groups == 0 && kh > 0 && kw > 0 && h > 0 && w > 0,
            OP,
            "weight {:?} does not fit input {:?} with groups {groups}",
            weight.shape(),
            self.shape()
        );
        let co = cog * groups;
        if let Some(b) = bias {
            crate::ensure_shape!(
                b.shape() == [co],
                OP,
                "bias must have shape [{co}], got {:?}",
                b.shape()
            );
        }
        let (oh, ow) = (
            transposed_output(h, kh, stride.0, padding.0, dilation.0, output_padding.0)?,
            transposed_output(w, kw, stride.1, padding.1, dilation.1, output_padding.1)?,
        );
        // The convolution from the output shape back to the input shape.
        let geo = ConvGeometry {
            batch: n,
            in_channels: co,
            out_channels: c,
            height: oh,
            width: ow,
            kernel: (kh, kw),
            stride,
            padding,
            dilation,
            groups,
            out_height: h,
            out_width: w,
        };
        if let crate::Device::Cuda(_) = self.device() {
            if let Some(b) = bias {
                super::same_device(OP, self, b)?;
            }
            return super::unfold::conv_transpose2d_folded(self, weight, bias, &geo);
        }
        let (x, wt) = (self.contiguous()?, weight.contiguous()?);
        let mut out = {
            let (sx, sw) = (x.storage()?, wt.storage()?);
            match (&*sx, &*sw) {
                (Storage::Cpu(_), Storage::Cpu(_)) => {
                    conv2d_backward_input(&OutputGrad::direct(sx.f32s(OP)?), sw.f32s(OP)?, &geo)?
                }
                _ => return Err(crate::storage::no_cuda_kernel(OP)),
            }
        };
        if let Some(b) = bias {
            let b = b.to_vec::<f32>()?;
            for (i, plane) in out.chunks_mut((oh * ow).max(1)).enumerate() {
                let v = b[i % co];
                plane.iter_mut().for_each(|o| *o += v);
            }
        }
        let mut inputs = vec![self, weight];
        inputs.extend(bias);
        let has_bias = bias.is_some();
        Ok(Tensor::from_op(
            Storage::Cpu(CpuStorage::F32(out)),
            &[n, co, oh, ow],
            OP,
            &inputs,
            Box::new(move |g| {
                if crate::autograd::is_grad_enabled() {
                    return conv_transpose2d_gradients(g, &x, &wt, &geo, has_bias);
                }
                let kernels = GradKernels {
                    input: |gy: &[f32], wv: &[f32]| conv2d_forward(gy, wv, None, &geo, false),
                    weight: |gy: &[f32], xv: &[f32]| {
                        Ok((
                            conv2d_backward_weight(&OutputGrad::direct(xv), gy, &geo, false)?.0,
                            None,
                        ))
                    },
                    // The roles are swapped, so conv2d's one-pass backward does not apply.
                    all: None::<fn(&[f32], &[f32], &[f32]) -> Result<ConvGrads>>,
                    bias: has_bias.then_some(|gy: &[f32]| {
                        Ok(OutputGrad::direct(gy).channel_sums(n, co, oh * ow))
                    }),
                };
                conv_grads(OP, g, &x, &wt, kernels)
            }),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{gradcheck, random_leaf as leaf};

    /// Scatter form: every input pixel adds `x * w` into the output window it maps to.
    fn naive(x: &Tensor, w: &Tensor, b: &Tensor, s: TransposedConv) -> (Vec<f32>, [usize; 4]) {
        let (xs, ws) = (x.shape().to_vec(), w.shape().to_vec());
        let (n, c, h, wd) = (xs[0], xs[1], xs[2], xs[3]);
        let (cog, kh, kw) = (ws[1], ws[2], ws[3]);
        let co = cog * s.groups;
        let oh = transposed_output(
            h,
            kh,
            s.stride.0,
            s.padding.0,
            s.dilation.0,
            s.output_padding.0,
        )
        .unwrap();
        let ow = transposed_output(
            wd,
            kw,
            s.stride.1,
            s.padding.1,
            s.dilation.1,
            s.output_padding.1,
        )
        .unwrap();
        let (xv, wv, bv) = (
            x.to_vec::<f32>().unwrap(),
            w.to_vec::<f32>().unwrap(),
            b.to_vec::<f32>().unwrap(),
        );
        let mut out = vec![0f32; n * co * oh * ow];
        for (i, o) in out.iter_mut().enumerate() {
            *o = bv[(i / (oh * ow)) % co];
        }
        let cg = c / s.groups;
        for b_ in 0..n {
            for ci in 0..c {
                let g = ci / cg;
                for y in 0..h {
                    for x_ in 0..wd {
                        let v = xv[((b_ * c + ci) * h + y) * wd + x_];
                        for oc in 0..cog {
                            for ky in 0..kh {
                                for kx in 0..kw {
                                    let oy = (y * s.stride.0 + ky * s.dilation.0) as isize
                                        - s.padding.0 as isize;
                                    let ox = (x_ * s.stride.1 + kx * s.dilation.1) as isize
                                        - s.padding.1 as isize;
                                    if oy < 0 || ox < 0 || oy >= oh as isize || ox >= ow as isize {
                                        continue;
                                    }
                                    let co_ = g * cog + oc;
                                    out[((b_ * co + co_) * oh + oy as usize) * ow + ox as usize] +=
                                        v * wv[((ci * cog + oc) * kh + ky) * kw + kx];
                                }
                            }
                        }
                    }
                }
            }
        }
        (out, [n, co, oh, ow])
    }

    #[test]
    fn matches_the_scatter_definition_and_its_gradients() {
        for (xs, ws, s) in [
            (
                [2, 3, 4, 5],
                [3, 2, 3, 3],
                TransposedConv {
                    stride: (2, 2),
                    padding: (1, 1),
                    output_padding: (1, 0),
                    dilation: (1, 1),
                    groups: 1,
                },
            ),
            (
                [1, 4, 3, 3],
                [4, 1, 4, 4],
                TransposedConv {
                    stride: (2, 1),
                    padding: (1, 0),
                    output_padding: (0, 0),
                    dilation: (1, 2),
                    groups: 2,
                },
            ),
        ] {
            let (x, w, b) = (leaf(&xs, 1), leaf(&ws, 2), leaf(&[ws[1] * s.groups], 3));
            let (expected, shape) = naive(&x, &w, &b, s);
            let y = x.conv_transpose2d(&w, Some(&b), s).unwrap();
            assert_eq!(y.shape(), shape);
            for (a, e) in y.to_vec::<f32>().unwrap().iter().zip(&expected) {
                assert!((a - e).abs() < 1e-4, "{a} vs {e}");
            }
            gradcheck(
                |t| t[0].conv_transpose2d(&t[1], Some(&t[2]), s),
                &[x, w, b],
                1e-2,
                2e-2,
            );
        }
    }

    #[test]
    fn rejects_bad_settings() {
        let (x, w) = (leaf(&[1, 2, 3, 3], 4), leaf(&[2, 1, 3, 3], 5));
        let s = TransposedConv {
            stride: (2, 2),
            padding: (0, 0),
            output_padding: (2, 0),
            dilation: (1, 1),
            groups: 1,
        };
        assert!(matches!(
            x.conv_transpose2d(&w, None, s),
            Err(Error::Argument { .. })
        ));
        let wrong = leaf(&[3, 1, 3, 3], 6);
        let ok = TransposedConv {
            output_padding: (0, 0),
            ..s
        };
        assert!(matches!(
            x.conv_transpose2d(&wrong, None, ok),
            Err(Error::Shape { .. })
        ));
    }
}
