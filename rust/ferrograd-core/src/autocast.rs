//! Mixed precision (autocast). Inside a bf16 scope the products (matmul, linear, convolutions,
//! attention) multiply bfloat16 operands with f32 accumulation, as tensor cores do; every other
//! op, the loss, the optimizer and the master weights stay f32.
//!
//! A product's operands are rounded to the nearest bf16 value on the way in, and the gradient of
//! its output is rounded on the way back, so the products of its backward multiply bf16 operands
//! too (PyTorch's autocast gets the same from its bf16 outputs). The rounded values stay in f32
//! tensors: a product of two bf16 values is exact in f32, so an f32 GEMM over them is the bf16
//! product with f32 accumulation, on either backend. Biases are added in f32, and the rest of the
//! network keeps f32 activations, so results are at least as precise as PyTorch's autocast.

use std::cell::Cell;

use crate::{Result, Tensor};

/// The precision products run at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Precision {
    F32,
    BF16,
}

impl Precision {
    /// Parses `"float32"` / `"f32"` / `"fp32"` or `"bfloat16"` / `"bf16"`.
    pub fn parse(name: &str) -> Option<Precision> {
        match name {
            "float32" | "f32" | "fp32" => Some(Precision::F32),
            "bfloat16" | "bf16" => Some(Precision::BF16),
            _ => None,
        }
    }

    /// The name used in Python.
    pub fn as_str(self) -> &'static str {
        match self {
            Precision::F32 => "float32",
            Precision::BF16 => "bfloat16",
        }
    }
}

thread_local! {
    static PRECISION: Cell<Precision> = const { Cell::new(Precision::F32) };
    static BF16_OPERANDS: Cell<bool> = const { Cell::new(false) };
}

/// The precision products run at on this thread.
pub fn autocast_precision() -> Precision {
    PRECISION.with(|p| p.get())
}

/// Sets the precision of products on this thread; returns the previous one.
pub fn set_autocast_precision(precision: Precision) -> Precision {
    PRECISION.with(|p| p.replace(precision))
}

/// Runs products at `precision` until dropped (restores the previous precision).
pub struct AutocastGuard {
    previous: Precision,
}

impl AutocastGuard {
    pub fn new(precision: Precision) -> Self {
        AutocastGuard {
            previous: set_autocast_precision(precision),
        }
    }
}

impl Drop for AutocastGuard {
    fn drop(&mut self) {
        set_autocast_precision(self.previous);
    }
}

/// Whether the matrix products running now multiply operands that are all bf16 values (inside a
/// lowered matmul, linear layer or convolution, and in their backward). cuBLAS then multiplies
/// them on bf16 tensor cores (`CUBLAS_COMPUTE_32F_FAST_16BF`); its conversion to bf16 is exact
/// for such operands, so the products equal the f32 ones up to summation order; conv2d's
/// implicit-GEMM kernels run their bf16 tensor-core tiles.
pub(crate) fn bf16_operands() -> bool {
    BF16_OPERANDS.with(|b| b.get())
}

/// Marks the products run until dropped as having bf16-valued operands (or not).
pub(crate) struct Bf16OperandsGuard {
    previous: bool,
}

impl Bf16OperandsGuard {
    pub(crate) fn new(on: bool) -> Self {
        Bf16OperandsGuard {
            previous: BF16_OPERANDS.with(|b| b.replace(on)),
        }
    }
}

impl Drop for Bf16OperandsGuard {
    fn drop(&mut self) {
        BF16_OPERANDS.with(|b| b.set(self.previous));
    }
}

/// A product op at the autocast precision. None when products run in f32: the caller goes on
/// unchanged. In bf16: `product` applied to `operands` rounded to bf16 (f32 operands only; a
/// wrong dtype is left for the op's own check to name), run with autocast off so that products
/// inside it do not round again, and its output's gradient rounded to bf16. With `exact_gemms`
/// (every matrix product inside `product` multiplies the rounded operands or their gradients:
/// matmul, linear, convolutions; not attention, whose probabilities are f32) those products are
/// marked as having bf16 operands, for the GPU's bf16 tensor cores.
pub(crate) fn lowered(
    operands: &[&Tensor],
    exact_gemms: bool,
    product: impl FnOnce(&[Tensor]) -> Result<Tensor>,
) -> Option<Result<Tensor>> {
    if autocast_precision() == Precision::F32 {
        return None;
    }
    let run = || {
        let rounded = operands
            .iter()
            .map(|t| {
                if t.dtype() == crate::DType::F32 {
                    t.round_to_bf16()
                } else {
                    Ok((*t).clone())
                }
            })
            .collect::<Result<Vec<_>>>()?;
        let out = {
            let _f32 = AutocastGuard::new(Precision::F32);
            let _exact = Bf16OperandsGuard::new(exact_gemms);
            product(&rounded)?
        };
        Ok(out.rounding_grad_to_bf16())
    };
    Some(run())
}

#[cfg(test)]
mod tests {
    use super::{AutocastGuard, Precision};
    use crate::ops::unary::round_to_bf16;
    use crate::testing::random_leaf;
    use crate::{Result, Tensor};

    #[test]
    fn rounding_is_to_nearest_bf16_with_ties_to_even() {
        let one_ulp = 2f32.powi(-7); // bf16's spacing in [1, 2)
        let cases = [
            (1.0, 1.0),
            (1.0 + one_ulp / 2.0, 1.0), // tie, kept bit even: down
            (1.0 + 1.5 * one_ulp, 1.0 + 2.0 * one_ulp), // tie, kept bit odd: up
            (1.0 + one_ulp / 2.0 + 1e-6, 1.0 + one_ulp), // just above the tie: up
            (-(1.0 + 0.49 * one_ulp), -1.0), // sign kept
            (-0.0, -0.0),
            (f32::MAX, f32::INFINITY), // past bf16's largest finite value
            (f32::INFINITY, f32::INFINITY),
            (1e-40, f32::from_bits(0x0001_0000)), // subnormals round the same way
        ];
        for (x, expected) in cases {
            let r = round_to_bf16(x);
            assert_eq!(
                r.to_bits(),
                expected.to_bits(),
                "{x:e} -> {r:e}, expected {expected:e}"
            );
        }
        assert!(round_to_bf16(f32::NAN).is_nan());
    }

    fn values_and_grads(out: &Tensor, inputs: &[&Tensor], upstream: &Tensor) -> Vec<Vec<f32>> {
        for t in inputs {
            t.set_grad(None);
        }
        out.backward(Some(upstream.clone())).unwrap();
        let mut all = vec![out.to_vec::<f32>().unwrap()];
        all.extend(
            inputs
                .iter()
                .map(|t| t.grad().unwrap().to_vec::<f32>().unwrap()),
        );
        all
    }

    /// Under bf16, a product equals the f32 product of bf16-rounded operands, and its gradients
    /// equal the f32 backward products fed the bf16-rounded upstream gradient: bit for bit.
    fn check_lowered(
        product: impl Fn(&Tensor, &Tensor) -> Result<Tensor>,
        x: &Tensor,
        w: &Tensor,
        upstream_seed: u64,
    ) {
        let lowered = {
            let _bf16 = AutocastGuard::new(Precision::BF16);
            product(x, w).unwrap()
        };
        let upstream = random_leaf(lowered.shape(), upstream_seed).detach();
        let got = values_and_grads(&lowered, &[x, w], &upstream);
        // The reference: rounded leaves and a rounded upstream gradient, all in f32.
        let round_leaf = |t: &Tensor| {
            let r = t.round_to_bf16().unwrap().detach();
            r.set_requires_grad(true).unwrap();
            r
        };
        let (xr, wr) = (round_leaf(x), round_leaf(w));
        let reference = product(&xr, &wr).unwrap();
        let expected =
            values_and_grads(&reference, &[&xr, &wr], &upstream.round_to_bf16().unwrap());
        assert_eq!(got, expected);
        // The operands carry bits below bf16's, so f32 gives other values: the check can fail.
        let full = product(x, w).unwrap().to_vec::<f32>().unwrap();
        assert_ne!(full, got[0]);
    }

    #[test]
    fn lowered_products_are_f32_products_of_rounded_operands() {
        let x = random_leaf(&[6, 20], 1);
        let w = random_leaf(&[9, 20], 2);
        let b = random_leaf(&[9], 3);
        check_lowered(|x, y| x.matmul(y), &x, &random_leaf(&[20, 3], 13), 4);
        // The bias stays f32: only the product's operands are rounded.
        check_lowered(|x, w| x.linear_relu(w, Some(&b)), &x, &w, 5);
        let img = random_leaf(&[2, 3, 7, 7], 6);
        let kernel = random_leaf(&[4, 3, 3, 3], 7);
        check_lowered(
            |x, w| x.conv2d_relu(w, None, (1, 1), (1, 1), (1, 1), 1),
            &img,
            &kernel,
            8,
        );
        let (q, k) = (random_leaf(&[2, 5, 8], 9), random_leaf(&[2, 6, 8], 10));
        // Values already bf16, so the reference (which rounds only q and k) rounds them too.
        let v = random_leaf(&[2, 6, 8], 11)
            .round_to_bf16()
            .unwrap()
            .detach();
        check_lowered(
            |q, k| q.scaled_dot_product_attention(k, &v, None, 0.0, None, false),
            &q,
            &k,
            12,
        );
    }

    /// Products inside a lowered matmul, linear layer or convolution are marked as having bf16
    /// operands (the GPU then uses bf16 tensor cores); attention's are not, nor is anything
    /// outside a lowered op.
    #[test]
    fn lowered_products_mark_their_operands_as_bf16() {
        let x = random_leaf(&[2, 3], 1);
        let _bf16 = AutocastGuard::new(Precision::BF16);
        for exact in [true, false] {
            let seen = super::lowered(&[&x], exact, |t| {
                assert_eq!(super::bf16_operands(), exact);
                Ok(t[0].clone())
            });
            assert!(seen.unwrap().is_ok());
            assert!(!super::bf16_operands());
        }
    }

    #[test]
    fn the_guard_restores_the_previous_precision() {
        assert_eq!(super::autocast_precision(), Precision::F32);
        {
            let _outer = AutocastGuard::new(Precision::BF16);
            {
                let _inner = AutocastGuard::new(Precision::F32);
                assert_eq!(super::autocast_precision(), Precision::F32);
            }
            assert_eq!(super::autocast_precision(), Precision::BF16);
        }
        assert_eq!(super::autocast_precision(), Precision::F32);
        assert_eq!(Precision::parse("bf16"), Some(Precision::BF16));
        assert_eq!(Precision::parse("float16"), None);
    }
}
