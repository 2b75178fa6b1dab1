//! Differentiable ops. Each file holds one family with forward and backward side by side; the
//! backward closures are written with tensor ops, so they run on whatever device the forward did.

pub mod attention;
mod attention_cuda;
mod batch_norm_cuda;
pub mod binary;
pub mod conv;
mod conv_cuda;
mod conv_recorded;
pub mod conv_transpose;
pub mod dropout;
pub mod index;
mod index_values;
mod integer;
pub mod linear;
pub mod loss;
pub mod matmul;
pub mod norm;
mod norm_recorded;
pub mod pool;
pub mod reduce;
pub mod rnn;
pub mod shape;
pub mod softmax;
pub mod special_functions;
pub mod unary;
pub mod unfold;

use crate::{DType, Error, Result, Tensor};

/// The result dtype of an op on half-precision operands (float16, bfloat16), which have no
/// kernels of their own, or None when no operand is half precision: the operands' half type, or
/// float32 when they mix two half types or a half and a float32 one (integer operands do not
/// count). Such ops run through `widened`.
pub(crate) fn half_result(operands: &[&Tensor]) -> Option<DType> {
    let half = |d: DType| matches!(d, DType::F16 | DType::BF16);
    let first = operands.iter().map(|t| t.dtype()).find(|&d| half(d))?;
    let same = operands
        .iter()
        .map(|t| t.dtype())
        .filter(|&d| half(d) || d == DType::F32)
        .all(|d| d == first);
    Some(if same { first } else { DType::F32 })
}

/// `op` on float32 copies of the half-precision operands, its result rounded to `result`: how
/// PyTorch computes half arithmetic on the CPU (each result rounded once). The casts are
/// recorded, so gradients reach the half operands in their own dtype.
pub(crate) fn widened(
    operands: &[&Tensor],
    result: DType,
    op: impl FnOnce(&[Tensor]) -> Result<Tensor>,
) -> Result<Tensor> {
    let widened = operands
        .iter()
        .map(|t| match t.dtype() {
            DType::F16 | DType::BF16 => t.to_dtype(DType::F32),
            _ => Ok((*t).clone()),
        })
        .collect::<Result<Vec<_>>>()?;
    op(&widened)?.to_dtype(result)
}

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

/// Errors unless the input and the weight of a layer op are float32 on one device.
pub(crate) fn check_input_and_weight(op: &'static str, x: &Tensor, weight: &Tensor) -> Result<()> {
    expect_f32(op, x)?;
    expect_f32(op, weight)?;
    same_device(op, x, weight)
}

/// Errors unless `bias`, when given, is a float32 `[n]` on the input's device.
pub(crate) fn check_bias(
    op: &'static str,
    x: &Tensor,
    bias: Option<&Tensor>,
    n: usize,
) -> Result<()> {
    let Some(b) = bias else {
        return Ok(());
    };
    expect_f32(op, b)?;
    same_device(op, x, b)?;
    crate::ensure_shape!(
        b.shape() == [n],
        op,
        "bias must have shape [{n}], got {:?}",
        b.shape()
    );
    Ok(())
}

/// Errors unless both values of the size pair `v` (the argument `name`: a stride, a dilation, a
/// kernel or output size) are at least 1.
pub(crate) fn expect_positive_pair(op: &'static str, name: &str, v: (usize, usize)) -> Result<()> {
    if v.0 == 0 || v.1 == 0 {
        return Err(Error::arg(op, name, "values >= 1", format!("{v:?}")));
    }
    Ok(())
}

/// Errors unless `p` (the argument `name`) is a probability in [0, 1].
pub(crate) fn expect_probability(op: &'static str, name: &'static str, p: f32) -> Result<()> {
    if !(0.0..=1.0).contains(&p) {
        return Err(Error::arg(op, name, "a probability in [0, 1]", p));
    }
    Ok(())
}
