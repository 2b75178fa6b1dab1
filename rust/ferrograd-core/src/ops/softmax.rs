//! softmax, log_softmax and logsumexp along an axis. Fused row kernels run on the last axis; other
//! axes are moved last and back.

use crate::cpu::softmax::{log_softmax_backward_rows, softmax_backward_rows, softmax_rows};
use crate::layout::normalize_axis;
use crate::{CpuStorage, Result, Storage, Tensor};

impl Tensor {
    /// exp(x) / sum(exp(x)) along `dim`.
    pub fn softmax(&self, dim: isize) -> Result<Tensor> {
        self.softmax_along("softmax", dim, false)
    }

    /// x - logsumexp(x) along `dim`, computed stably.
    pub fn log_softmax(&self, dim: isize) -> Result<Tensor> {
        self.softmax_along("log_softmax", dim, true)
    }

    /// log(sum(exp(x))) along `dim`; its gradient is softmax(x) times the incoming gradient.
    /// A half-precision input runs the same steps in its own dtype (each rounded once, as
    /// PyTorch's composite does); its row maxima, exact in any dtype, are found in float32.
    pub fn logsumexp(&self, dim: isize, keepdim: bool) -> Result<Tensor> {
        let half = super::half_result(&[self]).is_some();
        if !half {
            super::expect_f32("logsumexp", self)?;
        }
        let d = normalize_axis("logsumexp", dim, self.rank())?;
        let shift = {
            let _guard = crate::NoGradGuard::new();
            let wide = if half {
                self.to_dtype(crate::DType::F32)?
            } else {
                self.clone()
            };
            let m = wide.max_dim(d as isize, true)?;
            // Rows of -inf keep a zero shift so the result is -inf, not NaN.
            let finite = m.abs()?.lt(&Tensor::full(
                &[],
                f64::INFINITY,
                crate::DType::F32,
                m.device(),
            )?)?;
            finite
                .where_cond(&m, &m.zeros_like()?)?
                .to_dtype(self.dtype())?
        };
        let lse = self
            .sub(&shift)?
            .exp()?
            .sum_axes(&[d], true)?
            .log()?
            .add(&shift)?;
        if keepdim {
            Ok(lse)
        } else {
            lse.squeeze(Some(d as isize))
        }
    }

    fn softmax_along(&self, op: &'static str, dim: isize, log: bool) -> Result<Tensor> {
        if let Some(dtype) = super::half_result(&[self]) {
            return super::widened(&[self], dtype, |t| t[0].softmax_along(op, dim, log));
        }
        super::expect_f32(op, self)?;
        if self.rank() == 0 {
            return self.reshape(&[1])?.softmax_along(op, 0, log)?.reshape(&[]);
        }
        let d = normalize_axis(op, dim, self.rank())?;
        let last = self.rank() - 1;
        if d != last {
            return self
                .transpose(d as isize, last as isize)?
                .softmax_along(op, -1, log)?
                .transpose(d as isize, last as isize);
        }
        let n = self.shape()[last];
        let x = self.contiguous()?;
        let out = {
            let st = x.storage()?;
            match &*st {
                Storage::Cpu(_) => {
                    Storage::Cpu(CpuStorage::F32(softmax_rows(st.f32s(op)?, n, log)))
                }
                Storage::Cuda(s) => {
                    Storage::Cuda(crate::cuda::softmax::forward(s, x.numel(), n, log)?)
                }
            }
        };
        let x = self.clone();
        Ok(Tensor::from_op_saving_output(
            out,
            self.shape(),
            op,
            &[self],
            move |y| {
                Box::new(move |g| {
                    if crate::autograd::is_grad_enabled() {
                        return Ok(vec![Some(recorded_backward(op, &x, g, log)?)]);
                    }
                    let g = g.contiguous()?;
                    if let (Storage::Cuda(ys), Storage::Cuda(gs)) = (&*y.storage()?, &*g.storage()?)
                    {
                        let dx = crate::cuda::softmax::backward(ys, gs, y.numel(), n, log)?;
                        return Ok(vec![Some(Tensor::from_storage(
                            Storage::Cuda(dx),
                            crate::Layout::contiguous(y.shape()),
                        ))]);
                    }
                    let (g, yv) = (g.contiguous()?.to_vec::<f32>()?, y.to_vec::<f32>()?);
                    let dx = if log {
                        log_softmax_backward_rows(&yv, &g, n)
                    } else {
                        softmax_backward_rows(&yv, &g, n)
                    };
                    Ok(vec![Some(Tensor::from_vec(dx, y.shape())?)])
                })
            },
        ))
    }
}

/// The softmax (or log-softmax) backward along the last axis as recorded ops, for create_graph
/// walks: `y (g - sum(g y))`, or `g - exp(y) sum(g)` for log-softmax, with `y` recomputed
/// recorded from `x`.
fn recorded_backward(op: &'static str, x: &Tensor, g: &Tensor, log: bool) -> Result<Tensor> {
    let y = x.softmax_along(op, -1, log)?;
    if log {
        g.sub(&y.exp()?.mul(&g.sum(&[-1], true)?)?)
    } else {
        y.mul(&g.sub(&g.mul(&y)?.sum(&[-1], true)?)?)
    }
}

#[cfg(test)]
mod tests {
    use crate::testing::gradcheck;
    use crate::Tensor;

    #[test]
    fn softmax_values_and_gradients() {
        let x = Tensor::from_vec(vec![1.0f32, 2.0, 3.0, -1.0, 0.0, 1000.0], &[2, 3]).unwrap();
        let y = x.softmax(-1).unwrap().to_vec::<f32>().unwrap();
        let e = [1f32.exp(), 2f32.exp(), 3f32.exp()];
        let s: f32 = e.iter().sum();
        assert!(
            (y[0] - e[0] / s).abs() < 1e-6 && (y[5] - 1.0).abs() < 1e-6,
            "{y:?}"
        );
        let ls = x.log_softmax(1).unwrap().to_vec::<f32>().unwrap();
        assert!((ls[2] - (3.0 - s.ln())).abs() < 1e-5 && ls[3] < -1000.0);
        crate::rng::manual_seed(3);
        let z = Tensor::randn(&[3, 4, 2], 0.0, 1.0).unwrap();
        z.set_requires_grad(true).unwrap();
        gradcheck(|t| t[0].softmax(1), std::slice::from_ref(&z), 1e-3, 1e-2);
        gradcheck(
            |t| t[0].log_softmax(-1),
            std::slice::from_ref(&z),
            1e-3,
            1e-2,
        );
        gradcheck(|t| t[0].logsumexp(0, false), &[z], 1e-3, 1e-2);
    }
}
