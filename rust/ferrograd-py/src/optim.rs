//! Bindings of the fused optimizer kernels; `ferrograd.optim` keeps state and parameter groups.

use ferrograd_core::optim::{self, AdamConfig, RmspropConfig, SgdConfig};
use pyo3::prelude::*;

use crate::errors::IntoPy;
use crate::tensor::PyTensor;

type T<'a> = PyRef<'a, PyTensor>;

#[pyfunction]
#[allow(clippy::too_many_arguments)]
fn sgd_step(
    py: Python<'_>,
    param: T<'_>,
    grad: T<'_>,
    momentum_buffer: Option<T<'_>>,
    lr: f32,
    momentum: f32,
    dampening: f32,
    weight_decay: f32,
    nesterov: bool,
    maximize: bool,
    first_step: bool,
) -> PyResult<()> {
    let cfg = SgdConfig {
        lr,
        momentum,
        dampening,
        weight_decay,
        nesterov,
        maximize,
    };
    let (p, g, b) = (
        param.inner.clone(),
        grad.inner.clone(),
        momentum_buffer.map(|b| b.inner.clone()),
    );
    py.detach(|| optim::sgd_step(&p, &g, b.as_ref(), cfg, first_step))
        .py()
}

#[pyfunction]
#[allow(clippy::too_many_arguments)]
fn adam_step(
    py: Python<'_>,
    param: T<'_>,
    grad: T<'_>,
    exp_avg: T<'_>,
    exp_avg_sq: T<'_>,
    max_exp_avg_sq: Option<T<'_>>,
    step: u64,
    lr: f32,
    betas: (f32, f32),
    eps: f32,
    weight_decay: f32,
    decoupled_weight_decay: bool,
    amsgrad: bool,
    maximize: bool,
) -> PyResult<()> {
    let cfg = AdamConfig {
        lr,
        beta1: betas.0,
        beta2: betas.1,
        eps,
        weight_decay,
        decoupled_weight_decay,
        amsgrad,
        maximize,
    };
    let (p, g, m, v) = (
        param.inner.clone(),
        grad.inner.clone(),
        exp_avg.inner.clone(),
        exp_avg_sq.inner.clone(),
    );
    let vmax = max_exp_avg_sq.map(|t| t.inner.clone());
    py.detach(|| optim::adam_step(&p, &g, &m, &v, vmax.as_ref(), step, cfg))
        .py()
}

#[pyfunction]
#[allow(clippy::too_many_arguments)]
fn rmsprop_step(
    py: Python<'_>,
    param: T<'_>,
    grad: T<'_>,
    square_avg: T<'_>,
    grad_avg: Option<T<'_>>,
    momentum_buffer: Option<T<'_>>,
    lr: f32,
    alpha: f32,
    eps: f32,
    weight_decay: f32,
    momentum: f32,
    centered: bool,
    maximize: bool,
) -> PyResult<()> {
    let cfg = RmspropConfig {
        lr,
        alpha,
        eps,
        weight_decay,
        momentum,
        centered,
        maximize,
    };
    let (p, g, s) = (
        param.inner.clone(),
        grad.inner.clone(),
        square_avg.inner.clone(),
    );
    let (ga, b) = (
        grad_avg.map(|t| t.inner.clone()),
        momentum_buffer.map(|t| t.inner.clone()),
    );
    py.detach(|| optim::rmsprop_step(&p, &g, &s, ga.as_ref(), b.as_ref(), cfg))
        .py()
}

#[pyfunction]
fn clip_grad_norm(
    py: Python<'_>,
    params: Vec<T<'_>>,
    max_norm: f32,
    norm_type: f32,
) -> PyResult<f32> {
    let ps: Vec<_> = params.iter().map(|p| p.inner.clone()).collect();
    py.detach(|| optim::clip_grad_norm(&ps, max_norm, norm_type))
        .py()
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(sgd_step, m)?)?;
    m.add_function(wrap_pyfunction!(adam_step, m)?)?;
    m.add_function(wrap_pyfunction!(rmsprop_step, m)?)?;
    m.add_function(wrap_pyfunction!(clip_grad_norm, m)?)?;
    Ok(())
}
