//! Differentiable ops. Each file holds one family with forward and backward side by side; the
//! backward closures are written with tensor ops, so they run on whatever device the forward did.

pub mod attention;
mod batch_norm_cuda;
pub mod binary;
pub mod conv;
pub mod conv_transpose;
pub mod dropout;
pub mod index;
pub mod linear;
pub mod loss;
pub mod matmul;
pub mod norm;
pub mod pool;
pub mod reduce;
pub mod rnn;
pub mod shape;
pub mod softmax;
pub mod unary;
pub mod unfold;

use crate::{Error, Result, Tensor};

/// Errors unless `t` is float32 (the compute dtype).
pub(crate) fn expect_f32(op: &'static str, t: &Tensor) -> Result<()> {
    if t.dtype() != crate::DType::F32 {
        return Err(Error::dtype(op, "float32", t.dtype()));
    }
    Ok(())
}

/// The error for operands found on different devices after the device check.
pub(crate) fn mixed_devices(op: &'static str, a: &Tensor, b: &Tensor) -> Error {
    Error::Device(format!(
        "{op}: expected all tensors on the same device, got {} and {}",
        a.device(),
        b.device()
    ))
}

/// Errors unless both tensors live on the same device.
pub(crate) fn same_device(op: &'static str, a: &Tensor, b: &Tensor) -> Result<()> {
    if a.device() != b.device() {
        return Err(mixed_devices(op, a, b));
    }
    Ok(())
}
