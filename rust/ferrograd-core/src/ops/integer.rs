//! Integer and bool operands of the arithmetic ops and of the reductions, with PyTorch's type
//! promotion: two integer operands add, subtract, multiply, raise to a power, take maxima and
//! minima, floor-divide and take remainders in int64 (two bools stay bool: `+` and `max` are `or`, `*` and `min` are `and`); an
//! integer operand beside a float32 one, and both operands of a true division or of atan2, become
//! float32; `sum`
//! of integers or bools counts in int64; `max`, `min` and negation keep the dtype, and `argmax` /
//! `argmin` give int64 positions. The integer kernels run on the host (a CUDA operand is read back
//! and the result uploaded): they serve counting, labels and index arithmetic, such as
//! `(pred == y).sum()` or `y.max() + 1`, not the training hot path.

use super::binary::BinaryOp;
use crate::layout::broadcast_shapes;
use crate::{DType, Device, Error, Result, Tensor};

/// Whether `dtype` holds integers (bools count as 0 and 1).
pub(crate) fn is_integral(dtype: DType) -> bool {
    matches!(
        dtype,
        DType::I64 | DType::I32 | DType::U8 | DType::I8 | DType::Bool
    )
}

/// The values of `t` as int64 on the host, broadcast to `shape` and laid out densely.
fn host_i64(t: &Tensor, shape: &[usize]) -> Result<Vec<i64>> {
    t.to_device(Device::Cpu)?
        .to_dtype(DType::I64)?
        .expand(shape)?
        .to_vec::<i64>()
}

impl Tensor {
    /// `op` on two operands that are not both float32, after promotion (see the module notes).
    /// `Ok(None)` leaves the operands to the float32 path, which rejects what is left (16-bit
    /// operands).
    pub(super) fn promoted_binary(&self, rhs: &Tensor, op: BinaryOp) -> Result<Option<Tensor>> {
        let (a, b) = (self.dtype(), rhs.dtype());
        let float_or_integral = |d: DType| d == DType::F32 || is_integral(d);
        if !float_or_integral(a) || !float_or_integral(b) {
            return Ok(None);
        }
        if !(is_integral(a) && is_integral(b)) || matches!(op, BinaryOp::Div | BinaryOp::Atan2) {
            let widened = (self.to_dtype(DType::F32)?, rhs.to_dtype(DType::F32)?);
            return Ok(Some(widened.0.apply_binary(&widened.1, op)?));
        }
        let both_bool = a == DType::Bool && b == DType::Bool;
        if both_bool && op == BinaryOp::Sub {
            return Err(Error::dtype(
                op.name(),
                "int64 or float32 (bools do not subtract)",
                a,
            ));
        }
        super::same_device(op.name(), self, rhs)?;
        let shape = broadcast_shapes(op.name(), self.shape(), rhs.shape())?;
        let (x, y) = (host_i64(self, &shape)?, host_i64(rhs, &shape)?);
        if op == BinaryOp::Pow {
            if let Some(q) = y.iter().find(|&&q| q < 0) {
                return Err(Error::arg(
                    "pow",
                    "exponent",
                    "non-negative integers for an integer base (cast with .float())",
                    q,
                ));
            }
        }
        let dividing = matches!(
            op,
            BinaryOp::FloorDivide | BinaryOp::Remainder | BinaryOp::Fmod
        );
        if dividing && y.contains(&0) {
            return Err(Error::Arithmetic {
                op: op.name(),
                msg: "ZeroDivisionError: expected nonzero integer divisors, got a zero".into(),
            });
        }
        let combine = |p: i64, q: i64| match op {
            // In range by the check above; a power past int64 wraps, as in PyTorch.
            BinaryOp::Pow => p.wrapping_pow(q.min(u32::MAX as i64) as u32),
            BinaryOp::Add => p.wrapping_add(q),
            BinaryOp::Sub => p.wrapping_sub(q),
            BinaryOp::Mul => p.wrapping_mul(q),
            BinaryOp::Maximum => p.max(q),
            // Floor division and the remainders: Rust's `/` and `%` truncate, so results whose
            // signs disagree with the divisor move by one (floor) or by the divisor (remainder).
            BinaryOp::FloorDivide => {
                let (t, r) = (p.wrapping_div(q), p.wrapping_rem(q));
                t - ((r != 0 && (r < 0) != (q < 0)) as i64)
            }
            BinaryOp::Remainder => {
                let r = p.wrapping_rem(q);
                if r != 0 && (r < 0) != (q < 0) {
                    r + q
                } else {
                    r
                }
            }
            BinaryOp::Fmod => p.wrapping_rem(q),
            _ => p.min(q),
        };
        let values: Vec<i64> = x.iter().zip(&y).map(|(&p, &q)| combine(p, q)).collect();
        let out = match both_bool {
            // As in PyTorch: bool + bool is `or`, bool * bool is `and`, and both stay bool.
            true => Tensor::from_vec(
                values.iter().map(|&v| v != 0).collect::<Vec<bool>>(),
                &shape,
            )?,
            false => Tensor::from_vec(values, &shape)?,
        };
        Ok(Some(out.to_device(self.device())?))
    }

    /// `kind` of an integer or bool tensor over `axes`: sums in int64, maxima and minima in the
    /// tensor's dtype, positions (over one axis) in int64.
    pub(super) fn integral_reduce(
        &self,
        op: &'static str,
        axes: &[usize],
        keepdim: bool,
        kind: IntegralReduce,
    ) -> Result<Tensor> {
        let rank = self.rank();
        let kept: Vec<usize> = (0..rank).filter(|d| !axes.contains(d)).collect();
        let order: Vec<usize> = kept.iter().chain(axes).copied().collect();
        // Reduced axes last: each output value reduces one contiguous run.
        let moved = self.to_device(Device::Cpu)?.permute(&order)?;
        let run: usize = axes.iter().map(|&d| self.shape()[d]).product();
        let outputs: usize = kept.iter().map(|&d| self.shape()[d]).product();
        if run == 0 && kind != IntegralReduce::Sum && outputs > 0 {
            return Err(Error::shape(
                op,
                format!(
                    "cannot reduce an empty axis of a tensor of shape {:?}",
                    self.shape()
                ),
            ));
        }
        let values = moved.to_dtype(DType::I64)?.to_vec::<i64>()?;
        let reduce = |c: &[i64]| -> i64 {
            let position = |better: fn(i64, i64) -> bool| {
                // The first position at ties, as in PyTorch.
                (1..c.len()).fold(0, |best, i| if better(c[i], c[best]) { i } else { best }) as i64
            };
            match kind {
                IntegralReduce::Sum => c.iter().fold(0i64, |s, &v| s.wrapping_add(v)),
                IntegralReduce::Max => c.iter().copied().max().unwrap_or(0),
                IntegralReduce::Min => c.iter().copied().min().unwrap_or(0),
                IntegralReduce::ArgMax => position(|a, b| a > b),
                IntegralReduce::ArgMin => position(|a, b| a < b),
            }
        };
        let reduced: Vec<i64> = match run {
            0 => vec![0; outputs],
            _ => values.chunks(run).map(reduce).collect(),
        };
        let shape: Vec<usize> = (0..rank)
            .filter_map(|d| match axes.contains(&d) {
                false => Some(self.shape()[d]),
                true => keepdim.then_some(1),
            })
            .collect();
        let out = Tensor::from_vec(reduced, &shape)?;
        let out = match kind {
            IntegralReduce::Max | IntegralReduce::Min => out.to_dtype(self.dtype())?,
            _ => out,
        };
        out.to_device(self.device())
    }

    /// `where` with integer or bool branches (`self` the bool condition): int64, or the branches'
    /// dtype when they share one, as PyTorch promotes them.
    pub(super) fn integral_where(&self, a: &Tensor, b: &Tensor) -> Result<Tensor> {
        super::same_device("where", self, a)?;
        super::same_device("where", self, b)?;
        let shape = broadcast_shapes("where", self.shape(), a.shape())?;
        let shape = broadcast_shapes("where", &shape, b.shape())?;
        let condition = host_i64(self, &shape)?;
        let (x, y) = (host_i64(a, &shape)?, host_i64(b, &shape)?);
        let picked: Vec<i64> = condition
            .iter()
            .zip(x.iter().zip(&y))
            .map(|(&c, (&p, &q))| if c != 0 { p } else { q })
            .collect();
        let dtype = if a.dtype() == b.dtype() {
            a.dtype()
        } else {
            DType::I64
        };
        Tensor::from_vec(picked, &shape)?
            .to_dtype(dtype)?
            .to_device(self.device())
    }

    /// `f` (negation, absolute value, sign) of each entry of an integer tensor, in its own dtype
    /// (bools refused, as in PyTorch).
    pub(super) fn integral_unary(&self, op: &'static str, f: fn(i64) -> i64) -> Result<Tensor> {
        if self.dtype() == DType::Bool {
            return Err(Error::dtype(
                op,
                "an integer or float type (not bool)",
                self.dtype(),
            ));
        }
        let values = host_i64(self, self.shape())?;
        Tensor::from_vec(
            values.into_iter().map(f).collect::<Vec<i64>>(),
            self.shape(),
        )?
        .to_dtype(self.dtype())?
        .to_device(self.device())
    }
}

/// The reductions `integral_reduce` computes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum IntegralReduce {
    Sum,
    Max,
    Min,
    ArgMax,
    ArgMin,
}

#[cfg(test)]
mod tests {
    use crate::{DType, Tensor};

    #[test]
    fn integer_operands_promote_as_in_pytorch() {
        let a = Tensor::from_vec(vec![3i64, -4, 5, 6], &[2, 2]).unwrap();
        let b = Tensor::from_vec(vec![2i32, 7], &[2]).unwrap();
        let sum = a.add(&b).unwrap();
        assert_eq!(sum.dtype(), DType::I64);
        assert_eq!(sum.to_vec::<i64>().unwrap(), vec![5, 3, 7, 13]);
        assert_eq!(
            a.mul(&b).unwrap().to_vec::<i64>().unwrap(),
            vec![6, -28, 10, 42]
        );
        let quotient = a.div(&b).unwrap();
        assert_eq!(quotient.dtype(), DType::F32);
        assert_eq!(
            quotient.to_vec::<f32>().unwrap(),
            vec![1.5, -4.0 / 7.0, 2.5, 6.0 / 7.0]
        );
        let x = Tensor::from_vec(vec![0.5f32, 0.25], &[2]).unwrap();
        assert_eq!(
            a.mul(&x).unwrap().to_vec::<f32>().unwrap(),
            vec![1.5, -1.0, 2.5, 1.5]
        );
        let power = a.pow(&b).unwrap();
        assert_eq!(power.dtype(), DType::I64);
        assert_eq!(power.to_vec::<i64>().unwrap(), vec![9, -16384, 25, 279_936]);
        assert!(a
            .pow(&Tensor::from_vec(vec![-1i64], &[1]).unwrap())
            .is_err());
        let t = Tensor::from_vec(vec![true, false, true, true], &[2, 2]).unwrap();
        let f = Tensor::from_vec(vec![false, false], &[2]).unwrap();
        assert_eq!(
            t.add(&f).unwrap().to_vec::<bool>().unwrap(),
            vec![true, false, true, true]
        );
        assert_eq!(t.mul(&f).unwrap().dtype(), DType::Bool);
        assert!(t.sub(&f).is_err());
    }

    #[test]
    fn integer_extrema_positions_and_negation_keep_pytorchs_dtypes() {
        let a = Tensor::from_vec(vec![3i32, -4, 5, 5, 0, -4], &[2, 3]).unwrap();
        let max = a.max_all().unwrap();
        assert_eq!(
            (max.dtype(), max.to_vec::<i32>().unwrap()),
            (DType::I32, vec![5])
        );
        assert_eq!(a.min_all().unwrap().to_vec::<i32>().unwrap(), vec![-4]);
        let rows = a.max_dim(1, false).unwrap();
        assert_eq!(rows.to_vec::<i32>().unwrap(), vec![5, 5]);
        let columns = a.min_dim(0, true).unwrap();
        assert_eq!(columns.shape(), &[1, 3]);
        assert_eq!(columns.to_vec::<i32>().unwrap(), vec![3, -4, -4]);
        // First position at ties, as in PyTorch.
        let argmax = a.argmax(1, false).unwrap();
        assert_eq!(
            (argmax.dtype(), argmax.to_vec::<i64>().unwrap()),
            (DType::I64, vec![2, 0])
        );
        assert_eq!(
            a.argmin(1, false).unwrap().to_vec::<i64>().unwrap(),
            vec![1, 2]
        );
        let negated = a.neg().unwrap();
        assert_eq!(negated.dtype(), DType::I32);
        assert_eq!(negated.to_vec::<i32>().unwrap(), vec![-3, 4, -5, -5, 0, 4]);
        assert_eq!(
            a.abs().unwrap().to_vec::<i32>().unwrap(),
            vec![3, 4, 5, 5, 0, 4]
        );
        assert_eq!(
            a.sign().unwrap().to_vec::<i32>().unwrap(),
            vec![1, -1, 1, 1, 0, -1]
        );
        let mask = Tensor::from_vec(vec![false, true, false], &[3]).unwrap();
        assert_eq!(
            mask.max_all().unwrap().to_vec::<bool>().unwrap(),
            vec![true]
        );
        assert!(mask.neg().is_err());
        let empty = Tensor::from_vec(Vec::<i64>::new(), &[2, 0]).unwrap();
        assert!(empty.max_dim(1, false).is_err());
        assert_eq!(empty.max_dim(0, false).unwrap().shape(), &[0]);
        let labels = Tensor::from_vec(vec![0i64, 3, 0], &[3]).unwrap();
        let seven = Tensor::from_vec(vec![7i64], &[1]).unwrap();
        let replaced = labels
            .eq_scalar(0.0)
            .unwrap()
            .where_cond(&seven, &labels)
            .unwrap();
        assert_eq!(
            (replaced.dtype(), replaced.to_vec::<i64>().unwrap()),
            (DType::I64, vec![7, 3, 7])
        );
        let halves = Tensor::from_vec(vec![0.5f32], &[1]).unwrap();
        let mixed = mask.where_cond(&halves, &labels).unwrap();
        assert_eq!(mixed.to_vec::<f32>().unwrap(), vec![0.0, 0.5, 0.0]);
        let widened = a.powf(0.5).unwrap();
        assert_eq!(widened.dtype(), DType::F32);
    }

    #[test]
    fn integer_sums_count_in_int64_over_any_axes() {
        let a = Tensor::from_vec((0..24i64).collect::<Vec<_>>(), &[2, 3, 4]).unwrap();
        let over_1 = a.sum_axes(&[1], false).unwrap();
        assert_eq!(over_1.shape(), &[2, 4]);
        assert_eq!(
            over_1.to_vec::<i64>().unwrap(),
            vec![12, 15, 18, 21, 48, 51, 54, 57]
        );
        let over_0_2 = a.sum_axes(&[0, 2], true).unwrap();
        assert_eq!(over_0_2.shape(), &[1, 3, 1]);
        assert_eq!(over_0_2.to_vec::<i64>().unwrap(), vec![60, 92, 124]);
        let mask = Tensor::from_vec(vec![true, false, true], &[3]).unwrap();
        assert_eq!(
            mask.sum_axes(&[0], false).unwrap().to_vec::<i64>().unwrap(),
            vec![2]
        );
    }
}
