//! `torch.special`'s normal-distribution, Bessel and Airy functions as differentiable tensor ops
//! (the pointwise kernels are in `cpu/normal_functions.rs`, `cpu/bessel.rs` and
//! `cuda/kernels/special_functions.cuh`). Each backward is written in recorded ops of the same
//! family, so these differentiate twice.

use std::f32::consts::{FRAC_1_SQRT_2, FRAC_2_SQRT_PI, PI};

use super::unary::{bessel_slope, UnaryOp};
use crate::{Result, Tensor};

/// A special function of one tensor.
pub type SpecialFunction = fn(&Tensor) -> Result<Tensor>;

/// The functions above by their `torch.special` names (Python's `fg.special` picks by name).
pub const SPECIAL_FUNCTIONS: [(&str, SpecialFunction); 12] = [
    ("erfcx", Tensor::erfcx),
    ("log_ndtr", Tensor::log_ndtr),
    ("ndtri", Tensor::ndtri),
    ("bessel_j0", Tensor::bessel_j0),
    ("bessel_j1", Tensor::bessel_j1),
    ("bessel_y0", Tensor::bessel_y0),
    ("bessel_y1", Tensor::bessel_y1),
    ("modified_bessel_k0", Tensor::modified_bessel_k0),
    ("modified_bessel_k1", Tensor::modified_bessel_k1),
    (
        "scaled_modified_bessel_k0",
        Tensor::scaled_modified_bessel_k0,
    ),
    (
        "scaled_modified_bessel_k1",
        Tensor::scaled_modified_bessel_k1,
    ),
    ("airy_ai", Tensor::airy_ai),
];

impl Tensor {
    /// exp(x²) erfc(x); its derivative 2x erfcx(x) - 2/√π.
    pub fn erfcx(&self) -> Result<Tensor> {
        self.unary("erfcx", UnaryOp::Erfcx, |g, x, y| {
            g.mul(&x.mul(y)?.affine(2.0, -FRAC_2_SQRT_PI)?)
        })
    }

    /// log Φ(x), the standard normal log-CDF; its derivative φ(x) / Φ(x), written as
    /// sqrt(2/π) / erfcx(-x/√2) so it stays finite far in the lower tail.
    pub fn log_ndtr(&self) -> Result<Tensor> {
        self.unary("log_ndtr", UnaryOp::LogNdtr, |g, x, _| {
            let denominator = x.affine(-FRAC_1_SQRT_2, 0.0)?.erfcx()?;
            g.mul_scalar((2.0 / PI).sqrt())?.div(&denominator)
        })
    }

    /// Φ⁻¹(p), the standard normal quantile; its derivative sqrt(2π) exp(Φ⁻¹(p)² / 2).
    pub fn ndtri(&self) -> Result<Tensor> {
        self.unary("ndtri", UnaryOp::Ndtri, |g, _, y| {
            g.mul(
                &y.square()?
                    .mul_scalar(0.5)?
                    .exp()?
                    .mul_scalar((2.0 * PI).sqrt())?,
            )
        })
    }

    /// The Bessel function of the first kind J0; its derivative -J1.
    pub fn bessel_j0(&self) -> Result<Tensor> {
        self.unary("bessel_j0", UnaryOp::BesselJ0, |g, x, _| {
            g.mul(&x.bessel_j1()?)?.neg()
        })
    }

    /// J1; its derivative J0(x) - J1(x) / x (1/2 at 0).
    pub fn bessel_j1(&self) -> Result<Tensor> {
        self.unary("bessel_j1", UnaryOp::BesselJ1, |g, x, y| {
            g.mul(&bessel_slope(x, &x.bessel_j0()?, &y.div(x)?)?)
        })
    }

    /// The Bessel function of the second kind Y0 (x > 0); its derivative -Y1.
    pub fn bessel_y0(&self) -> Result<Tensor> {
        self.unary("bessel_y0", UnaryOp::BesselY0, |g, x, _| {
            g.mul(&x.bessel_y1()?)?.neg()
        })
    }

    /// Y1 (x > 0); its derivative Y0(x) - Y1(x) / x.
    pub fn bessel_y1(&self) -> Result<Tensor> {
        self.unary("bessel_y1", UnaryOp::BesselY1, |g, x, y| {
            g.mul(&x.bessel_y0()?.sub(&y.div(x)?)?)
        })
    }

    /// The modified Bessel function of the second kind K0 (x > 0); its derivative -K1.
    pub fn modified_bessel_k0(&self) -> Result<Tensor> {
        self.unary("modified_bessel_k0", UnaryOp::BesselK0, |g, x, _| {
            g.mul(&x.modified_bessel_k1()?)?.neg()
        })
    }

    /// K1 (x > 0); its derivative -K0(x) - K1(x) / x.
    pub fn modified_bessel_k1(&self) -> Result<Tensor> {
        self.unary("modified_bessel_k1", UnaryOp::BesselK1, |g, x, y| {
            g.mul(&x.modified_bessel_k0()?.add(&y.div(x)?)?)?.neg()
        })
    }

    /// e^x K0(x); its derivative e^x K0(x) - e^x K1(x).
    pub fn scaled_modified_bessel_k0(&self) -> Result<Tensor> {
        self.unary(
            "scaled_modified_bessel_k0",
            UnaryOp::BesselK0e,
            |g, x, y| g.mul(&y.sub(&x.scaled_modified_bessel_k1()?)?),
        )
    }

    /// e^x K1(x); its derivative e^x K1(x) (1 - 1/x) - e^x K0(x).
    pub fn scaled_modified_bessel_k1(&self) -> Result<Tensor> {
        self.unary(
            "scaled_modified_bessel_k1",
            UnaryOp::BesselK1e,
            |g, x, y| {
                let shrunk = y.sub(&y.div(x)?)?;
                g.mul(&shrunk.sub(&x.scaled_modified_bessel_k0()?)?)
            },
        )
    }

    /// The Airy function Ai; its derivative Ai'.
    pub fn airy_ai(&self) -> Result<Tensor> {
        self.unary("airy_ai", UnaryOp::AiryAi, |g, x, _| {
            g.mul(&x.airy_ai_derivative()?)
        })
    }

    /// Ai'; its derivative x Ai(x) (Airy's equation).
    fn airy_ai_derivative(&self) -> Result<Tensor> {
        self.unary("airy_ai_derivative", UnaryOp::AiryAiPrime, |g, x, _| {
            g.mul(&x.mul(&x.airy_ai()?)?)
        })
    }
}
