//! `_core.Layer`: a Rust module tree that `ferrograd.nn` builds from its Python modules (sharing
//! their parameter tensors) so training and inference loops run without Python. A module with no
//! Rust counterpart becomes a `python` layer whose forward calls back into the interpreter.

use ferrograd_core::nn::{
    self, Activation, AdaptiveAvgPool2d, AvgPool2d, BatchNorm, Conv2d, Dropout, Embedding, Flatten,
    LayerNorm, Linear, MaxPool2d, Module, Normalize, Sequential,
};
use ferrograd_core::{Result, Tensor};
use pyo3::exceptions::{PyRuntimeError, PyValueError};
use pyo3::prelude::*;

use crate::convert::{pool_window, Pair};
use crate::errors::{stash, IntoPy};
use crate::memory_format::PyMemoryFormat;
use crate::tensor::PyTensor;

type T<'a> = PyRef<'a, PyTensor>;

fn tensor(t: Option<T<'_>>) -> Option<Tensor> {
    t.map(|t| t.inner.clone())
}

/// A Python callable `f(Tensor) -> Tensor` as a module; its exceptions propagate unchanged.
#[derive(Debug)]
struct PythonForward {
    callable: Py<PyAny>,
}

impl Module for PythonForward {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        Python::attach(|py| {
            let out = self
                .callable
                .call1(py, (PyTensor::from(x.clone()),))
                .map_err(stash)?;
            let out: T<'_> = out.extract(py).map_err(|_| {
                stash(PyValueError::new_err(
                    "a module's forward returned something other than a Tensor",
                ))
            })?;
            Ok(out.inner.clone())
        })
    }
}

/// One module of a Rust module tree.
#[pyclass(name = "Layer", module = "ferrograd._core")]
pub struct PyLayer {
    inner: Option<Box<dyn Module>>,
}

impl PyLayer {
    fn wrap(m: impl Module + 'static) -> PyLayer {
        PyLayer {
            inner: Some(Box::new(m)),
        }
    }

    /// The module, or an error once it was moved into a container.
    pub fn module(&self) -> PyResult<&dyn Module> {
        self.inner
            .as_deref()
            .ok_or_else(|| PyRuntimeError::new_err("this Layer was moved into a Sequential"))
    }
}

#[pymethods]
impl PyLayer {
    #[staticmethod]
    #[pyo3(signature = (weight, bias = None))]
    fn linear(weight: T<'_>, bias: Option<T<'_>>) -> PyLayer {
        PyLayer::wrap(Linear {
            weight: weight.inner.clone(),
            bias: tensor(bias),
        })
    }

    /// A convolution; `memory_format` (from `model.to(memory_format=...)`) is the format its
    /// input is brought to first.
    #[staticmethod]
    #[pyo3(signature = (weight, bias, stride, padding, dilation, groups, memory_format = None))]
    fn conv2d(
        weight: T<'_>,
        bias: Option<T<'_>>,
        stride: Pair,
        padding: Pair,
        dilation: Pair,
        groups: usize,
        memory_format: Option<PyRef<'_, PyMemoryFormat>>,
    ) -> PyLayer {
        PyLayer::wrap(Conv2d {
            weight: weight.inner.clone(),
            bias: tensor(bias),
            stride,
            padding,
            dilation,
            groups,
            input_format: memory_format.and_then(|m| m.format),
        })
    }

    #[staticmethod]
    fn embedding(weight: T<'_>) -> PyLayer {
        PyLayer::wrap(Embedding {
            weight: weight.inner.clone(),
        })
    }

    /// Batch norm; `running` is `(mean, var, num_batches_tracked)` or None.
    #[staticmethod]
    fn batch_norm(
        weight: Option<T<'_>>,
        bias: Option<T<'_>>,
        running: Option<(T<'_>, T<'_>, T<'_>)>,
        momentum: Option<f32>,
        eps: f32,
        training: bool,
    ) -> PyLayer {
        PyLayer::wrap(BatchNorm {
            weight: tensor(weight),
            bias: tensor(bias),
            running: running.map(|(m, v, n)| (m.inner.clone(), v.inner.clone(), n.inner.clone())),
            momentum,
            eps,
            training,
        })
    }

    #[staticmethod]
    fn layer_norm(
        normalized_shape: Vec<usize>,
        weight: Option<T<'_>>,
        bias: Option<T<'_>>,
        eps: f32,
    ) -> PyLayer {
        PyLayer::wrap(LayerNorm {
            normalized_shape,
            weight: tensor(weight),
            bias: tensor(bias),
            eps,
        })
    }

    #[staticmethod]
    fn dropout(p: f32, training: bool) -> PyLayer {
        PyLayer::wrap(Dropout { p, training })
    }

    #[staticmethod]
    fn normalize(mean: Vec<f32>, std: Vec<f32>) -> PyResult<PyLayer> {
        if mean.len() != std.len() || mean.is_empty() || std.iter().any(|s| *s <= 0.0) {
            return Err(PyValueError::new_err(format!(
                "Normalize: expected equally long, non-empty mean and std with std > 0, got {} and {:?}",
                mean.len(),
                std
            )));
        }
        Ok(PyLayer::wrap(Normalize { mean, std }))
    }

    #[staticmethod]
    fn flatten(start: isize, end: isize) -> PyLayer {
        PyLayer::wrap(Flatten { start, end })
    }

    #[staticmethod]
    fn max_pool2d(
        kernel: Pair,
        stride: Pair,
        padding: Pair,
        dilation: Pair,
        ceil_mode: bool,
    ) -> PyLayer {
        PyLayer::wrap(MaxPool2d {
            window: pool_window((kernel, stride, padding, dilation, ceil_mode)),
        })
    }

    #[staticmethod]
    fn avg_pool2d(
        kernel: Pair,
        stride: Pair,
        padding: Pair,
        ceil_mode: bool,
        count_include_pad: bool,
    ) -> PyLayer {
        PyLayer::wrap(AvgPool2d {
            kernel,
            stride,
            padding,
            ceil_mode,
            count_include_pad,
        })
    }

    #[staticmethod]
    fn adaptive_avg_pool2d(output_size: Pair) -> PyLayer {
        PyLayer::wrap(AdaptiveAvgPool2d { output_size })
    }

    /// An activation by name: identity, relu, leaky_relu (a = slope), gelu / gelu_tanh,
    /// sigmoid, tanh, silu, softplus (a = beta, b = threshold), softmax / log_softmax (dim).
    #[staticmethod]
    #[pyo3(signature = (name, a = 0.0, b = 0.0, dim = -1))]
    fn activation(name: &str, a: f32, b: f32, dim: isize) -> PyResult<PyLayer> {
        let act = match name {
            "identity" => Activation::Identity,
            "relu" => Activation::Relu,
            "leaky_relu" => Activation::LeakyRelu(a),
            "gelu" => Activation::Gelu { tanh: false },
            "gelu_tanh" => Activation::Gelu { tanh: true },
            "sigmoid" => Activation::Sigmoid,
            "tanh" => Activation::Tanh,
            "silu" => Activation::Silu,
            "softplus" => Activation::Softplus {
                beta: a,
                threshold: b,
            },
            "softmax" => Activation::Softmax(dim),
            "log_softmax" => Activation::LogSoftmax(dim),
            other => {
                return Err(PyValueError::new_err(format!(
                    "Layer.activation: argument `name` expected a known activation, got {other:?}"
                )))
            }
        };
        Ok(PyLayer::wrap(act))
    }

    /// Children applied in order under the given names; the children are moved in.
    #[staticmethod]
    fn sequential(children: Vec<(String, PyRefMut<'_, PyLayer>)>) -> PyResult<PyLayer> {
        let mut seq = Sequential::default();
        for (name, mut child) in children {
            let m = child.inner.take().ok_or_else(|| {
                PyRuntimeError::new_err(format!("Layer {name} was already moved into a Sequential"))
            })?;
            seq.children.push((name, m));
        }
        Ok(PyLayer::wrap(seq))
    }

    /// A module whose forward is the Python callable `forward(Tensor) -> Tensor`.
    #[staticmethod]
    fn python(forward: Py<PyAny>) -> PyLayer {
        PyLayer::wrap(PythonForward { callable: forward })
    }

    fn __call__(&self, py: Python<'_>, x: T<'_>) -> PyResult<PyTensor> {
        let m = self.module()?;
        let x = x.inner.clone();
        py.detach(|| m.forward(&x)).py().map(PyTensor::from)
    }

    /// Parameters and buffers with their state-dict names.
    fn state_dict(&self) -> PyResult<Vec<(String, PyTensor)>> {
        Ok(nn::state_dict(self.module()?)
            .into_iter()
            .map(|(n, t)| (n, t.into()))
            .collect())
    }

    /// Trainable parameters with their state-dict names.
    fn named_parameters(&self) -> PyResult<Vec<(String, PyTensor)>> {
        Ok(nn::named_parameters(self.module()?)
            .into_iter()
            .map(|(n, t)| (n, t.into()))
            .collect())
    }

    /// Switches training mode of every child.
    fn set_training(&mut self, training: bool) -> PyResult<()> {
        self.inner
            .as_deref_mut()
            .ok_or_else(|| PyRuntimeError::new_err("this Layer was moved into a Sequential"))?
            .set_training(training);
        Ok(())
    }
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyLayer>()
}
