//! Python gradient hooks on tensors (`Tensor.register_hook`,
//! `Tensor.register_post_accumulate_grad_hook`) and the handles that remove them.

use std::sync::Arc;

use ferrograd_core::grad_hooks::{GradHook, PostAccumulateHook};
use ferrograd_core::Tensor;
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;

use crate::errors::{stash, IntoPy};
use crate::tensor::PyTensor;

/// A Python callable `hook(grad) -> Tensor | None` as a core gradient hook. Its exceptions are
/// re-raised from `backward`.
pub fn python_hook(callable: Py<PyAny>) -> GradHook {
    Arc::new(move |g: &Tensor| {
        Python::attach(|py| {
            let out = callable
                .call1(py, (PyTensor::from(g.clone()),))
                .map_err(stash)?;
            if out.is_none(py) {
                return Ok(None);
            }
            let kind = out
                .bind(py)
                .get_type()
                .name()
                .map_or_else(|_| "?".into(), |n| n.to_string());
            let replaced: PyRef<'_, PyTensor> = out.extract(py).map_err(|_| {
                stash(PyTypeError::new_err(format!(
                    "register_hook: a hook must return a Tensor or None, got {kind}"
                )))
            })?;
            Ok(Some(replaced.inner.clone()))
        })
    })
}

/// A Python callable `hook(tensor) -> None` as a post-accumulate hook; its exceptions are
/// re-raised from `backward`, and a value it returns is ignored.
pub fn python_post_accumulate_hook(callable: Py<PyAny>) -> PostAccumulateHook {
    Arc::new(move |leaf: &Tensor| {
        Python::attach(|py| {
            callable
                .call1(py, (PyTensor::from(leaf.clone()),))
                .map(|_| ())
                .map_err(stash)
        })
    })
}

/// Where a Python hook runs: on a tensor's gradient, or after a leaf's `.grad` is accumulated.
#[derive(Clone, Copy)]
pub enum HookKind {
    Gradient,
    PostAccumulate,
}

/// Puts the Python callable `hook` on `tensor` as a hook of `kind` (checked to be callable
/// first) and returns the handle that removes it.
pub fn register(
    py: Python<'_>,
    tensor: &Tensor,
    hook: Py<PyAny>,
    kind: HookKind,
) -> PyResult<PyTensorHookHandle> {
    let (op, signature) = match kind {
        HookKind::Gradient => ("register_hook", "grad -> Tensor | None"),
        HookKind::PostAccumulate => ("register_post_accumulate_grad_hook", "tensor -> None"),
    };
    if !hook.bind(py).is_callable() {
        return Err(PyTypeError::new_err(format!(
            "{op}: argument `hook` expected a callable {signature}"
        )));
    }
    let id = match kind {
        HookKind::Gradient => tensor.register_hook(python_hook(hook)),
        HookKind::PostAccumulate => {
            tensor.register_post_accumulate_grad_hook(python_post_accumulate_hook(hook))
        }
    }
    .py()?;
    Ok(PyTensorHookHandle {
        tensor: tensor.clone(),
        id,
    })
}

/// Returned by `Tensor.register_hook`: `remove()` drops the hook, as PyTorch's handle does.
#[pyclass(name = "TensorHookHandle", module = "ferrograd", frozen)]
pub struct PyTensorHookHandle {
    pub tensor: Tensor,
    pub id: usize,
}

#[pymethods]
impl PyTensorHookHandle {
    /// Removes the hook; calling it again does nothing.
    fn remove(&self) -> PyResult<()> {
        self.tensor.remove_hook(self.id).py()
    }
}
