//! Broadcasting binary ops (arithmetic on f32, integer operands promoted as in `integer.rs`,
//! comparisons on every dtype) and `where`.

use super::integer::is_integral;
use crate::cpu::elementwise::{compare, zip};
use crate::cpu::strided::for_each_row;
use crate::layout::broadcast_shapes;
use crate::{CpuStorage, DType, Error, Layout, Result, Storage, Tensor};

/// A pointwise f32 function of two operands.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum BinaryOp {
    Add,
    Sub,
    Mul,
    Div,
    Pow,
    Maximum,
    Minimum,
    /// The angle of the point (b, a): atan2(a, b).
    Atan2,
    /// a / b rounded down, exactly (not the floor of the rounded quotient).
    FloorDivide,
    /// The remainder with the divisor's sign (Python's `%`).
    Remainder,
    /// The remainder with the dividend's sign (C's `fmod`).
    Fmod,
    /// dz/dα of a Gamma(α, 1) draw z (a = α, b = z): the reparametrised gamma sample's gradient
    /// (`cpu/gamma_functions.rs`).
    StandardGammaGrad,
    /// The regularised lower and upper incomplete gamma functions P(a, x) and Q(a, x).
    Igamma,
    Igammac,
    /// The Hurwitz zeta function ζ(a, b) (`cpu/zeta.rs`).
    Zeta,
}

impl BinaryOp {
    #[inline(always)]
    fn apply(self, a: f32, b: f32) -> f32 {
        match self {
            BinaryOp::Add => a + b,
            BinaryOp::Sub => a - b,
            BinaryOp::Mul => a * b,
            BinaryOp::Div => a / b,
            BinaryOp::Pow => a.powf(b),
            // NaN propagates, as in PyTorch.
            BinaryOp::Maximum => {
                if a.is_nan() || b.is_nan() {
                    f32::NAN
                } else {
                    a.max(b)
                }
            }
            BinaryOp::Minimum => {
                if a.is_nan() || b.is_nan() {
                    f32::NAN
                } else {
                    a.min(b)
                }
            }
            BinaryOp::Atan2 => a.atan2(b),
            BinaryOp::FloorDivide => floor_divide(a, b),
            BinaryOp::Remainder => remainder(a, b),
            // Rust's `%` on floats is C's fmod: exact.
            BinaryOp::Fmod => a % b,
            BinaryOp::StandardGammaGrad => crate::cpu::gamma_functions::standard_gamma_grad(a, b),
            BinaryOp::Igamma => crate::cpu::gamma_functions::regularized_gamma(a, b, false),
            BinaryOp::Igammac => crate::cpu::gamma_functions::regularized_gamma(a, b, true),
            BinaryOp::Zeta => crate::cpu::zeta::hurwitz_zeta(a, b),
        }
    }

    pub(super) fn name(self) -> &'static str {
        match self {
            BinaryOp::Add => "add",
            BinaryOp::Sub => "sub",
            BinaryOp::Mul => "mul",
            BinaryOp::Div => "div",
            BinaryOp::Pow => "pow",
            BinaryOp::Maximum => "maximum",
            BinaryOp::Minimum => "minimum",
            BinaryOp::Atan2 => "atan2",
            BinaryOp::FloorDivide => "floor_divide",
            BinaryOp::Remainder => "remainder",
            BinaryOp::Fmod => "fmod",
            BinaryOp::StandardGammaGrad => "standard_gamma_grad",
            BinaryOp::Igamma => "igamma",
            BinaryOp::Igammac => "igammac",
            BinaryOp::Zeta => "zeta",
        }
    }
}

/// The remainder of a / b with b's sign: fmod is exact, and moving it by b where the signs differ
/// rounds at most once.
#[inline(always)]
fn remainder(a: f32, b: f32) -> f32 {
    let m = a % b;
    if m != 0.0 && (m < 0.0) != (b < 0.0) {
        m + b
    } else {
        m
    }
}

/// floor(a / b) of the exact quotient. The float quotient a / b can round up to an integer the
/// exact one lies just below (1 / 0.1 is 10 in f32 while 0.1f32 goes into 1 only 9 times), so
/// the quotient is rebuilt from the exact fmod: (a - fmod(a, b)) / b is within rounding of an
/// integer, one is taken off where the remainder's sign calls for floor rather than trunc, and
/// rounding to the nearest integer removes the division's rounding error. Division by zero
/// gives IEEE's a / b; a zero quotient keeps the sign a / b would have.
#[inline(always)]
fn floor_divide(a: f32, b: f32) -> f32 {
    if b == 0.0 {
        return a / b;
    }
    let m = a % b;
    let mut q = (a - m) / b;
    if m != 0.0 && (b < 0.0) != (m < 0.0) {
        q -= 1.0;
    }
    if q == 0.0 {
        return (0.0f32).copysign(a / b);
    }
    let down = q.floor();
    if q - down > 0.5 {
        down + 1.0
    } else {
        down
    }
}

/// A comparison producing a bool tensor.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl CmpOp {
    fn apply(self, a: f64, b: f64) -> bool {
        match self {
            CmpOp::Eq => a == b,
            CmpOp::Ne => a != b,
            CmpOp::Lt => a < b,
            CmpOp::Le => a <= b,
            CmpOp::Gt => a > b,
            CmpOp::Ge => a >= b,
        }
    }
}

/// Layouts of `a` and `b` broadcast to their common shape.
fn broadcast_pair(
    op: &'static str,
    a: &Tensor,
    b: &Tensor,
) -> Result<(Vec<usize>, Layout, Layout)> {
    super::same_device(op, a, b)?;
    let shape = broadcast_shapes(op, a.shape(), b.shape())?;
    let la = a.layout().broadcast_to(&shape)?;
    let lb = b.layout().broadcast_to(&shape)?;
    Ok((shape, la, lb))
}

/// The backward pass of a binary op: the gradients of both operands (before summing over
/// broadcast axes) from the output's gradient and the two operands.
trait BinaryBackward:
    Fn(&Tensor, &Tensor, &Tensor) -> Result<(Option<Tensor>, Option<Tensor>)> + Send + Sync + 'static
{
}

impl<F> BinaryBackward for F where
    F: Fn(&Tensor, &Tensor, &Tensor) -> Result<(Option<Tensor>, Option<Tensor>)>
        + Send
        + Sync
        + 'static
{
}

impl Tensor {
    /// Sums a broadcast gradient back down to `shape` (the inverse of broadcasting).
    pub fn sum_to(&self, shape: &[usize]) -> Result<Tensor> {
        if self.shape() == shape {
            return Ok(self.clone());
        }
        let lead = self.rank() - shape.len();
        let mut axes: Vec<usize> = (0..lead).collect();
        for (i, &d) in shape.iter().enumerate() {
            if d == 1 && self.shape()[lead + i] != 1 {
                axes.push(lead + i);
            }
        }
        self.sum_axes(&axes, true)?.reshape(shape)
    }

    /// Applies a binary op with broadcasting, without recording the tape.
    fn map_binary(&self, rhs: &Tensor, op: BinaryOp) -> Result<(Vec<usize>, Storage)> {
        for t in [self, rhs] {
            if t.dtype() != DType::F32 {
                return Err(Error::dtype(op.name(), "float32 operands", t.dtype()));
            }
        }
        let (shape, la, lb) = broadcast_pair(op.name(), self, rhs)?;
        let (sa, sb) = (self.storage()?, rhs.storage()?);
        let out = match (&*sa, &*sb) {
            (Storage::Cpu(_), Storage::Cpu(_)) => {
                let (a, b) = (sa.f32s(op.name())?, sb.f32s(op.name())?);
                // One match per call so each closure sees a constant op and vectorises.
                macro_rules! specialise {
                    ($($v:ident),*) => {
                        match op {
                            $(BinaryOp::$v => zip(a, &la, b, &lb, |x, y| BinaryOp::$v.apply(x, y)),)*
                        }
                    };
                }
                Storage::Cpu(CpuStorage::F32(specialise! {
                    Add, Sub, Mul, Div, Pow, Maximum, Minimum, Atan2, FloorDivide, Remainder, Fmod,
                    StandardGammaGrad, Igamma, Igammac, Zeta
                }))
            }
            (Storage::Cuda(a), Storage::Cuda(b)) => {
                Storage::Cuda(crate::cuda::elementwise::binary(a, &la, b, &lb, op)?)
            }
            _ => return Err(super::mixed_devices(op.name(), self, rhs)),
        };
        Ok((shape, out))
    }

    fn binary(&self, rhs: &Tensor, op: BinaryOp, backward: impl BinaryBackward) -> Result<Tensor> {
        if self.dtype() != DType::F32 || rhs.dtype() != DType::F32 {
            if let Some(dtype) = super::half_result(&[self, rhs]) {
                return super::widened(&[self, rhs], dtype, |t| t[0].apply_binary(&t[1], op));
            }
            if let Some(out) = self.promoted_binary(rhs, op)? {
                return Ok(out);
            }
        }
        if self.keeps_channels_last_with(rhs) {
            return Tensor::in_nhwc_order(&[self, rhs], |v| {
                v[0].binary_in_order(&v[1], op, backward)
            });
        }
        self.binary_in_order(rhs, op, backward)
    }

    /// `binary` of f32 operands with a row-major result, whatever their layouts.
    fn binary_in_order(
        &self,
        rhs: &Tensor,
        op: BinaryOp,
        backward: impl BinaryBackward,
    ) -> Result<Tensor> {
        let (shape, storage) = self.map_binary(rhs, op)?;
        let (a, b) = (self.clone(), rhs.clone());
        let backward: crate::autograd::BackwardFn = Box::new(move |g| {
            let (ga, gb) = backward(g, &a, &b)?;
            Ok(vec![
                ga.map(|t| t.sum_to(a.shape())).transpose()?,
                gb.map(|t| t.sum_to(b.shape())).transpose()?,
            ])
        });
        Ok(Tensor::from_op(
            storage,
            &shape,
            op.name(),
            &[self, rhs],
            backward,
        ))
    }

    /// True when a pointwise op of this tensor and `rhs` should keep the channels-last format:
    /// an operand of the result's shape is channels-last (and not row-major), and neither has
    /// more than four axes.
    fn keeps_channels_last_with(&self, rhs: &Tensor) -> bool {
        let full = |t: &Tensor, other: &Tensor| {
            t.is_channels_last_only()
                && other.rank() <= 4
                && crate::layout::broadcast_shapes("binary", t.shape(), other.shape())
                    .is_ok_and(|s| s == t.shape())
        };
        full(self, rhs) || full(rhs, self)
    }

    pub fn add(&self, rhs: &Tensor) -> Result<Tensor> {
        self.binary(rhs, BinaryOp::Add, |g, _, _| {
            Ok((Some(g.clone()), Some(g.clone())))
        })
    }

    pub fn sub(&self, rhs: &Tensor) -> Result<Tensor> {
        self.binary(rhs, BinaryOp::Sub, |g, _, _| {
            Ok((Some(g.clone()), Some(g.neg()?)))
        })
    }

    pub fn mul(&self, rhs: &Tensor) -> Result<Tensor> {
        self.binary(rhs, BinaryOp::Mul, |g, a, b| {
            let ga = if a.requires_grad() {
                Some(g.mul(b)?)
            } else {
                None
            };
            let gb = if b.requires_grad() {
                Some(g.mul(a)?)
            } else {
                None
            };
            Ok((ga, gb))
        })
    }

    pub fn div(&self, rhs: &Tensor) -> Result<Tensor> {
        self.binary(rhs, BinaryOp::Div, |g, a, b| {
            let ga = if a.requires_grad() {
                Some(g.div(b)?)
            } else {
                None
            };
            let gb = if b.requires_grad() {
                Some(g.mul(a)?.div(&b.square()?)?.neg()?)
            } else {
                None
            };
            Ok((ga, gb))
        })
    }

    /// Elementwise a^b.
    pub fn pow(&self, rhs: &Tensor) -> Result<Tensor> {
        self.binary(rhs, BinaryOp::Pow, |g, a, b| {
            let ga = if a.requires_grad() {
                Some(g.mul(&b.mul(&a.pow(&b.affine(1.0, -1.0)?)?)?)?)
            } else {
                None
            };
            let gb = if b.requires_grad() {
                Some(g.mul(&a.pow(b)?.mul(&a.log()?)?)?)
            } else {
                None
            };
            Ok((ga, gb))
        })
    }

    /// Elementwise maximum; at ties the gradient is split equally, as in PyTorch.
    pub fn maximum(&self, rhs: &Tensor) -> Result<Tensor> {
        self.binary(rhs, BinaryOp::Maximum, |g, a, b| {
            extremum_grads(g, a, b, CmpOp::Gt)
        })
    }

    /// Elementwise minimum; at ties the gradient is split equally, as in PyTorch.
    pub fn minimum(&self, rhs: &Tensor) -> Result<Tensor> {
        self.binary(rhs, BinaryOp::Minimum, |g, a, b| {
            extremum_grads(g, a, b, CmpOp::Lt)
        })
    }

    /// atan2(self, rhs): the angle of the point (rhs, self), in (-pi, pi].
    pub fn atan2(&self, rhs: &Tensor) -> Result<Tensor> {
        self.binary(rhs, BinaryOp::Atan2, |g, a, b| {
            // d/da = b / (a^2 + b^2), d/db = -a / (a^2 + b^2).
            let scaled = g.div(&a.square()?.add(&b.square()?)?)?;
            let ga = if a.requires_grad() {
                Some(scaled.mul(b)?)
            } else {
                None
            };
            let gb = if b.requires_grad() {
                Some(scaled.mul(a)?.neg()?)
            } else {
                None
            };
            Ok((ga, gb))
        })
    }

    /// self / rhs rounded down (exactly; see `floor_divide`); integers divide in int64. Its
    /// gradient is zero, as in PyTorch.
    pub fn floor_divide(&self, rhs: &Tensor) -> Result<Tensor> {
        self.binary(rhs, BinaryOp::FloorDivide, |g, _, _| {
            Ok((Some(g.zeros_like()?), Some(g.zeros_like()?)))
        })
    }

    /// The remainder of self / rhs with the divisor's sign, as Python's `%`:
    /// self - rhs * floor(self / rhs), with that rule's gradients (1 and -floor(self / rhs)).
    pub fn remainder(&self, rhs: &Tensor) -> Result<Tensor> {
        self.binary(rhs, BinaryOp::Remainder, |g, a, b| {
            let gb = match b.requires_grad() {
                true => Some(g.mul(&a.detach().floor_divide(&b.detach())?)?.neg()?),
                false => None,
            };
            Ok((Some(g.clone()), gb))
        })
    }

    /// The remainder of self / rhs with the dividend's sign, as C's `fmod`:
    /// self - rhs * trunc(self / rhs), with that rule's gradients (1 and -trunc(self / rhs)).
    pub fn fmod(&self, rhs: &Tensor) -> Result<Tensor> {
        self.binary(rhs, BinaryOp::Fmod, |g, a, b| {
            let gb = match b.requires_grad() {
                true => {
                    let (a, b) = (a.detach(), b.detach());
                    // trunc(a / b) = (a - fmod(a, b)) / b rounded to the nearest integer.
                    let quotient = a.sub(&a.fmod(&b)?)?.div(&b)?.round()?;
                    Some(g.mul(&quotient)?.neg()?)
                }
                false => None,
            };
            Ok((Some(g.clone()), gb))
        })
    }

    /// The public op for `op`.
    pub(super) fn apply_binary(&self, rhs: &Tensor, op: BinaryOp) -> Result<Tensor> {
        match op {
            BinaryOp::Add => self.add(rhs),
            BinaryOp::Sub => self.sub(rhs),
            BinaryOp::Mul => self.mul(rhs),
            BinaryOp::Div => self.div(rhs),
            BinaryOp::Pow => self.pow(rhs),
            BinaryOp::Maximum => self.maximum(rhs),
            BinaryOp::Minimum => self.minimum(rhs),
            BinaryOp::Atan2 => self.atan2(rhs),
            BinaryOp::FloorDivide => self.floor_divide(rhs),
            BinaryOp::Remainder => self.remainder(rhs),
            BinaryOp::Fmod => self.fmod(rhs),
            BinaryOp::StandardGammaGrad => self.standard_gamma_grad(rhs),
            BinaryOp::Igamma => self.igamma(rhs),
            BinaryOp::Igammac => self.igammac(rhs),
            BinaryOp::Zeta => self.zeta(rhs),
        }
    }

    /// P(a, x), the regularised lower incomplete gamma function, with a this tensor's entries;
    /// differentiable in x (its derivative is the gamma density), not in a (as in PyTorch).
    pub fn igamma(&self, x: &Tensor) -> Result<Tensor> {
        self.binary(x, BinaryOp::Igamma, |g, a, x| {
            Ok((None, Some(g.mul(&a.incomplete_gamma_slope("igamma", x)?)?)))
        })
    }

    /// Q(a, x) = 1 - P(a, x), the regularised upper incomplete gamma function.
    pub fn igammac(&self, x: &Tensor) -> Result<Tensor> {
        self.binary(x, BinaryOp::Igammac, |g, a, x| {
            Ok((
                None,
                Some(g.mul(&a.incomplete_gamma_slope("igammac", x)?)?.neg()?),
            ))
        })
    }

    /// The Hurwitz zeta function ζ(x, q) = Σ_k (q + k)^-x with x this tensor's entries;
    /// differentiable in q (∂ζ/∂q = -x ζ(x + 1, q)), not in x (as in PyTorch).
    pub fn zeta(&self, q: &Tensor) -> Result<Tensor> {
        self.binary(q, BinaryOp::Zeta, |g, x, q| {
            if x.requires_grad() {
                return Err(Error::NotImplemented(
                    "zeta: no derivative with respect to `input` (the exponent x), as in PyTorch"
                        .into(),
                ));
            }
            let slope = x.mul(&x.add_scalar(1.0)?.zeta(q)?)?.neg()?;
            Ok((None, Some(g.mul(&slope)?)))
        })
    }

    /// dP(a, x)/dx = x^(a-1) e^-x / Γ(a), recorded (with 0 log 0 = 0, so a = 1 gives e^-x at
    /// x = 0). The gradient in a has no closed form; PyTorch has none either, so asking for it
    /// raises.
    fn incomplete_gamma_slope(&self, op: &str, x: &Tensor) -> Result<Tensor> {
        if self.requires_grad() {
            return Err(Error::NotImplemented(format!(
                "{op}: no derivative with respect to `input` (the shape a), as in PyTorch"
            )));
        }
        let shape_term = self.add_scalar(-1.0)?;
        let power = shape_term.mul(&x.log()?)?;
        let power = shape_term
            .eq_scalar(0.0)?
            .where_cond(&shape_term.mul_scalar(0.0)?, &power)?;
        power.sub(x)?.sub(&self.lgamma()?)?.exp()
    }

    /// dz/dα for draws `z` (the argument) of Gamma(α, 1) with α this tensor's entries: how a draw
    /// held at its quantile moves with α. It has no derivative of its own (a reparametrised gamma
    /// sample is differentiable once, as in PyTorch).
    pub fn standard_gamma_grad(&self, z: &Tensor) -> Result<Tensor> {
        self.binary(z, BinaryOp::StandardGammaGrad, |_, _, _| {
            Err(Error::NotImplemented(
                "standard_gamma_grad: no derivative (a reparametrised gamma sample is differentiable once)".into(),
            ))
        })
    }

    /// Adds a scalar.
    pub fn add_scalar(&self, v: f32) -> Result<Tensor> {
        self.affine(1.0, v)
    }

    /// Multiplies by a scalar.
    pub fn mul_scalar(&self, v: f32) -> Result<Tensor> {
        self.affine(v, 0.0)
    }

    /// Elementwise comparison with broadcasting; the result is a bool tensor outside autograd.
    pub fn compare(&self, rhs: &Tensor, op: CmpOp) -> Result<Tensor> {
        if self.dtype() != rhs.dtype() {
            return Err(Error::dtype("compare", self.dtype(), rhs.dtype()));
        }
        let (shape, la, lb) = broadcast_pair("compare", self, rhs)?;
        let (sa, sb) = (self.storage()?, rhs.storage()?);
        let out = match (&*sa, &*sb) {
            (Storage::Cpu(a), Storage::Cpu(b)) => Storage::Cpu(
                compare(a, &la, b, &lb, |x, y| op.apply(x, y))
                    .map(CpuStorage::Bool)
                    .ok_or_else(|| Error::dtype("compare", a.dtype(), b.dtype()))?,
            ),
            (Storage::Cuda(a), Storage::Cuda(b)) => {
                Storage::Cuda(crate::cuda::elementwise::compare(a, &la, b, &lb, op)?)
            }
            _ => return Err(super::mixed_devices("compare", self, rhs)),
        };
        Ok(Tensor::from_storage(out, Layout::contiguous(&shape)))
    }

    fn compare_scalar(&self, v: f64, op: CmpOp) -> Result<Tensor> {
        let s = Tensor::full(&[], v, self.dtype(), self.device())?;
        self.compare(&s, op)
    }

    pub fn eq(&self, rhs: &Tensor) -> Result<Tensor> {
        self.compare(rhs, CmpOp::Eq)
    }
    pub fn ne(&self, rhs: &Tensor) -> Result<Tensor> {
        self.compare(rhs, CmpOp::Ne)
    }
    pub fn lt(&self, rhs: &Tensor) -> Result<Tensor> {
        self.compare(rhs, CmpOp::Lt)
    }
    pub fn le(&self, rhs: &Tensor) -> Result<Tensor> {
        self.compare(rhs, CmpOp::Le)
    }
    pub fn gt(&self, rhs: &Tensor) -> Result<Tensor> {
        self.compare(rhs, CmpOp::Gt)
    }
    pub fn ge(&self, rhs: &Tensor) -> Result<Tensor> {
        self.compare(rhs, CmpOp::Ge)
    }
    pub fn gt_scalar(&self, v: f32) -> Result<Tensor> {
        self.compare_scalar(v as f64, CmpOp::Gt)
    }
    pub fn eq_scalar(&self, v: f64) -> Result<Tensor> {
        self.compare_scalar(v, CmpOp::Eq)
    }

    /// `self` is a bool condition: picks `a` where true and `b` where false (broadcasting all three).
    pub fn where_cond(&self, a: &Tensor, b: &Tensor) -> Result<Tensor> {
        if self.dtype() != DType::Bool {
            return Err(Error::dtype("where", "a bool condition", self.dtype()));
        }
        let integral = (is_integral(a.dtype()), is_integral(b.dtype()));
        match integral {
            (true, true) => return self.integral_where(a, b),
            // An integer branch beside a float32 one is widened, as in PyTorch.
            (true, false) => return self.where_cond(&a.to_dtype(DType::F32)?, b),
            (false, true) => return self.where_cond(a, &b.to_dtype(DType::F32)?),
            (false, false) => {}
        }
        super::expect_f32("where", a)?;
        super::expect_f32("where", b)?;
        let shape = broadcast_shapes(
            "where",
            &broadcast_shapes("where", self.shape(), a.shape())?,
            b.shape(),
        )?;
        let lc = self.layout().broadcast_to(&shape)?;
        let la = a.layout().broadcast_to(&shape)?;
        let lb = b.layout().broadcast_to(&shape)?;
        let (sc, sa, sb) = (self.storage()?, a.storage()?, b.storage()?);
        super::same_device("where", self, a)?;
        super::same_device("where", self, b)?;
        let out = match (&*sc, &*sa, &*sb) {
            (Storage::Cpu(CpuStorage::Bool(c)), Storage::Cpu(_), Storage::Cpu(_)) => {
                let (va, vb) = (sa.f32s("where")?, sb.f32s("where")?);
                let mut out = vec![0f32; lc.numel()];
                for_each_row(&mut out, [&lc, &la, &lb], |row, [i, j, k], strides| {
                    let len = row.len();
                    match strides {
                        // One condition per row (a per-sample choice): copy the chosen row.
                        [0, 1, 1] => row.copy_from_slice(if c[i] {
                            &va[j..j + len]
                        } else {
                            &vb[k..k + len]
                        }),
                        // Dense rows: a branch-free select through bit masks (a branch per
                        // element mispredicts on mixed conditions), which vectorises.
                        [1, 1, 1] => {
                            let (c, va, vb) = (&c[i..i + len], &va[j..j + len], &vb[k..k + len]);
                            for (((o, &c), a), b) in row.iter_mut().zip(c).zip(va).zip(vb) {
                                let mask = 0u32.wrapping_sub(c as u32);
                                *o = f32::from_bits((a.to_bits() & mask) | (b.to_bits() & !mask));
                            }
                        }
                        [si, sj, sk] => {
                            for (n, o) in row.iter_mut().enumerate() {
                                *o = if c[i + n * si] {
                                    va[j + n * sj]
                                } else {
                                    vb[k + n * sk]
                                };
                            }
                        }
                    }
                });
                Storage::Cpu(CpuStorage::F32(out))
            }
            (Storage::Cuda(c), Storage::Cuda(x), Storage::Cuda(y)) => Storage::Cuda(
                crate::cuda::elementwise::where_cond((c, &lc), (x, &la), (y, &lb))?,
            ),
            _ => return Err(Error::dtype("where", "bool", self.dtype())),
        };
        let cond = self.clone();
        let (sa_shape, sb_shape) = (a.shape().to_vec(), b.shape().to_vec());
        Ok(Tensor::from_op(
            out,
            &shape,
            "where",
            &[a, b],
            Box::new(move |g| {
                let zero = g.zeros_like()?;
                Ok(vec![
                    Some(cond.where_cond(g, &zero)?.sum_to(&sa_shape)?),
                    Some(cond.where_cond(&zero, g)?.sum_to(&sb_shape)?),
                ])
            }),
        ))
    }
}

/// Gradients of max/min: the winner takes the gradient, ties split it in half.
fn extremum_grads(
    g: &Tensor,
    a: &Tensor,
    b: &Tensor,
    wins: CmpOp,
) -> Result<(Option<Tensor>, Option<Tensor>)> {
    let one = Tensor::ones(&[], DType::F32, g.device())?;
    let half = Tensor::full(&[], 0.5, DType::F32, g.device())?;
    let zero = Tensor::zeros(&[], DType::F32, g.device())?;
    let tie = a.eq(b)?;
    let a_wins = a.compare(b, wins)?;
    let wa = tie.where_cond(&half, &a_wins.where_cond(&one, &zero)?)?;
    let wb = wa.affine(-1.0, 1.0)?;
    Ok((Some(g.mul(&wa)?), Some(g.mul(&wb)?)))
}

#[cfg(test)]
mod tests {
    use crate::testing::gradcheck;
    use crate::Tensor;

    use crate::testing::random_leaf as leaf;

    #[test]
    fn broadcasting_binary_gradients() {
        let (a, b) = (leaf(&[3, 4], 1), leaf(&[4], 2));
        gradcheck(
            |x| {
                x[0].mul(&x[1])?
                    .add(&x[0])?
                    .div(&x[1].abs()?.add_scalar(1.0)?)
            },
            &[a, b],
            1e-2,
            1e-2,
        );
        let (a, b) = (leaf(&[2, 1, 3], 3), leaf(&[4, 1], 4));
        gradcheck(
            |x| x[0].sub(&x[1])?.maximum(&x[1].mul_scalar(0.5)?),
            &[a, b],
            1e-3,
            1e-2,
        );
    }

    #[test]
    fn floor_division_and_remainders_are_exact() {
        // The rounded quotient 1 / 0.1 is 10.0; the exact one is just below 10.
        assert_eq!(super::floor_divide(1.0, 0.1), 9.0);
        assert_eq!(super::floor_divide(-7.0, 2.0), -4.0);
        assert_eq!(super::floor_divide(7.0, -2.0), -4.0);
        assert!(super::floor_divide(0.0, -3.0).is_sign_negative());
        assert_eq!(super::floor_divide(5.0, 0.0), f32::INFINITY);
        assert_eq!(super::remainder(-7.0, 2.0), 1.0);
        assert_eq!(super::remainder(7.0, -2.0), -1.0);
        let ints = Tensor::from_vec(vec![7i64, -7, 7, -7], &[4]).unwrap();
        let divisors = Tensor::from_vec(vec![2i64, 2, -2, -2], &[4]).unwrap();
        let floor = ints
            .floor_divide(&divisors)
            .unwrap()
            .to_vec::<i64>()
            .unwrap();
        assert_eq!(floor, vec![3, -4, -4, 3]);
        let rest = ints.remainder(&divisors).unwrap().to_vec::<i64>().unwrap();
        assert_eq!(rest, vec![1, 1, -1, -1]);
        let zero = Tensor::from_vec(vec![0i64], &[1]).unwrap();
        assert!(matches!(
            ints.fmod(&zero),
            Err(crate::Error::Arithmetic { .. })
        ));
    }

    #[test]
    fn atan2_gradients() {
        let (a, b) = (leaf(&[3, 4], 9), leaf(&[4], 10));
        gradcheck(
            |x| x[0].atan2(&x[1].abs()?.add_scalar(0.5)?),
            &[a, b],
            1e-3,
            1e-2,
        );
    }

    #[test]
    fn matmul_and_reductions() {
        let (a, b) = (leaf(&[2, 3, 4], 5), leaf(&[4, 5], 6));
        gradcheck(|x| x[0].matmul(&x[1]), &[a.clone(), b.clone()], 1e-2, 1e-2);
        gradcheck(
            |x| x[0].transpose(0, 2)?.sum(&[1], true)?.exp(),
            std::slice::from_ref(&a),
            1e-3,
            1e-2,
        );
        gradcheck(
            |x| x[0].max_dim(1, false),
            std::slice::from_ref(&a),
            1e-3,
            1e-2,
        );
        gradcheck(|x| x[0].var(&[0, 2], 1, false), &[a], 1e-2, 1e-2);
        let v = leaf(&[4], 7);
        gradcheck(|x| x[1].matmul(&x[0]), &[b, v], 1e-2, 1e-2);
    }

    #[test]
    fn views_and_copies() {
        let a = leaf(&[3, 4], 8);
        gradcheck(
            |x| {
                Tensor::cat(&[x[0].slice(1, 1, 2, 2)?, x[0].narrow(1, 0, 1)?], 1)?
                    .pad(&[(1, 2)], 0.5)
            },
            std::slice::from_ref(&a),
            1e-3,
            1e-2,
        );
        gradcheck(
            |x| Tensor::stack(&[x[0].clone(), x[0].tanh()?], 0)?.permute(&[2, 0, 1]),
            &[a],
            1e-3,
            1e-2,
        );
    }
}
