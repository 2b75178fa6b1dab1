//! Elementwise unary ops and activations on f32, each with its derivative.

use super::integer::is_integral;
use crate::cpu::elementwise::{map, zip};
use crate::cpu::special::{exp, normal_cdf_and_density};
use crate::cpu::{bessel, gamma_functions, normal_functions};
use std::sync::Arc;

use crate::{Result, Storage, Tensor};

const SQRT_2_OVER_PI: f32 = 0.797_884_6;
const GELU_TANH_C: f32 = 0.044_715;

/// A pointwise f32 function; derivatives of activations are ops too, so backward reuses the kernel.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum UnaryOp {
    Neg,
    Exp,
    Log,
    Sqrt,
    Abs,
    Sign,
    Recip,
    Square,
    Relu,
    /// 1 where x > 0 else 0 (relu's derivative).
    Step,
    LeakyRelu(f32),
    /// 1 where x > 0 else the slope.
    LeakyReluGrad(f32),
    Sigmoid,
    Tanh,
    GeluErf,
    GeluErfGrad,
    GeluTanh,
    GeluTanhGrad,
    Silu,
    SiluGrad,
    /// (1/beta) log(1 + exp(beta x)), linear above `threshold` as in PyTorch.
    Softplus {
        beta: f32,
        threshold: f32,
    },
    /// x^p for a scalar p.
    Powf(f32),
    /// clamp to [lo, hi].
    Clamp(f32, f32),
    /// 1 where lo < x < hi (clamp's derivative: PyTorch's current rule gives no gradient at the
    /// bounds, nor to NaN).
    InRange(f32, f32),
    /// a * x + b.
    Affine(f32, f32),
    /// The nearest bfloat16 value (ties to even), kept in f32: how mixed precision rounds the
    /// operands of its products (see `crate::autocast`).
    RoundBf16,
    Sin,
    Cos,
    Floor,
    Ceil,
    /// The nearest integer, ties to even (as PyTorch's `round`).
    Round,
    /// log(1 + x), accurate for small x.
    Log1p,
    /// exp(x) - 1, accurate for small x.
    Expm1,
    /// The error function and its complement 1 - erf(x) (accurate where erf(x) nears 1).
    Erf,
    Erfc,
    Tan,
    Asin,
    Acos,
    Atan,
    Sinh,
    Cosh,
    Asinh,
    Acosh,
    Atanh,
    Log2,
    Log10,
    /// log|Γ(x)|, ψ(x) and ψ^(n)(x) (`cpu/gamma_functions.rs`).
    Lgamma,
    Digamma,
    Polygamma(u32),
    /// The inverse error function.
    Erfinv,
    /// The modified Bessel functions I0 and I1, and their e^-|x|-scaled forms.
    BesselI0,
    BesselI0e,
    BesselI1,
    BesselI1e,
    /// exp(x²) erfc(x), the normal distribution's log-CDF and its quantile
    /// (`cpu/normal_functions.rs`).
    Erfcx,
    LogNdtr,
    Ndtri,
    /// Bessel functions of the first and second kind, the modified ones of the second kind (and
    /// e^x-scaled), and the Airy function with its derivative (`cpu/bessel.rs`).
    BesselJ0,
    BesselJ1,
    BesselY0,
    BesselY1,
    BesselK0,
    BesselK0e,
    BesselK1,
    BesselK1e,
    AiryAi,
    AiryAiPrime,
}

impl UnaryOp {
    /// Whether an integer operand is widened to float32 first, as PyTorch does for functions whose
    /// values are not integers (exp, log, the trigonometric and error functions). The others
    /// reject integer operands.
    fn promotes_integers(self) -> bool {
        use UnaryOp::*;
        matches!(
            self,
            Exp | Log
                | Sqrt
                | Recip
                | Sigmoid
                | Tanh
                | Sin
                | Cos
                | Log1p
                | Expm1
                | Erf
                | Erfc
                | Tan
                | Asin
                | Acos
                | Atan
                | Sinh
                | Cosh
                | Asinh
                | Acosh
                | Atanh
                | Log2
                | Log10
                | Lgamma
                | Digamma
                | Polygamma(_)
                | Erfinv
                | BesselI0
                | BesselI0e
                | BesselI1
                | BesselI1e
                | Erfcx
                | LogNdtr
                | Ndtri
                | BesselJ0
                | BesselJ1
                | BesselY0
                | BesselY1
                | BesselK0
                | BesselK0e
                | BesselK1
                | BesselK1e
                | AiryAi
                | AiryAiPrime
        )
    }

    #[inline(always)]
    pub fn apply(self, x: f32) -> f32 {
        match self {
            UnaryOp::Neg => -x,
            UnaryOp::Exp => exp(x),
            UnaryOp::Log => x.ln(),
            UnaryOp::Sqrt => x.sqrt(),
            UnaryOp::Abs => x.abs(),
            UnaryOp::Sign => {
                if x > 0.0 {
                    1.0
                } else if x < 0.0 {
                    -1.0
                } else {
                    0.0
                }
            }
            UnaryOp::Recip => 1.0 / x,
            UnaryOp::Square => x * x,
            UnaryOp::Sin => x.sin(),
            UnaryOp::Cos => x.cos(),
            UnaryOp::Floor => x.floor(),
            UnaryOp::Ceil => x.ceil(),
            UnaryOp::Round => x.round_ties_even(),
            UnaryOp::Log1p => x.ln_1p(),
            UnaryOp::Expm1 => x.exp_m1(),
            UnaryOp::Erf => libm::erff(x),
            UnaryOp::Erfc => libm::erfcf(x),
            UnaryOp::Tan => x.tan(),
            UnaryOp::Asin => x.asin(),
            UnaryOp::Acos => x.acos(),
            UnaryOp::Atan => x.atan(),
            UnaryOp::Sinh => x.sinh(),
            UnaryOp::Cosh => x.cosh(),
            UnaryOp::Asinh => x.asinh(),
            UnaryOp::Acosh => x.acosh(),
            UnaryOp::Atanh => x.atanh(),
            UnaryOp::Log2 => x.log2(),
            UnaryOp::Log10 => x.log10(),
            UnaryOp::Lgamma => gamma_functions::lgamma(x),
            UnaryOp::Digamma => gamma_functions::digamma(x),
            UnaryOp::Polygamma(n) => gamma_functions::polygamma(n, x),
            UnaryOp::Erfinv => gamma_functions::erfinv(x),
            UnaryOp::BesselI0 => gamma_functions::bessel_i(0, x, false),
            UnaryOp::BesselI0e => gamma_functions::bessel_i(0, x, true),
            UnaryOp::BesselI1 => gamma_functions::bessel_i(1, x, false),
            UnaryOp::BesselI1e => gamma_functions::bessel_i(1, x, true),
            UnaryOp::Erfcx => normal_functions::erfcx(x),
            UnaryOp::LogNdtr => normal_functions::log_ndtr(x),
            UnaryOp::Ndtri => normal_functions::ndtri(x),
            UnaryOp::BesselJ0 => bessel::bessel_j(0, x),
            UnaryOp::BesselJ1 => bessel::bessel_j(1, x),
            UnaryOp::BesselY0 => bessel::bessel_y(0, x),
            UnaryOp::BesselY1 => bessel::bessel_y(1, x),
            UnaryOp::BesselK0 => bessel::bessel_k(0, x, false),
            UnaryOp::BesselK0e => bessel::bessel_k(0, x, true),
            UnaryOp::BesselK1 => bessel::bessel_k(1, x, false),
            UnaryOp::BesselK1e => bessel::bessel_k(1, x, true),
            UnaryOp::AiryAi => bessel::airy_ai(x, false),
            UnaryOp::AiryAiPrime => bessel::airy_ai(x, true),
            UnaryOp::Relu => crate::cpu::relu::relu(x),
            // The ReLU's derivative: a NaN input passes its gradient, as in PyTorch.
            UnaryOp::Step => {
                if x <= 0.0 {
                    0.0
                } else {
                    1.0
                }
            }
            UnaryOp::LeakyRelu(s) => {
                if x > 0.0 {
                    x
                } else {
                    s * x
                }
            }
            UnaryOp::LeakyReluGrad(s) => {
                if x > 0.0 {
                    1.0
                } else {
                    s
                }
            }
            UnaryOp::Sigmoid => sigmoid(x),
            UnaryOp::Tanh => x.tanh(),
            UnaryOp::GeluErf => x * normal_cdf_and_density(x).0,
            UnaryOp::GeluErfGrad => {
                let (cdf, pdf) = normal_cdf_and_density(x);
                cdf + x * pdf
            }
            UnaryOp::GeluTanh => {
                0.5 * x * (1.0 + (SQRT_2_OVER_PI * (x + GELU_TANH_C * x * x * x)).tanh())
            }
            UnaryOp::GeluTanhGrad => {
                let inner = SQRT_2_OVER_PI * (x + GELU_TANH_C * x * x * x);
                let t = inner.tanh();
                let d_inner = SQRT_2_OVER_PI * (1.0 + 3.0 * GELU_TANH_C * x * x);
                0.5 * (1.0 + t) + 0.5 * x * (1.0 - t * t) * d_inner
            }
            UnaryOp::Silu => x * sigmoid(x),
            UnaryOp::SiluGrad => {
                let s = sigmoid(x);
                s * (1.0 + x * (1.0 - s))
            }
            UnaryOp::Softplus { beta, threshold } => {
                if beta * x > threshold {
                    x
                } else {
                    (beta * x).exp().ln_1p() / beta
                }
            }
            UnaryOp::Powf(p) => x.powf(p),
            UnaryOp::Clamp(lo, hi) => {
                let above_lo = if x < lo { lo } else { x };
                if above_lo > hi {
                    hi
                } else {
                    above_lo
                }
            }
            UnaryOp::InRange(lo, hi) => (x > lo && x < hi) as u8 as f32,
            UnaryOp::Affine(a, b) => a * x + b,
            UnaryOp::RoundBf16 => round_to_bf16(x),
        }
    }
}

/// Rounds to bfloat16's 8-bit significand, to nearest with ties to even: adding 0x7fff plus the
/// lowest kept bit carries into the kept bits exactly when the dropped half is above (or at a
/// tie, with an odd kept bit) one half. NaN stays NaN; values past bf16's range become infinite.
#[inline]
pub fn round_to_bf16(x: f32) -> f32 {
    let bits = x.to_bits();
    let rounded = f32::from_bits(bits.wrapping_add(0x7fff + ((bits >> 16) & 1)) & 0xffff_0000);
    if x.is_nan() {
        x
    } else {
        rounded
    }
}

/// `lead - ratio`, the derivative of I1 and I1e, with its limit 1/2 at x = 0 (where the ratio
/// divides 0 by 0).
pub(super) fn bessel_slope(x: &Tensor, lead: &Tensor, ratio: &Tensor) -> Result<Tensor> {
    let slope = lead.sub(ratio)?;
    x.eq_scalar(0.0)?
        .where_cond(&x.mul_scalar(0.0)?.add_scalar(0.5)?, &slope)
}

/// `scale * exp(-x^2)`, recorded: the derivative of erf (scale 2/sqrt(pi)) and of erfc.
fn gaussian_bump(x: &Tensor, scale: f32) -> Result<Tensor> {
    x.square()?.affine(-1.0, 0.0)?.exp()?.mul_scalar(scale)
}

#[inline]
fn sigmoid(x: f32) -> f32 {
    // exp of -|x| never overflows; the two forms are selected, not branched to, so loops vectorise.
    let e = exp(-x.abs());
    if x >= 0.0 {
        1.0 / (1.0 + e)
    } else {
        e / (1.0 + e)
    }
}

/// A loop to run with a pointwise function compiled in (see `specialised`).
/// A pointwise op's backward: (output gradient, input, output) to the input's gradient.
type UnaryBackward = dyn Fn(&Tensor, &Tensor, &Tensor) -> Result<Tensor> + Send + Sync;

trait PointwiseLoop {
    type Out;
    fn run(self, f: impl Fn(f32) -> f32 + Sync + Copy) -> Self::Out;
}

/// Runs `body` with `op` as a closure over a constant variant: one match per call, not per
/// element, so `apply` folds to straight-line code the compiler can vectorise.
fn specialised<L: PointwiseLoop>(op: UnaryOp, body: L) -> L::Out {
    macro_rules! arms {
        ($($unit:ident),* ; $($one:ident),* ; $($two:ident),*) => {
            match op {
                $(UnaryOp::$unit => body.run(|v| UnaryOp::$unit.apply(v)),)*
                $(UnaryOp::$one(a) => body.run(move |v| UnaryOp::$one(a).apply(v)),)*
                $(UnaryOp::$two(a, b) => body.run(move |v| UnaryOp::$two(a, b).apply(v)),)*
                UnaryOp::Softplus { beta, threshold } => body.run(move |v| UnaryOp::Softplus { beta, threshold }.apply(v)),
            }
        };
    }
    arms!(
        Neg, Exp, Log, Sqrt, Abs, Sign, Recip, Square, Relu, Step, Sigmoid, Tanh, GeluErf, GeluErfGrad, GeluTanh,
        GeluTanhGrad, Silu, SiluGrad, RoundBf16, Sin, Cos, Floor, Ceil, Round, Log1p, Expm1, Erf, Erfc, Tan,
        Asin, Acos, Atan, Sinh, Cosh, Asinh, Acosh, Atanh, Log2, Log10, Lgamma, Digamma, Erfinv, BesselI0, BesselI0e, BesselI1, BesselI1e,
        Erfcx, LogNdtr, Ndtri, BesselJ0, BesselJ1, BesselY0, BesselY1, BesselK0, BesselK0e, BesselK1, BesselK1e, AiryAi, AiryAiPrime;
        LeakyRelu, LeakyReluGrad, Powf, Polygamma;
        Clamp, InRange, Affine
    )
}

/// `f(x)` over a strided view.
struct Map<'a> {
    x: &'a [f32],
    layout: &'a crate::Layout,
}

impl PointwiseLoop for Map<'_> {
    type Out = Vec<f32>;
    fn run(self, f: impl Fn(f32) -> f32 + Sync + Copy) -> Vec<f32> {
        map(self.x, self.layout, f)
    }
}

/// `g * f(x)` over two views of one shape: a derivative applied to the incoming gradient in one
/// pass, instead of materialising the derivative first.
struct TimesGrad<'a> {
    g: (&'a [f32], &'a crate::Layout),
    x: (&'a [f32], &'a crate::Layout),
}

impl PointwiseLoop for TimesGrad<'_> {
    type Out = Vec<f32>;
    fn run(self, f: impl Fn(f32) -> f32 + Sync + Copy) -> Vec<f32> {
        zip(self.g.0, self.g.1, self.x.0, self.x.1, move |g, x| g * f(x))
    }
}

impl Tensor {
    /// Applies `op` without recording the tape.
    pub fn map_unary(&self, op: UnaryOp) -> Result<Storage> {
        super::expect_f32("unary", self)?;
        let st = self.storage()?;
        let l = self.layout();
        if let Storage::Cuda(s) = &*st {
            return Ok(Storage::Cuda(crate::cuda::elementwise::unary(s, l, op)?));
        }
        let x = st.f32s("unary")?;
        let out = specialised(op, Map { x, layout: l });
        Ok(Storage::Cpu(crate::CpuStorage::F32(out)))
    }

    /// `self * derivative(x)` (the chain rule for a pointwise op), fused into one pass on the CPU.
    pub(crate) fn times_derivative(&self, x: &Tensor, derivative: UnaryOp) -> Result<Tensor> {
        if crate::autograd::is_grad_enabled() {
            // A create_graph walk: the product is recorded, and so is the derivative's
            // dependence on `x` where it has one.
            return self.mul(&x.recorded_derivative(derivative)?);
        }
        let fused = {
            let (sg, sx) = (self.storage()?, x.storage()?);
            match (&*sg, &*sx) {
                (Storage::Cpu(_), Storage::Cpu(_)) if self.shape() == x.shape() => {
                    Some(specialised(
                        derivative,
                        TimesGrad {
                            g: (sg.f32s("unary")?, self.layout()),
                            x: (sx.f32s("unary")?, x.layout()),
                        },
                    ))
                }
                _ => None,
            }
        };
        match fused {
            Some(v) => Tensor::from_vec(v, self.shape()),
            None => self.mul(&Tensor::from_storage(
                x.map_unary(derivative)?,
                crate::Layout::contiguous(x.shape()),
            )),
        }
    }

    /// Applies `op` with `backward` mapping (grad, input, output) to the input's gradient.
    /// The derivative `op` of a pointwise function at `x`, as recorded ops where it depends on
    /// `x` (for create_graph walks); piecewise-constant derivatives are plain tensors.
    fn recorded_derivative(&self, op: UnaryOp) -> Result<Tensor> {
        match op {
            UnaryOp::Step | UnaryOp::LeakyReluGrad(_) | UnaryOp::Sign | UnaryOp::InRange(..) => Ok(
                Tensor::from_storage(self.map_unary(op)?, crate::Layout::contiguous(self.shape())),
            ),
            UnaryOp::Cos => self.cos(),
            UnaryOp::Digamma => self.digamma(),
            UnaryOp::Polygamma(n) => self.polygamma(n),
            UnaryOp::SiluGrad => {
                // s (1 + x (1 - s)) with s = sigmoid(x).
                let s = self.sigmoid()?;
                s.mul(&self.mul(&s.affine(-1.0, 1.0)?)?.affine(1.0, 1.0)?)
            }
            UnaryOp::GeluErfGrad => {
                self.unary("gelu_derivative", UnaryOp::GeluErfGrad, |g, x, _| {
                    // d/dx (Φ(x) + x φ(x)) = φ(x) (2 - x²), φ the standard normal density.
                    let x2 = x.square()?;
                    let density = x2
                        .affine(-0.5, 0.0)?
                        .exp()?
                        .mul_scalar(1.0 / (2.0 * std::f32::consts::PI).sqrt())?;
                    g.mul(&density.mul(&x2.affine(-1.0, 2.0)?)?)
                })
            }
            UnaryOp::GeluTanhGrad => {
                // 0.5 (1 + t) + 0.5 x (1 - t²) c (1 + 3 k x²), t = tanh(c (x + k x³)).
                let x2 = self.square()?;
                let inner = self
                    .mul(&x2.affine(GELU_TANH_C, 1.0)?)?
                    .mul_scalar(SQRT_2_OVER_PI)?;
                let t = inner.tanh()?;
                let d_inner = x2.affine(3.0 * GELU_TANH_C * SQRT_2_OVER_PI, SQRT_2_OVER_PI)?;
                let slope = self.mul(&t.square()?.affine(-1.0, 1.0)?)?.mul(&d_inner)?;
                t.add(&slope)?.affine(0.5, 0.5)
            }
            other => Err(crate::Error::NotImplemented(format!(
                "backward: a recorded derivative for {other:?} (create_graph=True)"
            ))),
        }
    }

    pub(super) fn unary(
        &self,
        name: &'static str,
        op: UnaryOp,
        backward: impl Fn(&Tensor, &Tensor, &Tensor) -> Result<Tensor> + Send + Sync + 'static,
    ) -> Result<Tensor> {
        if is_integral(self.dtype()) && op.promotes_integers() {
            // Float math of integers promotes to float32, as in PyTorch.
            return self.to_dtype(crate::DType::F32)?.unary(name, op, backward);
        }
        if let Some(dtype) = super::half_result(&[self]) {
            return super::widened(&[self], dtype, |t| t[0].unary(name, op, backward));
        }
        let backward: Arc<UnaryBackward> = Arc::new(backward);
        if self.is_channels_last_only() {
            return Tensor::in_nhwc_order(&[self], |v| v[0].unary_in_order(name, op, backward));
        }
        self.unary_in_order(name, op, backward)
    }

    /// `unary` with a row-major result, whatever this tensor's layout.
    fn unary_in_order(
        &self,
        name: &'static str,
        op: UnaryOp,
        backward: Arc<UnaryBackward>,
    ) -> Result<Tensor> {
        let storage = self.map_unary(op)?;
        let x = self.clone();
        Ok(Tensor::from_op_saving_output(
            storage,
            self.shape(),
            name,
            &[self],
            move |y| {
                Box::new(move |g| {
                    // In a create_graph walk the saved output has no graph: rebuild it recorded.
                    let y = match crate::autograd::is_grad_enabled() {
                        true => x.unary_in_order(name, op, backward.clone())?,
                        false => y.clone(),
                    };
                    Ok(vec![Some(backward(g, &x, &y)?)])
                })
            },
        ))
    }

    /// Like `unary` for ops whose derivative is another pointwise op of the input times the grad.
    fn unary_with_derivative(
        &self,
        name: &'static str,
        op: UnaryOp,
        derivative: UnaryOp,
    ) -> Result<Tensor> {
        self.unary(name, op, move |g, x, _| g.times_derivative(x, derivative))
    }

    /// The nearest bfloat16 values (ties to even), still f32; the gradient passes unchanged (a
    /// cast's gradient), so a rounded weight still trains.
    pub fn round_to_bf16(&self) -> Result<Tensor> {
        self.unary("round_to_bf16", UnaryOp::RoundBf16, |g, _, _| Ok(g.clone()))
    }

    /// This tensor, with the gradient that reaches it rounded to bfloat16 on its way back (a
    /// mixed-precision product's output; see `crate::autocast`).
    pub(crate) fn rounding_grad_to_bf16(&self) -> Tensor {
        self.view_op(
            self.layout().clone(),
            "round_grad_to_bf16",
            Box::new(|g| {
                let rounded = g.map_unary(UnaryOp::RoundBf16)?;
                Ok(vec![Some(Tensor::from_storage(
                    rounded,
                    crate::Layout::contiguous(g.shape()),
                ))])
            }),
        )
    }

    pub fn sin(&self) -> Result<Tensor> {
        self.unary_with_derivative("sin", UnaryOp::Sin, UnaryOp::Cos)
    }

    pub fn cos(&self) -> Result<Tensor> {
        self.unary("cos", UnaryOp::Cos, |g, x, _| g.mul(&x.sin()?)?.neg())
    }

    /// Rounding down, up, or to the nearest integer (ties to even); piecewise constant, so the
    /// gradient is zero, as in PyTorch. Integer tensors are copied unchanged.
    pub fn floor(&self) -> Result<Tensor> {
        if is_integral(self.dtype()) {
            return self.integral_copy();
        }
        self.unary("floor", UnaryOp::Floor, |g, _, _| g.zeros_like())
    }

    pub fn ceil(&self) -> Result<Tensor> {
        if is_integral(self.dtype()) {
            return self.integral_copy();
        }
        self.unary("ceil", UnaryOp::Ceil, |g, _, _| g.zeros_like())
    }

    pub fn round(&self) -> Result<Tensor> {
        if is_integral(self.dtype()) {
            return self.integral_copy();
        }
        self.unary("round", UnaryOp::Round, |g, _, _| g.zeros_like())
    }

    /// log(1 + x); its derivative 1 / (1 + x).
    pub fn log1p(&self) -> Result<Tensor> {
        self.unary("log1p", UnaryOp::Log1p, |g, x, _| {
            g.div(&x.affine(1.0, 1.0)?)
        })
    }

    /// A copy of an integer tensor: rounding leaves integers as they are, in their dtype.
    fn integral_copy(&self) -> Result<Tensor> {
        let copied = self.storage()?.copy_layout(self.layout())?;
        Ok(Tensor::from_storage(
            copied,
            crate::Layout::contiguous(self.shape()),
        ))
    }

    /// exp(x) - 1; its derivative exp(x) = y + 1.
    pub fn expm1(&self) -> Result<Tensor> {
        self.unary("expm1", UnaryOp::Expm1, |g, _, y| {
            g.mul(&y.affine(1.0, 1.0)?)
        })
    }

    /// The error function; its derivative 2/sqrt(pi) exp(-x^2).
    pub fn erf(&self) -> Result<Tensor> {
        self.unary("erf", UnaryOp::Erf, |g, x, _| {
            g.mul(&gaussian_bump(x, std::f32::consts::FRAC_2_SQRT_PI)?)
        })
    }

    /// 1 - erf(x), without the cancellation where erf(x) nears 1.
    pub fn erfc(&self) -> Result<Tensor> {
        self.unary("erfc", UnaryOp::Erfc, |g, x, _| {
            g.mul(&gaussian_bump(x, -std::f32::consts::FRAC_2_SQRT_PI)?)
        })
    }

    /// log|Γ(x)|; its derivative ψ(x).
    pub fn lgamma(&self) -> Result<Tensor> {
        self.unary_with_derivative("lgamma", UnaryOp::Lgamma, UnaryOp::Digamma)
    }

    /// The digamma function ψ(x) = Γ'(x) / Γ(x); its derivative the trigamma ψ'(x).
    pub fn digamma(&self) -> Result<Tensor> {
        self.unary_with_derivative("digamma", UnaryOp::Digamma, UnaryOp::Polygamma(1))
    }

    /// The n-th derivative of the digamma function, ψ^(n)(x); its derivative ψ^(n+1)(x).
    pub fn polygamma(&self, n: u32) -> Result<Tensor> {
        if n == 0 {
            return self.digamma();
        }
        let next = n.checked_add(1).ok_or_else(|| crate::Error::Argument {
            op: "polygamma",
            name: "n".into(),
            expected: format!("an order below {}", u32::MAX),
            got: n.to_string(),
        })?;
        self.unary_with_derivative("polygamma", UnaryOp::Polygamma(n), UnaryOp::Polygamma(next))
    }

    /// The inverse error function on [-1, 1]; its derivative (√π / 2) exp(erfinv(x)²).
    pub fn erfinv(&self) -> Result<Tensor> {
        self.unary("erfinv", UnaryOp::Erfinv, |g, _, y| {
            g.mul(
                &y.square()?
                    .exp()?
                    .mul_scalar(std::f32::consts::PI.sqrt() / 2.0)?,
            )
        })
    }

    /// The modified Bessel function I0; its derivative I1.
    pub fn i0(&self) -> Result<Tensor> {
        self.unary("i0", UnaryOp::BesselI0, |g, x, _| g.mul(&x.i1()?))
    }

    /// e^-|x| I0(x); its derivative I1e(x) - sign(x) I0e(x).
    pub fn i0e(&self) -> Result<Tensor> {
        self.unary("i0e", UnaryOp::BesselI0e, |g, x, y| {
            g.mul(&x.i1e()?.sub(&x.sign()?.mul(y)?)?)
        })
    }

    /// The modified Bessel function I1; its derivative I0(x) - I1(x) / x (1/2 at 0).
    pub fn i1(&self) -> Result<Tensor> {
        self.unary("i1", UnaryOp::BesselI1, |g, x, y| {
            g.mul(&bessel_slope(x, &x.i0()?, &y.div(x)?)?)
        })
    }

    /// e^-|x| I1(x); its derivative I0e(x) - I1e(x) (sign(x) + 1/x) (1/2 at 0).
    pub fn i1e(&self) -> Result<Tensor> {
        self.unary("i1e", UnaryOp::BesselI1e, |g, x, y| {
            let ratio = y.mul(&x.sign()?.add(&x.recip()?)?)?;
            g.mul(&bessel_slope(x, &x.i0e()?, &ratio)?)
        })
    }

    /// tan(x); its derivative 1 + tan(x)^2.
    pub fn tan(&self) -> Result<Tensor> {
        self.unary("tan", UnaryOp::Tan, |g, _, y| {
            g.mul(&y.square()?.affine(1.0, 1.0)?)
        })
    }

    /// arcsin(x); its derivative 1 / sqrt(1 - x^2).
    pub fn asin(&self) -> Result<Tensor> {
        self.unary("asin", UnaryOp::Asin, |g, x, _| {
            g.mul(&x.square()?.affine(-1.0, 1.0)?.powf(-0.5)?)
        })
    }

    /// arccos(x); its derivative -1 / sqrt(1 - x^2).
    pub fn acos(&self) -> Result<Tensor> {
        self.unary("acos", UnaryOp::Acos, |g, x, _| {
            g.mul(&x.square()?.affine(-1.0, 1.0)?.powf(-0.5)?)?.neg()
        })
    }

    /// arctan(x); its derivative 1 / (1 + x^2).
    pub fn atan(&self) -> Result<Tensor> {
        self.unary("atan", UnaryOp::Atan, |g, x, _| {
            g.div(&x.square()?.affine(1.0, 1.0)?)
        })
    }

    /// sinh(x); its derivative cosh(x).
    pub fn sinh(&self) -> Result<Tensor> {
        self.unary("sinh", UnaryOp::Sinh, |g, x, _| g.mul(&x.cosh()?))
    }

    /// cosh(x); its derivative sinh(x).
    pub fn cosh(&self) -> Result<Tensor> {
        self.unary("cosh", UnaryOp::Cosh, |g, x, _| g.mul(&x.sinh()?))
    }

    /// arsinh(x); its derivative 1 / sqrt(x^2 + 1).
    pub fn asinh(&self) -> Result<Tensor> {
        self.unary("asinh", UnaryOp::Asinh, |g, x, _| {
            g.mul(&x.square()?.affine(1.0, 1.0)?.powf(-0.5)?)
        })
    }

    /// arcosh(x); its derivative 1 / sqrt(x^2 - 1).
    pub fn acosh(&self) -> Result<Tensor> {
        self.unary("acosh", UnaryOp::Acosh, |g, x, _| {
            g.mul(&x.square()?.affine(1.0, -1.0)?.powf(-0.5)?)
        })
    }

    /// artanh(x); its derivative 1 / (1 - x^2).
    pub fn atanh(&self) -> Result<Tensor> {
        self.unary("atanh", UnaryOp::Atanh, |g, x, _| {
            g.div(&x.square()?.affine(-1.0, 1.0)?)
        })
    }

    /// log2(x); its derivative 1 / (x ln 2).
    pub fn log2(&self) -> Result<Tensor> {
        self.unary("log2", UnaryOp::Log2, |g, x, _| {
            g.div(&x.mul_scalar(std::f32::consts::LN_2)?)
        })
    }

    /// log10(x); its derivative 1 / (x ln 10).
    pub fn log10(&self) -> Result<Tensor> {
        self.unary("log10", UnaryOp::Log10, |g, x, _| {
            g.div(&x.mul_scalar(std::f32::consts::LN_10)?)
        })
    }

    /// -x; integer tensors negate in their own dtype.
    pub fn neg(&self) -> Result<Tensor> {
        if is_integral(self.dtype()) {
            return self.integral_unary("neg", i64::wrapping_neg);
        }
        self.unary("neg", UnaryOp::Neg, |g, _, _| g.neg())
    }

    pub fn exp(&self) -> Result<Tensor> {
        self.unary("exp", UnaryOp::Exp, |g, _, y| g.mul(y))
    }

    pub fn log(&self) -> Result<Tensor> {
        self.unary("log", UnaryOp::Log, |g, x, _| g.div(x))
    }

    pub fn sqrt(&self) -> Result<Tensor> {
        self.unary("sqrt", UnaryOp::Sqrt, |g, _, y| g.div(&y.affine(2.0, 0.0)?))
    }

    /// |x|; integer tensors keep their dtype.
    pub fn abs(&self) -> Result<Tensor> {
        if is_integral(self.dtype()) {
            return self.integral_unary("abs", i64::wrapping_abs);
        }
        self.unary_with_derivative("abs", UnaryOp::Abs, UnaryOp::Sign)
    }

    /// -1, 0 or 1; its gradient is zero.
    pub fn sign(&self) -> Result<Tensor> {
        if is_integral(self.dtype()) {
            return self.integral_unary("sign", i64::signum);
        }
        self.unary("sign", UnaryOp::Sign, |g, _, _| g.zeros_like())
    }

    pub fn recip(&self) -> Result<Tensor> {
        self.unary("recip", UnaryOp::Recip, |g, _, y| {
            g.mul(&y.square()?)?.neg()
        })
    }

    pub fn square(&self) -> Result<Tensor> {
        self.unary("square", UnaryOp::Square, |g, x, _| {
            g.mul(x)?.affine(2.0, 0.0)
        })
    }

    pub fn relu(&self) -> Result<Tensor> {
        self.unary_with_derivative("relu", UnaryOp::Relu, UnaryOp::Step)
    }

    pub fn leaky_relu(&self, negative_slope: f32) -> Result<Tensor> {
        self.unary_with_derivative(
            "leaky_relu",
            UnaryOp::LeakyRelu(negative_slope),
            UnaryOp::LeakyReluGrad(negative_slope),
        )
    }

    pub fn sigmoid(&self) -> Result<Tensor> {
        self.unary("sigmoid", UnaryOp::Sigmoid, |g, _, y| {
            g.mul(&y.mul(&y.affine(-1.0, 1.0)?)?)
        })
    }

    pub fn tanh(&self) -> Result<Tensor> {
        self.unary("tanh", UnaryOp::Tanh, |g, _, y| {
            g.mul(&y.square()?.affine(-1.0, 1.0)?)
        })
    }

    /// GELU; `approximate` = true uses the tanh form.
    pub fn gelu(&self, approximate: bool) -> Result<Tensor> {
        if approximate {
            self.unary_with_derivative("gelu", UnaryOp::GeluTanh, UnaryOp::GeluTanhGrad)
        } else {
            self.unary_with_derivative("gelu", UnaryOp::GeluErf, UnaryOp::GeluErfGrad)
        }
    }

    pub fn silu(&self) -> Result<Tensor> {
        self.unary_with_derivative("silu", UnaryOp::Silu, UnaryOp::SiluGrad)
    }

    pub fn softplus(&self, beta: f32, threshold: f32) -> Result<Tensor> {
        self.unary(
            "softplus",
            UnaryOp::Softplus { beta, threshold },
            move |g, x, _| {
                // d/dx = sigmoid(beta x), and 1 in the linear region above the threshold.
                let bx = x.affine(beta, 0.0)?;
                let s = bx.sigmoid()?;
                let linear = bx.gt_scalar(threshold)?;
                g.mul(&linear.where_cond(&Tensor::ones(&[], crate::DType::F32, x.device())?, &s)?)
            },
        )
    }

    /// x^p; an integer tensor is widened to float32 first, as PyTorch does for a float exponent.
    pub fn powf(&self, p: f32) -> Result<Tensor> {
        if is_integral(self.dtype()) {
            return self.to_dtype(crate::DType::F32)?.powf(p);
        }
        self.unary("pow", UnaryOp::Powf(p), move |g, x, _| {
            g.mul(&x.powf(p - 1.0)?.affine(p, 0.0)?)
        })
    }

    /// Clamps to [min, max] (use ±inf for one-sided).
    pub fn clamp(&self, min: f32, max: f32) -> Result<Tensor> {
        self.unary_with_derivative(
            "clamp",
            UnaryOp::Clamp(min, max),
            UnaryOp::InRange(min, max),
        )
    }

    /// a * x + b.
    pub fn affine(&self, a: f32, b: f32) -> Result<Tensor> {
        self.unary("affine", UnaryOp::Affine(a, b), move |g, _, _| {
            g.affine(a, 0.0)
        })
    }
}
