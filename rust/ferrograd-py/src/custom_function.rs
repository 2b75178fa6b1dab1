//! The output node of a Python `autograd.Function` (`python/ferrograd/autograd_function.py`):
//! the core records it like any op, and its backward calls the Function's Python backward.

use ferrograd_core::autograd::BackwardFn;
use ferrograd_core::Tensor;
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;

use crate::errors::stash;
use crate::tensor::PyTensor;

/// `output` (computed with recording off) as the result of a custom function of `inputs`:
/// the backward pass calls `backward(grad)`, which returns one gradient per input (a Tensor of
/// the input's shape, or None). `twice_differentiable` says whether that backward is built from
/// recorded ops (it is unless the Function is marked `once_differentiable`). Without grad mode,
/// or with no input requiring grad, nothing is recorded.
#[pyfunction]
fn function_output(
    output: PyRef<'_, PyTensor>,
    inputs: Vec<PyRef<'_, PyTensor>>,
    backward: Py<PyAny>,
    twice_differentiable: bool,
) -> PyTensor {
    let inputs: Vec<Tensor> = inputs.iter().map(|t| t.inner.clone()).collect();
    let count = inputs.len();
    let run: BackwardFn = Box::new(move |g: &Tensor| {
        Python::attach(|py| {
            let out = backward
                .call1(py, (PyTensor::from(g.clone()),))
                .map_err(stash)?;
            let grads: Vec<Option<PyRef<'_, PyTensor>>> = out.extract(py).map_err(|_| {
                stash(PyTypeError::new_err(
                    "autograd.Function: backward must give a sequence of Tensor or None",
                ))
            })?;
            if grads.len() != count {
                return Err(stash(PyTypeError::new_err(format!(
                    "autograd.Function: backward gave {} gradients for {count} tensor inputs",
                    grads.len()
                ))));
            }
            Ok(grads
                .into_iter()
                .map(|g| g.map(|g| g.inner.clone()))
                .collect())
        })
    });
    let name = if twice_differentiable {
        "autograd_function"
    } else {
        "autograd_function_once"
    };
    let refs: Vec<&Tensor> = inputs.iter().collect();
    PyTensor::from(output.inner.attach_op(name, &refs, run))
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(function_output, m)?)
}
