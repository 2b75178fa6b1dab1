//! max_pool2d, avg_pool2d and adaptive_avg_pool2d on NCHW (or CHW) inputs, PyTorch semantics.

use super::conv::window_output;
use super::unfold::WindowGeometry;
use crate::cpu::pool::{
    adaptive_windows, avg_pool, avg_pool_backward, max_pool_backward, sliding_windows, MaxPool,
    Windows,
};
use crate::cuda::pool::AvgPoolWindows;
use std::sync::Arc;

use crate::{CpuStorage, Error, Result, Storage, Tensor};

fn on_cuda(x: &Tensor) -> bool {
    matches!(x.device(), crate::Device::Cuda(_))
}

/// (planes, H, W) of an NCHW or CHW input, and the leading shape to restore.
fn planes(op: &'static str, x: &Tensor) -> Result<(Vec<usize>, usize, usize)> {
    super::expect_f32(op, x)?;
    crate::ensure_shape!(
        x.rank() == 3 || x.rank() == 4,
        op,
        "input must be [N, C, H, W] or [C, H, W], got {:?}",
        x.shape()
    );
    let r = x.rank();
    Ok((
        x.shape()[..r - 2].to_vec(),
        x.shape()[r - 2],
        x.shape()[r - 1],
    ))
}

fn check_pool_args(
    op: &'static str,
    kernel: (usize, usize),
    stride: (usize, usize),
    padding: (usize, usize),
) -> Result<()> {
    if kernel.0 == 0 || kernel.1 == 0 || stride.0 == 0 || stride.1 == 0 {
        return Err(Error::arg(
            op,
            "kernel_size/stride",
            "values >= 1",
            format!("{kernel:?} / {stride:?}"),
        ));
    }
    if 2 * padding.0 > kernel.0 || 2 * padding.1 > kernel.1 {
        return Err(Error::arg(
            op,
            "padding",
            format!("at most half the kernel size {kernel:?}"),
            format!("{padding:?}"),
        ));
    }
    Ok(())
}

/// Max pooling of an NCHW tensor on a GPU with the fused kernels of `cuda/pool.rs`.
fn max_pool_cuda(x: &Tensor, geo: WindowGeometry) -> Result<Tensor> {
    const OP: &str = "max_pool2d";
    let xc = x.contiguous()?;
    let (values, argmax) = crate::cuda::pool::max_pool(xc.storage()?.cuda(OP)?, geo)?;
    let shape = [geo.n, geo.c, geo.oh, geo.ow].map(|v| v as usize);
    let argmax = Tensor::from_storage(Storage::Cuda(argmax), crate::Layout::contiguous(&shape));
    let in_shape = x.shape().to_vec();
    Ok(Tensor::from_op(
        Storage::Cuda(values),
        &shape,
        OP,
        &[x],
        Box::new(move |g| {
            let g = g.contiguous()?;
            let dx = {
                let (sg, sa) = (g.storage()?, argmax.storage()?);
                let arg = match sa.cuda(OP)? {
                    crate::cuda::CudaStorage::I64(a) => a,
                    other => return Err(Error::dtype(OP, "int64", other.dtype())),
                };
                crate::cuda::pool::max_pool_backward(sg.cuda(OP)?, arg, geo)?
            };
            let dx = Tensor::from_storage(Storage::Cuda(dx), crate::Layout::contiguous(&in_shape));
            Ok(crate::double_backward::unless_recorded(
                OP,
                vec![Some(dx)],
                &[&g],
            ))
        }),
    ))
}

/// Average pooling of `x` (contiguous `xc`, `[planes, h, w]` in all) on a GPU over the windows
/// `[rows, cols]` (`cuda/pool.rs`), with its backward pass recorded; `shape` is the output's.
fn avg_pool_cuda(
    x: &Tensor,
    xc: &Tensor,
    op: &'static str,
    (planes, h, w): (usize, usize, usize),
    [rows, cols]: [Windows; 2],
    divisor: &[f32],
    shape: &[usize],
) -> Result<Tensor> {
    let st = xc.storage()?;
    let input = st.cuda(op)?;
    let gpu = input.gpu()?;
    let windows = AvgPoolWindows::upload(&gpu, op, (h, w), &rows, &cols, divisor)?;
    let out = crate::cuda::pool::avg_pool(input, planes, &windows, op)?;
    let in_shape = x.shape().to_vec();
    Ok(Tensor::from_op(
        Storage::Cuda(out),
        shape,
        op,
        &[x],
        Box::new(move |g| {
            let g = g.contiguous()?;
            let dx =
                crate::cuda::pool::avg_pool_backward(g.storage()?.cuda(op)?, planes, &windows, op)?;
            let dx = Tensor::from_storage(Storage::Cuda(dx), crate::Layout::contiguous(&in_shape));
            Ok(crate::double_backward::unless_recorded(
                op,
                vec![Some(dx)],
                &[&g],
            ))
        }),
    ))
}

/// A pool's input gradient `dx` (of shape `in_shape`), computed on the host from `g`. In a
/// create_graph walk it is recorded as an op of `g` whose backward applies `adjoint` (the pool's
/// transpose, a fixed linear map) to the incoming gradient's values.
fn recorded_if_creating_graph(
    op: &'static str,
    g: &Tensor,
    dx: Vec<f32>,
    in_shape: &[usize],
    adjoint: impl Fn(&[f32]) -> Vec<f32> + Send + Sync + 'static,
) -> Result<Tensor> {
    if !crate::autograd::is_grad_enabled() {
        return Tensor::from_vec(dx, in_shape);
    }
    let out_shape = g.shape().to_vec();
    Ok(Tensor::from_op(
        Storage::Cpu(CpuStorage::F32(dx)),
        in_shape,
        op,
        &[g],
        Box::new(move |u| {
            let values = u.with_f32_slice(op, &adjoint)?;
            Ok(vec![Some(Tensor::from_vec(values, &out_shape)?)])
        }),
    ))
}

/// Where each output of a max pool on the host took its value: `argmax` holds, per plane of
/// `out_plane` outputs, the winner's position in the input plane of `plane` elements.
pub(crate) struct Winners {
    pub argmax: Arc<Vec<u32>>,
    pub plane: usize,
    pub out_plane: usize,
}

impl Winners {
    /// The pool's input gradient: `g` added at each output's winner (`in_shape` is the input's).
    /// In a create_graph walk the result is recorded, with the gather from the winners as its own
    /// backward, so gradients through max pooling can be differentiated again.
    pub(crate) fn scatter(&self, g: &Tensor, in_shape: &[usize]) -> Result<Tensor> {
        const OP: &str = "max_pool2d_backward";
        let (plane, out_plane) = (self.plane, self.out_plane);
        let dx =
            g.with_f32_slice(OP, |g| max_pool_backward(g, &self.argmax, plane, out_plane))??;
        let (argmax, plane_len) = (self.argmax.clone(), plane);
        recorded_if_creating_graph(OP, g, dx, in_shape, move |u| {
            argmax
                .iter()
                .enumerate()
                .map(|(j, &i)| {
                    let at = (j / out_plane.max(1)) * plane_len + i as usize;
                    u.get(at).copied().unwrap_or(0.0)
                })
                .collect()
        })
    }
}

/// A max pool's window arguments (PyTorch's `max_pool2d`, without `return_indices`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MaxPoolWindow {
    pub kernel: (usize, usize),
    pub stride: (usize, usize),
    pub padding: (usize, usize),
    pub dilation: (usize, usize),
    pub ceil_mode: bool,
}

impl MaxPoolWindow {
    /// Checks the arguments and gives the pool's geometry over planes of `(h, w)`.
    pub(crate) fn geometry(&self, op: &'static str, (h, w): (usize, usize)) -> Result<MaxPool> {
        let MaxPoolWindow {
            kernel,
            stride,
            padding,
            dilation,
            ceil_mode,
        } = *self;
        check_pool_args(op, kernel, stride, padding)?;
        super::expect_positive_pair(op, "dilation", dilation)?;
        Ok(MaxPool {
            plane: (h, w),
            out: (
                window_output(op, h, kernel.0, stride.0, padding.0, dilation.0, ceil_mode)?,
                window_output(op, w, kernel.1, stride.1, padding.1, dilation.1, ceil_mode)?,
            ),
            kernel,
            stride,
            padding,
            dilation,
        })
    }
}

impl Tensor {
    /// Runs `f` on this NCHW tensor (a CHW one as a batch of one) with its dims.
    fn as_batch(&self, f: impl FnOnce(&Tensor, [usize; 4]) -> Result<Tensor>) -> Result<Tensor> {
        match *self.shape() {
            [n, c, h, w] => f(self, [n, c, h, w]),
            [c, h, w] => f(&self.unsqueeze(0)?, [1, c, h, w])?.squeeze(Some(0)),
            _ => Err(Error::shape(
                "pool",
                format!(
                    "input must be [N, C, H, W] or [C, H, W], got {:?}",
                    self.shape()
                ),
            )),
        }
    }

    /// Max pooling; the gradient goes to the position of each window's maximum.
    pub fn max_pool2d(
        &self,
        kernel: (usize, usize),
        stride: (usize, usize),
        padding: (usize, usize),
        dilation: (usize, usize),
        ceil_mode: bool,
    ) -> Result<Tensor> {
        const OP: &str = "max_pool2d";
        let (lead, h, w) = planes(OP, self)?;
        let window = MaxPoolWindow {
            kernel,
            stride,
            padding,
            dilation,
            ceil_mode,
        };
        let pool = window.geometry(OP, (h, w))?;
        let (oh, ow) = pool.out;
        if on_cuda(self) {
            let window = [kernel, stride, padding, dilation];
            return self
                .as_batch(|x, dims| max_pool_cuda(x, WindowGeometry::new(dims, window, (oh, ow))));
        }
        let x = self.contiguous()?;
        let (values, argmax) = {
            let st = x.storage()?;
            match &*st {
                Storage::Cpu(_) => pool.forward(st.f32s(OP)?),
                Storage::Cuda(_) => return Err(crate::storage::no_cuda_kernel(OP)),
            }
        };
        let mut shape = lead;
        shape.extend([oh, ow]);
        let in_shape = self.shape().to_vec();
        let argmax = Arc::new(argmax);
        Ok(Tensor::from_op(
            Storage::Cpu(CpuStorage::F32(values)),
            &shape,
            OP,
            &[self],
            Box::new(move |g| {
                let winners = Winners {
                    argmax: argmax.clone(),
                    plane: h * w,
                    out_plane: oh * ow,
                };
                Ok(vec![Some(winners.scatter(g, &in_shape)?)])
            }),
        ))
    }

    /// Average pooling.
    pub fn avg_pool2d(
        &self,
        kernel: (usize, usize),
        stride: (usize, usize),
        padding: (usize, usize),
        ceil_mode: bool,
        count_include_pad: bool,
    ) -> Result<Tensor> {
        const OP: &str = "avg_pool2d";
        let (_, h, w) = planes(OP, self)?;
        check_pool_args(OP, kernel, stride, padding)?;
        let oh = window_output(OP, h, kernel.0, stride.0, padding.0, 1, ceil_mode)?;
        let ow = window_output(OP, w, kernel.1, stride.1, padding.1, 1, ceil_mode)?;
        let rows = sliding_windows(h, oh, kernel.0, stride.0, padding.0);
        let cols = sliding_windows(w, ow, kernel.1, stride.1, padding.1);
        // PyTorch divides by the window clipped to the padded input (count_include_pad) or to the
        // input itself.
        let padded = |o: usize, k: usize, s: usize, p: usize, size: usize| {
            let start = o * s;
            (start + k).min(size + 2 * p) - start
        };
        let mut divisor = Vec::with_capacity(oh * ow);
        for (oy, ry) in rows.iter().enumerate() {
            for (ox, rx) in cols.iter().enumerate() {
                divisor.push(if count_include_pad {
                    (padded(oy, kernel.0, stride.0, padding.0, h)
                        * padded(ox, kernel.1, stride.1, padding.1, w)) as f32
                } else {
                    (ry.len() * rx.len()).max(1) as f32
                });
            }
        }
        self.pool_with_windows(OP, rows, cols, divisor)
    }

    /// Average pooling to a fixed output size with PyTorch's adaptive windows.
    pub fn adaptive_avg_pool2d(&self, output_size: (usize, usize)) -> Result<Tensor> {
        const OP: &str = "adaptive_avg_pool2d";
        let (_, h, w) = planes(OP, self)?;
        super::expect_positive_pair(OP, "output_size", output_size)?;
        let rows = adaptive_windows(h, output_size.0);
        let cols = adaptive_windows(w, output_size.1);
        let divisor = rows
            .iter()
            .flat_map(|r| cols.iter().map(move |c| (r.len() * c.len()).max(1) as f32))
            .collect();
        self.pool_with_windows(OP, rows, cols, divisor)
    }

    fn pool_with_windows(
        &self,
        op: &'static str,
        rows: Windows,
        cols: Windows,
        divisor: Vec<f32>,
    ) -> Result<Tensor> {
        let (lead, h, w) = planes(op, self)?;
        let x = self.contiguous()?;
        let plane_count: usize = lead.iter().product();
        let mut shape = lead;
        shape.extend([rows.len(), cols.len()]);
        let in_shape = self.shape().to_vec();
        if on_cuda(self) {
            return avg_pool_cuda(
                self,
                &x,
                op,
                (plane_count, h, w),
                [rows, cols],
                &divisor,
                &shape,
            );
        }
        let out = {
            let st = x.storage()?;
            avg_pool(st.f32s(op)?, (h, w), &rows, &cols, &divisor)
        };
        let pool = Arc::new(AveragingWindows {
            plane: (h, w),
            rows,
            cols,
            divisor,
        });
        Ok(Tensor::from_op(
            Storage::Cpu(CpuStorage::F32(out)),
            &shape,
            op,
            &[self],
            Box::new(move |g| Ok(vec![Some(pool.spread(g, &in_shape)?)])),
        ))
    }
}

/// An average pool's windows on the host, shared by its forward and backward passes.
struct AveragingWindows {
    plane: (usize, usize),
    rows: Windows,
    cols: Windows,
    divisor: Vec<f32>,
}

impl AveragingWindows {
    /// The pool's input gradient: each output's gradient spread over its window (`in_shape` is
    /// the input's). In a create_graph walk the result is recorded, with the pool itself as its
    /// own backward (the two are each other's transpose).
    fn spread(self: &Arc<Self>, g: &Tensor, in_shape: &[usize]) -> Result<Tensor> {
        const OP: &str = "avg_pool2d_backward";
        let (rows, cols, divisor) = (&self.rows, &self.cols, &self.divisor);
        let dx = g.with_f32_slice(OP, |g| {
            avg_pool_backward(g, self.plane, rows, cols, divisor)
        })??;
        let pool = self.clone();
        recorded_if_creating_graph(OP, g, dx, in_shape, move |u| {
            avg_pool(u, pool.plane, &pool.rows, &pool.cols, &pool.divisor)
        })
    }
}

#[cfg(test)]
mod tests {
    use crate::testing::gradcheck;
    use crate::Tensor;

    use crate::testing::random_leaf as leaf;

    #[test]
    fn max_pool_values_and_gradients() {
        let x = Tensor::from_vec((0..16).map(|v| v as f32).collect(), &[1, 1, 4, 4]).unwrap();
        assert_eq!(
            x.max_pool2d((2, 2), (2, 2), (0, 0), (1, 1), false)
                .unwrap()
                .to_vec::<f32>()
                .unwrap(),
            vec![5.0, 7.0, 13.0, 15.0]
        );
        // ceil_mode adds a partial last window; padding 1 with kernel 3 stride 2 gives 3x3.
        assert_eq!(
            x.max_pool2d((3, 3), (2, 2), (0, 0), (1, 1), true)
                .unwrap()
                .shape(),
            &[1, 1, 2, 2]
        );
        assert_eq!(
            x.max_pool2d((3, 3), (2, 2), (1, 1), (1, 1), false)
                .unwrap()
                .to_vec::<f32>()
                .unwrap(),
            vec![5.0, 7.0, 13.0, 15.0]
        );
        let y = leaf(&[2, 3, 7, 6], 1);
        gradcheck(
            |t| t[0].max_pool2d((3, 2), (2, 1), (1, 1), (1, 2), true),
            &[y],
            1e-3,
            1e-2,
        );
        assert!(x.max_pool2d((2, 2), (2, 2), (2, 2), (1, 1), false).is_err());
    }

    #[test]
    fn avg_pools_match_hand_values_and_gradients() {
        let x = Tensor::from_vec((0..16).map(|v| v as f32).collect(), &[1, 4, 4]).unwrap();
        assert_eq!(
            x.avg_pool2d((2, 2), (2, 2), (0, 0), false, true)
                .unwrap()
                .to_vec::<f32>()
                .unwrap(),
            vec![2.5, 4.5, 10.5, 12.5]
        );
        // Corner window with padding 1: 4 real values over 9 (include pad) or over 4 (exclude).
        let inc = x
            .avg_pool2d((3, 3), (3, 3), (1, 1), false, true)
            .unwrap()
            .to_vec::<f32>()
            .unwrap();
        let exc = x
            .avg_pool2d((3, 3), (3, 3), (1, 1), false, false)
            .unwrap()
            .to_vec::<f32>()
            .unwrap();
        assert!(
            (inc[0] - (0.0 + 1.0 + 4.0 + 5.0) / 9.0).abs() < 1e-6 && (exc[0] - 2.5).abs() < 1e-6
        );
        let a = x
            .adaptive_avg_pool2d((3, 3))
            .unwrap()
            .to_vec::<f32>()
            .unwrap();
        assert!(
            (a[0] - 2.5).abs() < 1e-6 && (a[4] - 7.5).abs() < 1e-6,
            "{a:?}"
        );
        let y = leaf(&[2, 2, 5, 7], 2);
        gradcheck(
            |t| t[0].avg_pool2d((3, 2), (2, 2), (1, 1), true, false),
            std::slice::from_ref(&y),
            1e-2,
            1e-2,
        );
        gradcheck(|t| t[0].adaptive_avg_pool2d((2, 3)), &[y], 1e-2, 1e-2);
    }
}
