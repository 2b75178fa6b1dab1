//! Anomaly detection (PyTorch's `detect_anomaly`): while it is on, every gradient a backward
//! pass computes is checked for NaN, and the first one found stops the pass with an error naming
//! the op whose backward produced it and which of its inputs' gradients it was. Each check reads
//! the gradient back to the host, so it is for debugging, not for training runs. The setting
//! belongs to the thread (backward passes run on the thread that starts them).

use std::cell::Cell;

use crate::{DType, Device, Error, Result, Tensor};

thread_local! {
    static ENABLED: Cell<bool> = const { Cell::new(false) };
    static CHECK_NAN: Cell<bool> = const { Cell::new(true) };
}

/// Turns anomaly detection on or off on this thread (`check_nan`: whether gradients are checked
/// for NaN).
pub fn set_detect_anomaly(enabled: bool, check_nan: bool) {
    ENABLED.with(|e| e.set(enabled));
    CHECK_NAN.with(|c| c.set(check_nan));
}

/// Whether anomaly detection is on on this thread.
pub fn is_anomaly_enabled() -> bool {
    ENABLED.with(Cell::get)
}

/// Whether anomaly detection checks gradients for NaN on this thread.
pub fn is_anomaly_check_nan_enabled() -> bool {
    CHECK_NAN.with(Cell::get)
}

/// Errors if anomaly detection is checking NaN and `grad`, the gradient `op`'s backward produced
/// for its input number `input`, holds one.
pub(crate) fn check_gradient(op: &str, input: usize, grad: &Tensor) -> Result<()> {
    if !is_anomaly_enabled() || !is_anomaly_check_nan_enabled() || !grad.dtype().is_float() {
        return Ok(());
    }
    let values = grad
        .detach()
        .to_dtype(DType::F32)?
        .to_device(Device::Cpu)?
        .to_vec::<f32>()?;
    match values.iter().any(|v| v.is_nan()) {
        true => Err(Error::Autograd(format!(
            "anomaly detection: the backward of `{op}` returned NaN values in the gradient of its input {input}"
        ))),
        false => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_nan_gradient_names_its_op_while_detection_is_on() {
        // sqrt(x) at 0 has an infinite derivative; times the zero gradient of `mul_scalar(0)`
        // it is NaN.
        let run = || -> Result<()> {
            let x = Tensor::from_vec(vec![0.0f32, 1.0], &[2])?;
            x.set_requires_grad(true)?;
            x.sqrt()?.mul_scalar(0.0)?.sum(&[0], false)?.backward(None)
        };
        set_detect_anomaly(true, true);
        let error = run().unwrap_err().to_string();
        set_detect_anomaly(false, true);
        assert!(error.contains("backward of `sqrt` returned NaN"), "{error}");
        assert!(run().is_ok());
    }
}
