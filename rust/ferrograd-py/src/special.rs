//! `ferrograd.special`'s normal-distribution, Bessel and Airy functions, each one core op chosen
//! by name (they have no Tensor method in PyTorch, so one binding serves them all), and the
//! Hurwitz zeta function.

use ferrograd_core::ops::special_functions::SPECIAL_FUNCTIONS;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

use crate::errors::IntoPy;
use crate::tensor::PyTensor;

/// The function `name` of `x`, elementwise and differentiable.
#[pyfunction]
fn special_function(py: Python<'_>, name: &str, x: PyRef<'_, PyTensor>) -> PyResult<PyTensor> {
    let Some((_, f)) = SPECIAL_FUNCTIONS.iter().find(|(known, _)| *known == name) else {
        let names: Vec<&str> = SPECIAL_FUNCTIONS.iter().map(|(known, _)| *known).collect();
        return Err(PyValueError::new_err(format!(
            "special_function: argument `name` expected one of {}, got {name:?}",
            names.join(", ")
        )));
    };
    let x = x.inner.clone();
    py.detach(|| f(&x)).py().map(PyTensor::from)
}

/// ζ(x, q), broadcast; differentiable in q.
#[pyfunction]
fn zeta(py: Python<'_>, x: PyRef<'_, PyTensor>, q: PyRef<'_, PyTensor>) -> PyResult<PyTensor> {
    let (x, q) = (x.inner.clone(), q.inner.clone());
    py.detach(|| x.zeta(&q)).py().map(PyTensor::from)
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(special_function, m)?)?;
    m.add_function(wrap_pyfunction!(zeta, m)?)
}
