//! Bindings of the stateless nn functions (convolution, pooling, normalisation, dropout, losses).
//! The Python module `ferrograd.functional` wraps them with PyTorch-style signatures.

use ferrograd_core::ops::conv_transpose::TransposedConv;
use ferrograd_core::ops::loss::{self, KlReduction, Reduction};
use ferrograd_core::ops::{dropout, norm, rnn};
use ferrograd_core::{Error, Tensor};
use pyo3::prelude::*;

use crate::convert::{pool_window, PoolWindowArgs};
use crate::errors::IntoPy;
use crate::tensor::PyTensor;

type T<'a> = PyRef<'a, PyTensor>;

fn opt(t: &Option<T<'_>>) -> Option<Tensor> {
    t.as_ref().map(|t| t.inner.clone())
}

fn run(
    py: Python<'_>,
    f: impl FnOnce() -> ferrograd_core::Result<Tensor> + Send,
) -> PyResult<PyTensor> {
    py.detach(f).py().map(PyTensor::from)
}

#[pyfunction]
fn softmax(py: Python<'_>, x: T<'_>, dim: isize, log: bool) -> PyResult<PyTensor> {
    let x = x.inner.clone();
    run(py, || {
        if log {
            x.log_softmax(dim)
        } else {
            x.softmax(dim)
        }
    })
}

#[pyfunction]
fn logsumexp(py: Python<'_>, x: T<'_>, dim: isize, keepdim: bool) -> PyResult<PyTensor> {
    let x = x.inner.clone();
    run(py, || x.logsumexp(dim, keepdim))
}

#[pyfunction]
#[pyo3(signature = (x, weight, bias, relu = false))]
fn linear(
    py: Python<'_>,
    x: T<'_>,
    weight: T<'_>,
    bias: Option<T<'_>>,
    relu: bool,
) -> PyResult<PyTensor> {
    let (x, w, b) = (x.inner.clone(), weight.inner.clone(), opt(&bias));
    run(py, || match relu {
        true => x.linear_relu(&w, b.as_ref()),
        false => x.linear(&w, b.as_ref()),
    })
}

/// Scaled dot-product attention; `causal` lets query i attend to keys 0..=i only.
#[pyfunction]
#[pyo3(signature = (query, key, value, mask, dropout_p, scale, causal = false))]
#[allow(clippy::too_many_arguments)]
fn scaled_dot_product_attention(
    py: Python<'_>,
    query: T<'_>,
    key: T<'_>,
    value: T<'_>,
    mask: Option<T<'_>>,
    dropout_p: f32,
    scale: Option<f32>,
    causal: bool,
) -> PyResult<PyTensor> {
    let (q, k, v, m) = (
        query.inner.clone(),
        key.inner.clone(),
        value.inner.clone(),
        opt(&mask),
    );
    run(py, || {
        q.scaled_dot_product_attention(&k, &v, m.as_ref(), dropout_p, scale, causal)
    })
}

/// conv2d; with `relu`, followed by a ReLU fused into it, and with `max_pool` also by that max
/// pool (`nn.Sequential` uses these).
#[pyfunction]
#[pyo3(signature = (x, weight, bias, stride, padding, dilation, groups, relu = false, max_pool = None))]
#[allow(clippy::too_many_arguments)]
fn conv2d(
    py: Python<'_>,
    x: T<'_>,
    weight: T<'_>,
    bias: Option<T<'_>>,
    stride: (usize, usize),
    padding: (usize, usize),
    dilation: (usize, usize),
    groups: usize,
    relu: bool,
    max_pool: Option<PoolWindowArgs>,
) -> PyResult<PyTensor> {
    let (x, w, b) = (x.inner.clone(), weight.inner.clone(), opt(&bias));
    let pool = max_pool.map(pool_window);
    run(py, || match (relu, pool) {
        (true, Some(pool)) => {
            x.conv2d_relu_max_pool2d(&w, b.as_ref(), stride, padding, dilation, groups, pool)
        }
        (true, None) => x.conv2d_relu(&w, b.as_ref(), stride, padding, dilation, groups),
        (false, None) => x.conv2d(&w, b.as_ref(), stride, padding, dilation, groups),
        (false, Some(_)) => Err(Error::arg(
            "conv2d",
            "max_pool",
            "None unless relu=True (the fused op is conv, ReLU, max pool)",
            "a pool window",
        )),
    })
}

#[pyfunction]
fn unfold(
    py: Python<'_>,
    x: T<'_>,
    kernel_size: (usize, usize),
    stride: (usize, usize),
    padding: (usize, usize),
    dilation: (usize, usize),
) -> PyResult<PyTensor> {
    let x = x.inner.clone();
    run(py, || x.unfold([kernel_size, stride, padding, dilation]))
}

#[pyfunction]
fn fold(
    py: Python<'_>,
    x: T<'_>,
    output_size: (usize, usize),
    kernel_size: (usize, usize),
    stride: (usize, usize),
    padding: (usize, usize),
    dilation: (usize, usize),
) -> PyResult<PyTensor> {
    let x = x.inner.clone();
    run(py, || {
        x.fold(output_size, [kernel_size, stride, padding, dilation])
    })
}

#[pyfunction]
#[allow(clippy::too_many_arguments)]
fn conv_transpose2d(
    py: Python<'_>,
    x: T<'_>,
    weight: T<'_>,
    bias: Option<T<'_>>,
    stride: (usize, usize),
    padding: (usize, usize),
    output_padding: (usize, usize),
    groups: usize,
    dilation: (usize, usize),
) -> PyResult<PyTensor> {
    let (x, w, b) = (x.inner.clone(), weight.inner.clone(), opt(&bias));
    let settings = TransposedConv {
        stride,
        padding,
        output_padding,
        dilation,
        groups,
    };
    run(py, || x.conv_transpose2d(&w, b.as_ref(), settings))
}

#[pyfunction]
fn max_pool2d(
    py: Python<'_>,
    x: T<'_>,
    kernel: (usize, usize),
    stride: (usize, usize),
    padding: (usize, usize),
    dilation: (usize, usize),
    ceil_mode: bool,
) -> PyResult<PyTensor> {
    let x = x.inner.clone();
    run(py, || {
        x.max_pool2d(kernel, stride, padding, dilation, ceil_mode)
    })
}

#[pyfunction]
fn avg_pool2d(
    py: Python<'_>,
    x: T<'_>,
    kernel: (usize, usize),
    stride: (usize, usize),
    padding: (usize, usize),
    ceil_mode: bool,
    count_include_pad: bool,
) -> PyResult<PyTensor> {
    let x = x.inner.clone();
    run(py, || {
        x.avg_pool2d(kernel, stride, padding, ceil_mode, count_include_pad)
    })
}

#[pyfunction]
fn adaptive_avg_pool2d(
    py: Python<'_>,
    x: T<'_>,
    output_size: (usize, usize),
) -> PyResult<PyTensor> {
    let x = x.inner.clone();
    run(py, || x.adaptive_avg_pool2d(output_size))
}

#[pyfunction]
#[allow(clippy::too_many_arguments)]
fn batch_norm(
    py: Python<'_>,
    x: T<'_>,
    running_mean: Option<T<'_>>,
    running_var: Option<T<'_>>,
    weight: Option<T<'_>>,
    bias: Option<T<'_>>,
    training: bool,
    momentum: f32,
    eps: f32,
) -> PyResult<PyTensor> {
    let (x, rm, rv, w, b) = (
        x.inner.clone(),
        opt(&running_mean),
        opt(&running_var),
        opt(&weight),
        opt(&bias),
    );
    run(py, || {
        norm::batch_norm(
            &x,
            rm.as_ref(),
            rv.as_ref(),
            w.as_ref(),
            b.as_ref(),
            training,
            momentum,
            eps,
        )
    })
}

#[pyfunction]
fn layer_norm(
    py: Python<'_>,
    x: T<'_>,
    normalized_shape: Vec<usize>,
    weight: Option<T<'_>>,
    bias: Option<T<'_>>,
    eps: f32,
) -> PyResult<PyTensor> {
    let (x, w, b) = (x.inner.clone(), opt(&weight), opt(&bias));
    run(py, || {
        norm::layer_norm(&x, &normalized_shape, w.as_ref(), b.as_ref(), eps)
    })
}

#[pyfunction(name = "dropout")]
fn dropout_fn(py: Python<'_>, x: T<'_>, p: f32, training: bool) -> PyResult<PyTensor> {
    let x = x.inner.clone();
    run(py, || dropout::dropout(&x, p, training))
}

/// One fused LSTM step: `[B, 2H]` = (h | c).
#[pyfunction]
fn lstm_cell(py: Python<'_>, gates: T<'_>, c_prev: T<'_>) -> PyResult<PyTensor> {
    let (g, c) = (gates.inner.clone(), c_prev.inner.clone());
    run(py, || rnn::lstm_cell(&g, &c))
}

/// One fused GRU step: the new hidden state `[B, H]`.
#[pyfunction]
fn gru_cell(py: Python<'_>, gx: T<'_>, gh: T<'_>, h_prev: T<'_>) -> PyResult<PyTensor> {
    let (x, h, hp) = (gx.inner.clone(), gh.inner.clone(), h_prev.inner.clone());
    run(py, || rnn::gru_cell(&x, &h, &hp))
}

fn reduction(op: &'static str, r: &str) -> PyResult<Reduction> {
    Reduction::parse(op, r).py()
}

#[pyfunction]
fn cross_entropy(
    py: Python<'_>,
    input: T<'_>,
    target: T<'_>,
    weight: Option<T<'_>>,
    ignore_index: i64,
    reduction_: &str,
    label_smoothing: f32,
) -> PyResult<PyTensor> {
    let r = reduction("cross_entropy", reduction_)?;
    let (x, t, w) = (input.inner.clone(), target.inner.clone(), opt(&weight));
    run(py, || {
        loss::cross_entropy(&x, &t, w.as_ref(), ignore_index, r, label_smoothing)
    })
}

#[pyfunction]
fn nll_loss(
    py: Python<'_>,
    input: T<'_>,
    target: T<'_>,
    weight: Option<T<'_>>,
    ignore_index: i64,
    reduction_: &str,
) -> PyResult<PyTensor> {
    let r = reduction("nll_loss", reduction_)?;
    let (x, t, w) = (input.inner.clone(), target.inner.clone(), opt(&weight));
    run(py, || loss::nll_loss(&x, &t, w.as_ref(), ignore_index, r))
}

/// Elementwise regression / binary losses by name (`mse`, `l1`, `smooth_l1`, `bce`, `bce_logits`).
#[pyfunction]
#[allow(clippy::too_many_arguments)]
fn pointwise_loss(
    py: Python<'_>,
    kind: &str,
    input: T<'_>,
    target: T<'_>,
    reduction_: &str,
    beta: f32,
    weight: Option<T<'_>>,
    pos_weight: Option<T<'_>>,
) -> PyResult<PyTensor> {
    let r = reduction("loss", reduction_)?;
    let (x, t, w, pw) = (
        input.inner.clone(),
        target.inner.clone(),
        opt(&weight),
        opt(&pos_weight),
    );
    let kind = kind.to_string();
    run(py, move || match kind.as_str() {
        "mse" => loss::mse_loss(&x, &t, r),
        "l1" => loss::l1_loss(&x, &t, r),
        "smooth_l1" => loss::smooth_l1_loss(&x, &t, r, beta),
        "bce" => loss::binary_cross_entropy(&x, &t, w.as_ref(), r),
        "bce_logits" => loss::binary_cross_entropy_with_logits(&x, &t, w.as_ref(), pw.as_ref(), r),
        other => Err(ferrograd_core::Error::arg(
            "loss",
            "kind",
            "mse, l1, smooth_l1, bce or bce_logits",
            other,
        )),
    })
}

#[pyfunction]
fn kl_div(
    py: Python<'_>,
    input: T<'_>,
    target: T<'_>,
    reduction_: &str,
    log_target: bool,
) -> PyResult<PyTensor> {
    let r = match reduction_ {
        "none" => KlReduction::None,
        "mean" => KlReduction::Mean,
        "sum" => KlReduction::Sum,
        "batchmean" => KlReduction::BatchMean,
        other => {
            return Err(pyo3::exceptions::PyValueError::new_err(format!(
                "kl_div: argument `reduction` expected 'none', 'mean', 'sum' or 'batchmean', got {other:?}"
            )))
        }
    };
    let (x, t) = (input.inner.clone(), target.inner.clone());
    run(py, || loss::kl_div(&x, &t, r, log_target))
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(softmax, m)?)?;
    m.add_function(wrap_pyfunction!(logsumexp, m)?)?;
    m.add_function(wrap_pyfunction!(conv2d, m)?)?;
    m.add_function(wrap_pyfunction!(unfold, m)?)?;
    m.add_function(wrap_pyfunction!(fold, m)?)?;
    m.add_function(wrap_pyfunction!(max_pool2d, m)?)?;
    m.add_function(wrap_pyfunction!(avg_pool2d, m)?)?;
    m.add_function(wrap_pyfunction!(adaptive_avg_pool2d, m)?)?;
    m.add_function(wrap_pyfunction!(batch_norm, m)?)?;
    m.add_function(wrap_pyfunction!(layer_norm, m)?)?;
    m.add_function(wrap_pyfunction!(linear, m)?)?;
    m.add_function(wrap_pyfunction!(scaled_dot_product_attention, m)?)?;
    m.add_function(wrap_pyfunction!(dropout_fn, m)?)?;
    m.add_function(wrap_pyfunction!(lstm_cell, m)?)?;
    m.add_function(wrap_pyfunction!(conv_transpose2d, m)?)?;
    m.add_function(wrap_pyfunction!(gru_cell, m)?)?;
    m.add_function(wrap_pyfunction!(cross_entropy, m)?)?;
    m.add_function(wrap_pyfunction!(nll_loss, m)?)?;
    m.add_function(wrap_pyfunction!(pointwise_loss, m)?)?;
    m.add_function(wrap_pyfunction!(kl_div, m)?)?;
    Ok(())
}
