//! Module-level functions: tensor construction, seeding, grad mode, joining, autograd.grad.

use ferrograd_core::{rng, DType, Device, Precision, Tensor};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;

use crate::errors::IntoPy;
use crate::tensor::PyTensor;

fn parse_dtype(name: &str) -> PyResult<DType> {
    DType::parse(name).ok_or_else(|| {
        PyValueError::new_err(format!(
            "dtype: expected a name such as 'float32' or 'int64', got {name:?}"
        ))
    })
}

/// A tensor of `shape` filled with `value`.
#[pyfunction]
#[pyo3(signature = (shape, value, dtype = "float32", device = "cpu", requires_grad = false))]
fn full(
    shape: Vec<usize>,
    value: f64,
    dtype: &str,
    device: &str,
    requires_grad: bool,
) -> PyResult<PyTensor> {
    let t = Tensor::full(
        &shape,
        value,
        parse_dtype(dtype)?,
        Device::parse(device).py()?,
    )
    .py()?;
    t.set_requires_grad(requires_grad).py()?;
    Ok(t.into())
}

/// Uniform values in [low, high) from the global seeded generator.
#[pyfunction]
#[pyo3(signature = (shape, low = 0.0, high = 1.0, requires_grad = false, device = "cpu"))]
fn rand(
    shape: Vec<usize>,
    low: f32,
    high: f32,
    requires_grad: bool,
    device: &str,
) -> PyResult<PyTensor> {
    let t = Tensor::rand_on(&shape, low, high, Device::parse(device).py()?).py()?;
    t.set_requires_grad(requires_grad).py()?;
    Ok(t.into())
}

/// Normal values from the global seeded generator.
#[pyfunction]
#[pyo3(signature = (shape, mean = 0.0, std = 1.0, requires_grad = false, device = "cpu"))]
fn randn(
    shape: Vec<usize>,
    mean: f32,
    std: f32,
    requires_grad: bool,
    device: &str,
) -> PyResult<PyTensor> {
    let t = Tensor::randn_on(&shape, mean, std, Device::parse(device).py()?).py()?;
    t.set_requires_grad(requires_grad).py()?;
    Ok(t.into())
}

/// Seeds the one generator behind initialisation, dropout, shuffling and attack starts.
#[pyfunction]
fn manual_seed(seed: u64) {
    rng::manual_seed(seed);
}

/// The generator's (seed, offset), for checkpoints.
#[pyfunction]
fn get_rng_state() -> (u64, u64) {
    let s = rng::get_state();
    (s.seed, s.offset)
}

/// Restores a state returned by `get_rng_state`.
#[pyfunction]
fn set_rng_state(state: (u64, u64)) {
    rng::set_state(rng::RngState {
        seed: state.0,
        offset: state.1,
    });
}

/// Draws `n` values from the stream (seed, offset) without touching the global generator:
/// uniform in [0, 1), or standard normal with `normal`; returns them and the offset after them.
/// This is how a Python `Generator` draws: the global stream's values for the same state.
#[pyfunction]
fn philox_draw<'py>(
    py: Python<'py>,
    seed: u64,
    offset: u64,
    n: usize,
    normal: bool,
) -> (Bound<'py, numpy::PyArray1<f32>>, u64) {
    let mut state = rng::RngState { seed, offset };
    let values = py.detach(|| match normal {
        true => state.normal(n),
        false => state.uniform(n),
    });
    (numpy::PyArray1::from_vec(py, values), state.offset)
}

/// Turns recording of the autograd tape on or off on this thread; returns the previous mode.
#[pyfunction]
fn set_grad_enabled(enabled: bool) -> bool {
    ferrograd_core::set_grad_enabled(enabled)
}

#[pyfunction]
fn is_grad_enabled() -> bool {
    ferrograd_core::is_grad_enabled()
}

/// Sets the precision matmul, linear, convolutions and attention run at on this thread
/// (`"float32"` or `"bfloat16"`); returns the previous one.
#[pyfunction]
fn set_autocast(precision: &str) -> PyResult<&'static str> {
    let parsed = Precision::parse(precision).ok_or_else(|| {
        PyValueError::new_err(format!(
            "autocast: argument `dtype` expected 'bfloat16' or 'float32', got {precision:?}"
        ))
    })?;
    Ok(ferrograd_core::set_autocast_precision(parsed).as_str())
}

/// The precision products run at on this thread.
#[pyfunction]
fn autocast_precision() -> &'static str {
    ferrograd_core::autocast_precision().as_str()
}

fn inners(tensors: &[PyRef<'_, PyTensor>]) -> Vec<Tensor> {
    tensors.iter().map(|t| t.inner.clone()).collect()
}

/// Joins tensors along an existing axis.
#[pyfunction]
#[pyo3(signature = (tensors, dim = 0))]
fn cat(py: Python<'_>, tensors: Vec<PyRef<'_, PyTensor>>, dim: isize) -> PyResult<PyTensor> {
    let ts = inners(&tensors);
    py.detach(|| Tensor::cat(&ts, dim)).py().map(PyTensor::from)
}

/// Joins tensors of one shape along a new axis.
#[pyfunction]
#[pyo3(signature = (tensors, dim = 0))]
fn stack(py: Python<'_>, tensors: Vec<PyRef<'_, PyTensor>>, dim: isize) -> PyResult<PyTensor> {
    let ts = inners(&tensors);
    py.detach(|| Tensor::stack(&ts, dim))
        .py()
        .map(PyTensor::from)
}

/// Picks `a` where `condition` is true, else `b`. Either branch may be a Python number: it takes
/// the other branch's dtype (float32 when both are numbers), on the condition's device.
#[pyfunction]
#[pyo3(name = "where_")]
fn where_cond(
    py: Python<'_>,
    condition: PyRef<'_, PyTensor>,
    a: &Bound<'_, PyAny>,
    b: &Bound<'_, PyAny>,
) -> PyResult<PyTensor> {
    let c = condition.inner.clone();
    let tensor_of = |o: &Bound<'_, PyAny>| o.cast::<PyTensor>().ok().map(|t| t.get().inner.clone());
    let dtype = tensor_of(a)
        .or_else(|| tensor_of(b))
        .map_or(DType::F32, |t| t.dtype());
    let branch = |o: &Bound<'_, PyAny>, name: &str| -> PyResult<Tensor> {
        if let Some(t) = tensor_of(o) {
            return Ok(t);
        }
        let v = o.extract::<f64>().map_err(|_| {
            PyTypeError::new_err(format!(
                "where: argument `{name}` expected a Tensor or a number, got {}",
                o.get_type()
                    .name()
                    .map(|n| n.to_string())
                    .unwrap_or_default()
            ))
        })?;
        Tensor::full(&[], v, dtype, c.device()).py()
    };
    let (a, b) = (branch(a, "a")?, branch(b, "b")?);
    py.detach(|| c.where_cond(&a, &b)).py().map(PyTensor::from)
}

/// Gradients of a one-element `output` with respect to `inputs`, leaving every `.grad` untouched;
/// with `create_graph` they keep their graph, to be differentiated again.
#[pyfunction]
#[pyo3(signature = (output, inputs, create_graph = false))]
fn grad(
    py: Python<'_>,
    output: PyRef<'_, PyTensor>,
    inputs: Vec<PyRef<'_, PyTensor>>,
    create_graph: bool,
) -> PyResult<Vec<Option<PyTensor>>> {
    let (out, ins) = (output.inner.clone(), inners(&inputs));
    let gs = py
        .detach(|| ferrograd_core::autograd::grad_with(&out, &ins, create_graph))
        .py()?;
    Ok(gs.into_iter().map(|g| g.map(PyTensor::from)).collect())
}

/// Constant padding with (before, after) pairs from the last axis.
#[pyfunction]
fn pad(
    py: Python<'_>,
    x: PyRef<'_, PyTensor>,
    pads: Vec<(usize, usize)>,
    value: f32,
) -> PyResult<PyTensor> {
    let t = x.inner.clone();
    py.detach(|| t.pad(&pads, value)).py().map(PyTensor::from)
}

/// One-hot float32 rows of int64 labels.
#[pyfunction]
fn one_hot(labels: PyRef<'_, PyTensor>, num_classes: usize) -> PyResult<PyTensor> {
    labels.inner.one_hot(num_classes).py().map(PyTensor::from)
}

/// Embedding lookup: rows of `weight` picked by `ids`.
#[pyfunction]
fn embedding(
    py: Python<'_>,
    ids: PyRef<'_, PyTensor>,
    weight: PyRef<'_, PyTensor>,
) -> PyResult<PyTensor> {
    let (i, w) = (ids.inner.clone(), weight.inner.clone());
    py.detach(|| w.embedding(&i)).py().map(PyTensor::from)
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(full, m)?)?;
    m.add_function(wrap_pyfunction!(rand, m)?)?;
    m.add_function(wrap_pyfunction!(randn, m)?)?;
    m.add_function(wrap_pyfunction!(manual_seed, m)?)?;
    m.add_function(wrap_pyfunction!(get_rng_state, m)?)?;
    m.add_function(wrap_pyfunction!(philox_draw, m)?)?;
    m.add_function(wrap_pyfunction!(set_rng_state, m)?)?;
    m.add_function(wrap_pyfunction!(set_grad_enabled, m)?)?;
    m.add_function(wrap_pyfunction!(is_grad_enabled, m)?)?;
    m.add_function(wrap_pyfunction!(set_autocast, m)?)?;
    m.add_function(wrap_pyfunction!(autocast_precision, m)?)?;
    m.add_function(wrap_pyfunction!(cat, m)?)?;
    m.add_function(wrap_pyfunction!(stack, m)?)?;
    m.add_function(wrap_pyfunction!(where_cond, m)?)?;
    m.add_function(wrap_pyfunction!(grad, m)?)?;
    m.add_function(wrap_pyfunction!(pad, m)?)?;
    m.add_function(wrap_pyfunction!(one_hot, m)?)?;
    m.add_function(wrap_pyfunction!(embedding, m)?)?;
    Ok(())
}
