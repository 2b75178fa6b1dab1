//! Sliding windows as columns, and the CUDA backend's transposed convolution built on them.
//!
//! `unfold_columns` lays the windows of an NCHW batch out as `[C * kh * kw, N * oh * ow]`, so a
//! transposed convolution is one matrix product per group folded by col2im. On CUDA that
//! composition is the transposed convolution (the convolution itself is implicit GEMM,
//! `ops/conv_cuda.rs`, and pooling has its own kernels); on the CPU the same functions are tested
//! against the direct kernels, and `unfold` is torch.nn.functional.unfold.

use super::conv::window_output;
use crate::cpu::conv::ConvGeometry;
use crate::cpu::unfold::{col2im, im2col};
use crate::{CpuStorage, Error, Result, Storage, Tensor};

/// Window geometry over an NCHW batch, field for field the `WindowGeometry` of
/// `cuda/kernels/unfold.cu`.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WindowGeometry {
    pub n: i64,
    pub c: i64,
    pub h: i64,
    pub w: i64,
    pub kh: i64,
    pub kw: i64,
    pub sh: i64,
    pub sw: i64,
    pub ph: i64,
    pub pw: i64,
    pub dh: i64,
    pub dw: i64,
    pub oh: i64,
    pub ow: i64,
}

/// Kernel, stride, padding and dilation, each (height, width).
pub type Window = [(usize, usize); 4];

impl WindowGeometry {
    /// The geometry of `[n, c, h, w]` under `window` with output size `out`.
    pub fn new(
        [n, c, h, w]: [usize; 4],
        [kernel, stride, padding, dilation]: Window,
        out: (usize, usize),
    ) -> WindowGeometry {
        let i = |v: usize| v as i64;
        WindowGeometry {
            n: i(n),
            c: i(c),
            h: i(h),
            w: i(w),
            kh: i(kernel.0),
            kw: i(kernel.1),
            sh: i(stride.0),
            sw: i(stride.1),
            ph: i(padding.0),
            pw: i(padding.1),
            dh: i(dilation.0),
            dw: i(dilation.1),
            oh: i(out.0),
            ow: i(out.1),
        }
    }

    /// The windows a convolution of geometry `geo` reads from its input.
    pub fn of_convolution(geo: &ConvGeometry) -> WindowGeometry {
        WindowGeometry::new(
            [geo.batch, geo.in_channels, geo.height, geo.width],
            [geo.kernel, geo.stride, geo.padding, geo.dilation],
            (geo.out_height, geo.out_width),
        )
    }

    /// Every field as usize, in declaration order.
    pub fn dims(&self) -> [usize; 14] {
        [
            self.n, self.c, self.h, self.w, self.kh, self.kw, self.sh, self.sw, self.ph, self.pw,
            self.dh, self.dw, self.oh, self.ow,
        ]
        .map(|v| v as usize)
    }

    fn taps(&self) -> usize {
        (self.kh * self.kw) as usize
    }

    fn positions(&self) -> usize {
        (self.n * self.oh * self.ow) as usize
    }

    fn image_shape(&self) -> [usize; 4] {
        [self.n, self.c, self.h, self.w].map(|v| v as usize)
    }
}

/// col2im of columns `[C * kh * kw, N * oh * ow]` on their device: the NCHW image they sum to.
fn col2im_storage(cols: &Tensor, g: WindowGeometry) -> Result<Storage> {
    let cols = cols.contiguous()?;
    let st = cols.storage()?;
    Ok(match &*st {
        Storage::Cpu(_) => Storage::Cpu(CpuStorage::F32(col2im(st.f32s("fold")?, &g))),
        Storage::Cuda(s) => Storage::Cuda(crate::cuda::unfold::col2im(s, g)?),
    })
}

fn dims4(op: &'static str, x: &Tensor) -> Result<[usize; 4]> {
    match x.shape() {
        &[n, c, h, w] => Ok([n, c, h, w]),
        s => Err(Error::shape(
            op,
            format!("input must be [N, C, H, W], got {s:?}"),
        )),
    }
}

impl Tensor {
    /// The windows of an NCHW tensor as columns `[C * kh * kw, N * oh * ow]` (row `(c, ki, kj)`,
    /// column `(n, oy, ox)`); taps outside the image read `pad_value`. Differentiable (col2im).
    pub fn unfold_columns(&self, g: WindowGeometry, pad_value: f32) -> Result<Tensor> {
        const OP: &str = "unfold";
        super::expect_f32(OP, self)?;
        crate::ensure_shape!(
            dims4(OP, self)? == g.image_shape(),
            OP,
            "input {:?} does not match the window geometry {g:?}",
            self.shape()
        );
        let x = self.contiguous()?;
        let out = {
            let st = x.storage()?;
            match &*st {
                Storage::Cpu(_) => {
                    Storage::Cpu(CpuStorage::F32(im2col(st.f32s(OP)?, &g, pad_value)))
                }
                Storage::Cuda(s) => Storage::Cuda(crate::cuda::unfold::im2col(s, g, pad_value)?),
            }
        };
        let shape = [g.c as usize * g.taps(), g.positions()];
        Ok(Tensor::from_op(
            out,
            &shape,
            OP,
            &[self],
            // Each op's backward is the other, recorded in a create_graph walk (so both are
            // twice differentiable); taps that read the padding do not depend on the input.
            Box::new(move |grad| Ok(vec![Some(grad.fold_columns(g)?)])),
        ))
    }

    /// The adjoint of `unfold_columns`: columns `[C * kh * kw, N * oh * ow]` summed back into an
    /// NCHW image of `g` (col2im); differentiable (its backward is im2col).
    pub fn fold_columns(&self, g: WindowGeometry) -> Result<Tensor> {
        const OP: &str = "fold";
        super::expect_f32(OP, self)?;
        crate::ensure_shape!(
            self.shape() == [g.c as usize * g.taps(), g.positions()],
            OP,
            "columns {:?} do not match the window geometry {g:?}",
            self.shape()
        );
        Ok(Tensor::from_op(
            col2im_storage(self, g)?,
            &g.image_shape(),
            OP,
            &[self],
            Box::new(move |grad| Ok(vec![Some(grad.unfold_columns(g, 0.0)?)])),
        ))
    }

    /// torch.nn.functional.unfold: `[N, C * kh * kw, L]` blocks of an NCHW tensor.
    pub fn unfold(&self, [kernel, stride, padding, dilation]: Window) -> Result<Tensor> {
        const OP: &str = "unfold";
        let [n, c, h, w] = dims4(OP, self)?;
        for (name, v) in [
            ("kernel_size", kernel),
            ("stride", stride),
            ("dilation", dilation),
        ] {
            super::expect_positive_pair(OP, name, v)?;
        }
        let oh = window_output(OP, h, kernel.0, stride.0, padding.0, dilation.0, false)?;
        let ow = window_output(OP, w, kernel.1, stride.1, padding.1, dilation.1, false)?;
        let g = WindowGeometry::new([n, c, h, w], [kernel, stride, padding, dilation], (oh, ow));
        let rows = c * kernel.0 * kernel.1;
        self.unfold_columns(g, 0.0)?
            .reshape(&[rows, n, oh * ow])?
            .permute(&[1, 0, 2])?
            .contiguous()
    }

    /// torch.nn.functional.fold, the adjoint of [`unfold`](Tensor::unfold): blocks
    /// `[N, C * kh * kw, L]` summed into an NCHW image of `size` (taps in the padding dropped).
    /// The caller checks that `L` is the number of windows that `size` and `window` give.
    pub fn fold(&self, size: (usize, usize), window: Window) -> Result<Tensor> {
        const OP: &str = "fold";
        let [kernel, stride, padding, dilation] = window;
        let (n, rows, length) = match self.shape() {
            &[n, rows, length] => (n, rows, length),
            s => {
                return Err(Error::shape(
                    OP,
                    format!("input must be [N, C * kH * kW, L], got {s:?}"),
                ))
            }
        };
        let taps = kernel.0 * kernel.1;
        let oh = window_output(OP, size.0, kernel.0, stride.0, padding.0, dilation.0, false)?;
        let ow = window_output(OP, size.1, kernel.1, stride.1, padding.1, dilation.1, false)?;
        crate::ensure_shape!(
            taps > 0 && rows % taps == 0 && length == oh * ow,
            OP,
            "input {:?} needs rows divisible by kH * kW = {taps} and {} blocks",
            self.shape(),
            oh * ow
        );
        let g = WindowGeometry::new([n, rows / taps, size.0, size.1], window, (oh, ow));
        self.permute(&[1, 0, 2])?
            .reshape(&[rows, n * length])?
            .fold_columns(g)
    }
}

/// `y` (NCHW) plus a per-channel bias.
fn add_channel_bias(y: Tensor, bias: Option<&Tensor>) -> Result<Tensor> {
    match bias {
        Some(b) => y.add(&b.reshape(&[1, b.numel(), 1, 1])?),
        None => Ok(y),
    }
}

/// Transposed convolution, the adjoint of a convolution written over columns: the weights'
/// transpose times the input gives the columns of the output image, which col2im folds. `geo` is the convolution from
/// the output shape back to the input's.
pub(crate) fn conv_transpose2d_folded(
    x: &Tensor,
    weight: &Tensor,
    bias: Option<&Tensor>,
    geo: &ConvGeometry,
) -> Result<Tensor> {
    let g = WindowGeometry::of_convolution(geo);
    let groups = geo.groups;
    let (cin, cout) = (geo.out_channels, geo.in_channels);
    let per_group = cout / groups * g.taps();
    let w = weight
        .reshape(&[groups, cin / groups, per_group])?
        .transpose(1, 2)?;
    let x = x
        .permute(&[1, 0, 2, 3])?
        .reshape(&[groups, cin / groups, g.positions()])?;
    let y = w
        .matmul(&x)?
        .reshape(&[cout * g.taps(), g.positions()])?
        .fold_columns(g)?;
    add_channel_bias(y, bias)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::random_leaf;

    /// Output and input gradients of `f` on fresh copies of `inputs` (loss: sum of out * weights).
    fn run(f: impl Fn(&[Tensor]) -> Result<Tensor>, inputs: &[Tensor]) -> Vec<Vec<f32>> {
        let leaves: Vec<Tensor> = inputs
            .iter()
            .map(|t| {
                let l = t.deep_clone().unwrap();
                l.set_requires_grad(true).unwrap();
                l
            })
            .collect();
        let y = f(&leaves).unwrap();
        let w = random_leaf(y.shape(), 99).detach();
        y.mul(&w)
            .unwrap()
            .sum(&[], false)
            .unwrap()
            .backward(None)
            .unwrap();
        let mut out = vec![y.to_vec::<f32>().unwrap()];
        out.extend(
            leaves
                .iter()
                .map(|l| l.grad().unwrap().to_vec::<f32>().unwrap()),
        );
        out
    }

    fn assert_close(a: &[Vec<f32>], b: &[Vec<f32>]) {
        for (x, y) in a.iter().zip(b) {
            assert_eq!(x.len(), y.len());
            for (p, q) in x.iter().zip(y) {
                assert!((p - q).abs() <= 1e-4 * (1.0 + q.abs()), "{p} vs {q}");
            }
        }
    }

    /// The folded transposed convolution (the CUDA backend's) against the direct CPU kernel.
    #[test]
    fn folded_transposed_convolution_matches_the_direct_kernel() {
        use crate::ops::conv_transpose::TransposedConv;
        for (groups, stride, padding, dilation, output_padding) in [
            (1, (2, 2), (1, 1), (1, 1), (1, 0)),
            (2, (1, 2), (0, 1), (2, 1), (0, 1)),
        ] {
            let x = random_leaf(&[2, 4, 5, 4], 5);
            let w = random_leaf(&[4, 3, 3, 2], 6);
            let b = random_leaf(&[3 * groups], 7);
            let settings = TransposedConv {
                stride,
                padding,
                output_padding,
                dilation,
                groups,
            };
            let inputs = [x, w, b];
            let direct = run(
                |t| t[0].conv_transpose2d(&t[1], Some(&t[2]), settings),
                &inputs,
            );
            let folded = run(
                |t| {
                    let y = t[0].conv_transpose2d(&t[1], None, settings)?;
                    let geo = ConvGeometry {
                        batch: 2,
                        in_channels: 3 * groups,
                        out_channels: 4,
                        height: y.shape()[2],
                        width: y.shape()[3],
                        kernel: (3, 2),
                        stride,
                        padding,
                        dilation,
                        groups,
                        out_height: 5,
                        out_width: 4,
                    };
                    conv_transpose2d_folded(&t[0], &t[1], Some(&t[2]), &geo)
                },
                &inputs,
            );
            assert_close(&folded, &direct);
        }
    }

    #[test]
    fn unfold_matches_torch_layout() {
        // A 1x1x3x3 image with 2x2 windows: torch gives [1, 4, 4], block rows (ki, kj), columns
        // the window positions.
        let x = Tensor::from_vec((0..9).map(|v| v as f32).collect(), &[1, 1, 3, 3]).unwrap();
        let u = x.unfold([(2, 2), (1, 1), (0, 0), (1, 1)]).unwrap();
        assert_eq!(u.shape(), &[1, 4, 4]);
        let expected = [
            0., 1., 3., 4., 1., 2., 4., 5., 3., 4., 6., 7., 4., 5., 7., 8.,
        ];
        assert_eq!(u.to_vec::<f32>().unwrap(), expected);
    }
}
