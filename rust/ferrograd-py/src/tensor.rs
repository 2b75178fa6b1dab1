//! The Python `Tensor` class: a handle to a core tensor with numpy conversion, operators,
//! indexing and autograd. Heavy work runs with the GIL released.

use ferrograd_core::ops::binary::CmpOp;
use ferrograd_core::{DType, Device, Tensor};
use pyo3::basic::CompareOp;
use pyo3::exceptions::{PyIndexError, PyRuntimeError, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyTuple;

use crate::convert::{from_numpy, operand, to_numpy};
use crate::errors::IntoPy;
use crate::memory_format::{layout_format, PyMemoryFormat};

/// An n-dimensional array on a device, with autograd.
#[pyclass(name = "Tensor", module = "ferrograd", frozen)]
pub struct PyTensor {
    pub inner: Tensor,
}

impl From<Tensor> for PyTensor {
    fn from(inner: Tensor) -> Self {
        PyTensor { inner }
    }
}

/// Shape arguments given either as `f(2, 3)` or `f((2, 3))`.
fn shape_args(args: &Bound<'_, PyTuple>) -> PyResult<Vec<isize>> {
    if args.len() == 1 {
        if let Ok(v) = args.get_item(0)?.extract::<Vec<isize>>() {
            return Ok(v);
        }
    }
    args.extract::<Vec<isize>>()
}

/// Optional dims given as an int, a sequence, or None (all).
fn dims_arg(dim: Option<&Bound<'_, PyAny>>) -> PyResult<Vec<isize>> {
    match dim {
        None => Ok(vec![]),
        Some(d) if d.is_none() => Ok(vec![]),
        Some(d) => match d.extract::<isize>() {
            Ok(i) => Ok(vec![i]),
            Err(_) => d.extract::<Vec<isize>>(),
        },
    }
}

impl PyTensor {
    /// `self[mask] = value` for a bool `mask` indexing the leading axes (its shape is theirs):
    /// each selected entry (a slice over the remaining axes) takes `value`, a number or a tensor
    /// of that slice's shape (or one broadcasting to it).
    /// `t[key] = value` where `key` picks entries by integer positions (a copy, not a view): the
    /// same key applied to the entries' flat positions says which to write, and the last write to
    /// a position repeated in the key wins, as in PyTorch.
    fn assign_at_positions(
        &self,
        py: Python<'_>,
        key: &Bound<'_, PyAny>,
        value: &Tensor,
    ) -> PyResult<()> {
        let t = &self.inner;
        let numel = t.numel();
        let ids = Tensor::from_vec((0..numel as i64).collect::<Vec<i64>>(), t.shape()).py()?;
        let targets = crate::indexing::index(&ids, key)?;
        let positions = targets.to_vec::<i64>().py()?;
        let fitted =
            ferrograd_core::layout::broadcast_shapes("__setitem__", value.shape(), targets.shape())
                .is_ok_and(|s| s == targets.shape());
        if !fitted {
            return Err(PyValueError::new_err(format!(
                "__setitem__: the value must broadcast to the indexed shape {:?}, got shape {:?}",
                targets.shape(),
                value.shape()
            )));
        }
        // For each entry of `t`, which value (if any) lands on it.
        let mut source = vec![0i64; numel];
        let mut written = vec![false; numel];
        for (j, &p) in positions.iter().enumerate() {
            source[p as usize] = j as i64;
            written[p as usize] = true;
        }
        py.detach(|| {
            let values = value
                .to_dtype(t.dtype())?
                .expand(targets.shape())?
                .contiguous()?
                .reshape(&[positions.len()])?;
            if positions.is_empty() {
                return Ok(());
            }
            let device = t.device();
            let spread = values
                .index_select(0, &Tensor::from_vec(source, &[numel])?.to_device(device)?)?
                .reshape(t.shape())?;
            let mask = Tensor::from_vec(written, t.shape())?.to_device(device)?;
            t.assign(&mask.where_cond(&spread, t)?)
        })
        .py()
    }

    fn assign_where(&self, py: Python<'_>, mask: &Tensor, value: &Tensor) -> PyResult<()> {
        let t = &self.inner;
        let (indexed, slice) = t.shape().split_at(mask.rank().min(t.rank()));
        if mask.rank() > t.rank() || mask.shape() != indexed {
            return Err(PyIndexError::new_err(format!(
                "__setitem__: a bool mask must have the shape of the leading axes it indexes, got \
                 mask shape {:?} for a tensor of shape {:?}",
                mask.shape(),
                t.shape()
            )));
        }
        if value.rank() > slice.len()
            || ferrograd_core::layout::broadcast_shapes("__setitem__", value.shape(), slice)
                .map_or(true, |s| s != slice)
        {
            return Err(PyValueError::new_err(format!(
                "__setitem__: the value for a bool mask must be a number or broadcast to one \
                 selected entry's shape {slice:?}, got shape {:?} (for values per selected entry, \
                 use ferrograd.where(mask, values, tensor))",
                value.shape()
            )));
        }
        let mut aligned = mask.shape().to_vec();
        aligned.resize(t.rank(), 1);
        py.detach(|| {
            let picked = mask
                .reshape(&aligned)?
                .where_cond(&value.to_dtype(t.dtype())?, t)?;
            t.assign(&picked)
        })
        .py()
    }

    fn unary(
        &self,
        py: Python<'_>,
        f: impl FnOnce(&Tensor) -> ferrograd_core::Result<Tensor> + Send,
    ) -> PyResult<PyTensor> {
        let t = &self.inner;
        py.detach(|| f(t)).py().map(PyTensor::from)
    }

    fn binary(
        &self,
        py: Python<'_>,
        other: &Bound<'_, PyAny>,
        reflected: bool,
        f: impl FnOnce(&Tensor, &Tensor) -> ferrograd_core::Result<Tensor> + Send,
    ) -> PyResult<PyTensor> {
        let o = operand(other, &self.inner)?;
        let (a, b) = if reflected {
            (&o, &self.inner)
        } else {
            (&self.inner, &o)
        };
        py.detach(|| f(a, b)).py().map(PyTensor::from)
    }
}

#[pymethods]
impl PyTensor {
    /// Builds a tensor by copying a numpy array.
    #[staticmethod]
    #[pyo3(signature = (array, requires_grad = false))]
    fn from_numpy(array: &Bound<'_, PyAny>, requires_grad: bool) -> PyResult<PyTensor> {
        let t = from_numpy(array)?;
        t.set_requires_grad(requires_grad).py()?;
        Ok(t.into())
    }

    /// The values as a numpy array sharing this tensor's memory where the layout allows (writes
    /// through it change the tensor), else a copy. The tensor must not require grad: detach first.
    fn numpy<'py>(slf: &Bound<'py, Self>, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let t = &slf.get().inner;
        if t.device() != Device::Cpu {
            return Err(PyTypeError::new_err(format!(
                "can't convert a {} tensor to numpy; copy it to the host first with tensor.cpu()",
                t.device()
            )));
        }
        if t.requires_grad() {
            return Err(PyRuntimeError::new_err(
                "can't call numpy() on a tensor that requires grad; use tensor.detach().numpy()",
            ));
        }
        match crate::convert::numpy_view(slf.as_any(), t)? {
            Some(view) => Ok(view),
            None => to_numpy(py, t),
        }
    }

    #[pyo3(signature = (dtype = None, copy = None))]
    fn __array__<'py>(
        &self,
        py: Python<'py>,
        dtype: Option<Bound<'py, PyAny>>,
        copy: Option<bool>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let _ = copy;
        let arr = to_numpy(py, &self.inner)?;
        match dtype {
            Some(d) => arr.call_method1("astype", (d,)),
            None => Ok(arr),
        }
    }

    /// The size of every axis, as a tuple.
    #[getter]
    fn shape<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        PyTuple::new(py, self.inner.shape())
    }

    /// Size of every axis, or of axis `dim`.
    #[pyo3(signature = (dim = None))]
    fn size<'py>(&self, py: Python<'py>, dim: Option<isize>) -> PyResult<Bound<'py, PyAny>> {
        match dim {
            Some(d) => Ok(self.inner.dim(d).py()?.into_pyobject(py)?.into_any()),
            None => Ok(PyTuple::new(py, self.inner.shape())?.into_any()),
        }
    }

    /// The number of axes.
    #[getter]
    fn ndim(&self) -> usize {
        self.inner.rank()
    }

    /// The number of axes (torch's `dim()`).
    fn dim(&self) -> usize {
        self.inner.rank()
    }

    /// The number of elements.
    fn numel(&self) -> usize {
        self.inner.numel()
    }

    /// The element type's name: `"float32"` or `"int64"`.
    #[getter]
    fn dtype(&self) -> &'static str {
        self.inner.dtype().as_str()
    }

    /// Where the storage lives: `"cpu"` (or `"cuda:N"`).
    #[getter]
    fn device(&self) -> String {
        self.inner.device().to_string()
    }

    /// Whether autograd records operations on this tensor.
    #[getter]
    fn requires_grad(&self) -> bool {
        self.inner.requires_grad()
    }

    #[setter]
    fn set_requires_grad(&self, flag: bool) -> PyResult<()> {
        self.inner.set_requires_grad(flag).py()
    }

    /// Sets requires_grad in place and returns the tensor, as torch's `requires_grad_()`.
    #[pyo3(signature = (flag = true))]
    fn requires_grad_<'py>(slf: &Bound<'py, Self>, flag: bool) -> PyResult<Bound<'py, Self>> {
        slf.get().inner.set_requires_grad(flag).py()?;
        Ok(slf.clone())
    }

    /// The gradient accumulated by `backward` (None until then); settable.
    #[getter]
    fn grad(&self) -> Option<PyTensor> {
        self.inner.grad().map(PyTensor::from)
    }

    /// Sets `.grad` to the given tensor as it is (a recorded one stays differentiable, as a
    /// `create_graph` backward pass leaves it), or clears it with None.
    #[setter(grad)]
    fn set_grad(&self, grad: Option<PyRef<'_, PyTensor>>) -> PyResult<()> {
        if let Some(g) = &grad {
            if g.inner.shape() != self.inner.shape() {
                return Err(PyValueError::new_err(format!(
                    "grad: expected shape {:?}, got {:?}",
                    self.inner.shape(),
                    g.inner.shape()
                )));
            }
        }
        self.inner.set_grad(grad.map(|g| g.inner.clone()));
        Ok(())
    }

    /// Runs `hook(grad)` on this tensor's gradient in every later backward pass, once the
    /// gradient is complete; a returned tensor (same shape) replaces it. Returns a handle whose
    /// `remove()` drops the hook.
    fn register_hook(
        &self,
        py: Python<'_>,
        hook: Py<PyAny>,
    ) -> PyResult<crate::grad_hooks::PyTensorHookHandle> {
        use crate::grad_hooks::{register, HookKind};
        register(py, &self.inner, hook, HookKind::Gradient)
    }

    /// Runs `hook(tensor)` after every later backward pass has accumulated this leaf's `.grad`
    /// (an optimizer can step the parameter there). Returns a handle whose `remove()` drops it.
    fn register_post_accumulate_grad_hook(
        &self,
        py: Python<'_>,
        hook: Py<PyAny>,
    ) -> PyResult<crate::grad_hooks::PyTensorHookHandle> {
        use crate::grad_hooks::{register, HookKind};
        register(py, &self.inner, hook, HookKind::PostAccumulate)
    }

    /// Keeps this non-leaf tensor's gradient in `.grad` after `backward` (leaves keep theirs).
    fn retain_grad(&self) -> PyResult<()> {
        self.inner.retain_grad().py()
    }

    /// Whether `retain_grad()` was called on this non-leaf tensor.
    #[getter]
    fn retains_grad(&self) -> bool {
        self.inner.retains_grad()
    }

    /// True for tensors not produced by a recorded op (parameters, inputs).
    #[getter]
    fn is_leaf(&self) -> bool {
        self.inner.is_leaf()
    }

    /// The name of the op that produced this tensor (None for leaves).
    #[getter]
    fn grad_fn(&self) -> Option<&'static str> {
        self.inner.node().map(|n| n.name)
    }

    /// Back-propagates; `gradient` is needed unless the tensor has one element. The graph is
    /// kept after the pass, so `retain_graph` changes nothing: a second `backward` through the
    /// same graph adds to the gradients, as PyTorch's does with `retain_graph=True`. With
    /// `create_graph=True` the pass is recorded, so the gradients stored in `.grad` can be
    /// differentiated again (ops whose backward is not recorded raise when that is tried).
    #[pyo3(signature = (gradient = None, retain_graph = None, create_graph = false))]
    fn backward(
        &self,
        py: Python<'_>,
        gradient: Option<PyRef<'_, PyTensor>>,
        retain_graph: Option<bool>,
        create_graph: bool,
    ) -> PyResult<()> {
        let _ = retain_graph;
        let g = gradient.map(|g| g.inner.clone());
        let t = &self.inner;
        py.detach(|| ferrograd_core::autograd::backward_with(t, g, create_graph))
            .py()
    }

    /// The same storage, cut from the autograd graph.
    fn detach(&self) -> PyTensor {
        self.inner.detach().into()
    }

    /// A copy with its own storage (recorded by autograd like torch's clone).
    fn clone(&self, py: Python<'_>) -> PyResult<PyTensor> {
        self.unary(py, |t| t.mul_scalar(1.0).or_else(|_| t.deep_clone()))
    }

    /// This tensor if its elements are stored densely in `memory_format`'s order (row-major by
    /// default, or `ferrograd.channels_last` for an `[N, C, H, W]` tensor), else a copy that is.
    #[pyo3(signature = (memory_format = None))]
    fn contiguous(
        &self,
        py: Python<'_>,
        memory_format: Option<PyRef<'_, PyMemoryFormat>>,
    ) -> PyResult<PyTensor> {
        let format = layout_format("contiguous", memory_format.as_deref())?;
        self.unary(py, |t| t.contiguous_in(format))
    }

    /// Whether the elements are stored densely in `memory_format`'s order (row-major by default).
    #[pyo3(signature = (memory_format = None))]
    fn is_contiguous(&self, memory_format: Option<PyRef<'_, PyMemoryFormat>>) -> PyResult<bool> {
        let format = layout_format("is_contiguous", memory_format.as_deref())?;
        Ok(self.inner.layout().is_in_format(format))
    }

    /// The step in elements between neighbours along each dimension (a tuple), or along `dim`.
    #[pyo3(signature = (dim = None))]
    fn stride<'py>(&self, py: Python<'py>, dim: Option<isize>) -> PyResult<Bound<'py, PyAny>> {
        let strides = self.inner.layout().strides();
        match dim {
            None => Ok(PyTuple::new(py, strides)?.into_any()),
            Some(d) => {
                let axis =
                    ferrograd_core::layout::normalize_axis("stride", d, self.inner.rank()).py()?;
                Ok(strides
                    .get(axis)
                    .copied()
                    .unwrap_or(1)
                    .into_pyobject(py)?
                    .into_any())
            }
        }
    }

    /// Where the first element sits in the storage, in elements.
    fn storage_offset(&self) -> usize {
        self.inner.layout().offset()
    }

    /// The value of a one-element tensor as a Python number: a bool for bool tensors, an int for
    /// integer ones, else a float.
    fn item(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        scalar(py, &self.inner)
    }

    /// The values as nested Python lists.
    fn tolist<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_numpy(py, &self.with_numpy_dtype()?)?.call_method0("tolist")
    }

    /// Converts to a dtype name (`"float32"`, `"int64"`, ...) or a device (`"cpu"`, `"cuda"`),
    /// then to `memory_format` (`ferrograd.channels_last`, say) when one is given.
    #[pyo3(signature = (target = None, *, memory_format = None))]
    fn to(
        &self,
        py: Python<'_>,
        target: Option<&str>,
        memory_format: Option<PyRef<'_, PyMemoryFormat>>,
    ) -> PyResult<PyTensor> {
        let converted = match target {
            None => PyTensor::from(self.inner.clone()),
            Some(target) => match DType::parse(target) {
                Some(d) => self.unary(py, |t| t.to_dtype(d))?,
                None => {
                    let device = Device::parse(target).py()?;
                    self.unary(py, |t| t.to_device(device))?
                }
            },
        };
        match memory_format.and_then(|m| m.format) {
            Some(format) => converted.unary(py, |t| t.contiguous_in(format)),
            None => Ok(converted),
        }
    }

    /// This tensor on the CPU (itself when it is there already).
    fn cpu(&self, py: Python<'_>) -> PyResult<PyTensor> {
        self.unary(py, |t| t.to_device(Device::Cpu))
    }

    /// This tensor on CUDA device `device` (default 0).
    #[pyo3(signature = (device = 0))]
    fn cuda(&self, py: Python<'_>, device: usize) -> PyResult<PyTensor> {
        self.unary(py, |t| t.to_device(Device::Cuda(device)))
    }

    /// A float32 copy (this tensor if it is float32 already).
    fn float(&self, py: Python<'_>) -> PyResult<PyTensor> {
        self.unary(py, |t| t.to_dtype(DType::F32))
    }

    /// A float16 copy, rounded to nearest even (this tensor if it is float16 already).
    fn half(&self, py: Python<'_>) -> PyResult<PyTensor> {
        self.unary(py, |t| t.to_dtype(DType::F16))
    }

    /// A bfloat16 copy, rounded to nearest even (this tensor if it is bfloat16 already).
    fn bfloat16(&self, py: Python<'_>) -> PyResult<PyTensor> {
        self.unary(py, |t| t.to_dtype(DType::BF16))
    }

    /// An int64 copy (this tensor if it is int64 already).
    fn long(&self, py: Python<'_>) -> PyResult<PyTensor> {
        self.unary(py, |t| t.to_dtype(DType::I64))
    }

    /// A view with a new shape (one size may be -1); copies only when the strides require it.
    #[pyo3(signature = (*shape))]
    fn reshape(&self, py: Python<'_>, shape: &Bound<'_, PyTuple>) -> PyResult<PyTensor> {
        let s = shape_args(shape)?;
        self.unary(py, |t| t.view_signed(&s).map(|v| distinct_from(v, t)))
    }

    /// Same as `reshape`.
    #[pyo3(signature = (*shape))]
    fn view(&self, py: Python<'_>, shape: &Bound<'_, PyTuple>) -> PyResult<PyTensor> {
        self.reshape(py, shape)
    }

    /// Merges axes `start_dim..=end_dim` into one.
    #[pyo3(signature = (start_dim = 0, end_dim = -1))]
    fn flatten(&self, py: Python<'_>, start_dim: isize, end_dim: isize) -> PyResult<PyTensor> {
        self.unary(py, |t| {
            t.flatten(start_dim, end_dim).map(|v| distinct_from(v, t))
        })
    }

    /// A view with the axes reordered.
    #[pyo3(signature = (*dims))]
    fn permute(&self, py: Python<'_>, dims: &Bound<'_, PyTuple>) -> PyResult<PyTensor> {
        let d = shape_args(dims)?;
        let rank = self.inner.rank() as isize;
        let dims: Vec<usize> = d
            .iter()
            .map(|&x| {
                if x < 0 {
                    (x + rank) as usize
                } else {
                    x as usize
                }
            })
            .collect();
        self.unary(py, |t| t.permute(&dims))
    }

    /// A view with axes `dim0` and `dim1` swapped.
    fn transpose(&self, py: Python<'_>, dim0: isize, dim1: isize) -> PyResult<PyTensor> {
        self.unary(py, |t| t.transpose(dim0, dim1))
    }

    /// The transpose of a 2-D tensor.
    #[getter(T)]
    fn t_prop(&self, py: Python<'_>) -> PyResult<PyTensor> {
        let r = self.inner.rank();
        let dims: Vec<usize> = (0..r).rev().collect();
        self.unary(py, |t| t.permute(&dims))
    }

    /// A view with a new axis of size 1 at `dim`.
    fn unsqueeze(&self, py: Python<'_>, dim: isize) -> PyResult<PyTensor> {
        self.unary(py, |t| t.unsqueeze(dim))
    }

    /// A view without the size-1 axes (or without those of `dim`, an int or a tuple, that have
    /// size 1).
    #[pyo3(signature = (dim = None))]
    fn squeeze(&self, py: Python<'_>, dim: Option<&Bound<'_, PyAny>>) -> PyResult<PyTensor> {
        let dims = match dim {
            Some(d) if !d.is_none() => Some(dims_arg(Some(d))?),
            _ => None,
        };
        self.unary(py, |t| {
            match &dims {
                Some(dims) => t.squeeze_axes(dims),
                None => t.squeeze(None),
            }
            .map(|v| distinct_from(v, t))
        })
    }

    /// A broadcast view to `shape`; -1 keeps an axis's size.
    #[pyo3(signature = (*shape))]
    fn expand(&self, py: Python<'_>, shape: &Bound<'_, PyTuple>) -> PyResult<PyTensor> {
        let s = shape_args(shape)?;
        let lead = s.len().saturating_sub(self.inner.rank());
        let full: Vec<usize> = s
            .iter()
            .enumerate()
            .map(|(i, &d)| {
                if d == -1 && i >= lead {
                    self.inner.shape()[i - lead]
                } else {
                    d.max(0) as usize
                }
            })
            .collect();
        self.unary(py, |t| t.expand(&full))
    }

    /// Sum over `dim` (an int, a sequence, or None for every axis).
    #[pyo3(signature = (dim = None, keepdim = false))]
    fn sum(
        &self,
        py: Python<'_>,
        dim: Option<&Bound<'_, PyAny>>,
        keepdim: bool,
    ) -> PyResult<PyTensor> {
        let d = dims_arg(dim)?;
        self.unary(py, |t| t.sum(&d, keepdim))
    }

    /// Mean over `dim` (an int, a sequence, or None for every axis).
    #[pyo3(signature = (dim = None, keepdim = false))]
    fn mean(
        &self,
        py: Python<'_>,
        dim: Option<&Bound<'_, PyAny>>,
        keepdim: bool,
    ) -> PyResult<PyTensor> {
        let d = dims_arg(dim)?;
        self.unary(py, |t| t.mean(&d, keepdim))
    }

    /// Variance; `correction` 1 (default) is the unbiased estimate, 0 the biased one.
    #[pyo3(signature = (dim = None, correction = 1, keepdim = false, unbiased = None))]
    fn var(
        &self,
        py: Python<'_>,
        dim: Option<&Bound<'_, PyAny>>,
        correction: usize,
        keepdim: bool,
        unbiased: Option<bool>,
    ) -> PyResult<PyTensor> {
        let d = dims_arg(dim)?;
        let c = unbiased.map(|u| u as usize).unwrap_or(correction);
        self.unary(py, |t| t.var(&d, c, keepdim))
    }

    /// Without `dim`: the maximum element. With `dim`: a (values, indices) tuple.
    #[pyo3(signature = (dim = None, keepdim = false))]
    fn max<'py>(
        &self,
        py: Python<'py>,
        dim: Option<isize>,
        keepdim: bool,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.extremum(py, dim, keepdim, true)
    }

    /// Without `dim`: the minimum element. With `dim`: a (values, indices) tuple.
    #[pyo3(signature = (dim = None, keepdim = false))]
    fn min<'py>(
        &self,
        py: Python<'py>,
        dim: Option<isize>,
        keepdim: bool,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.extremum(py, dim, keepdim, false)
    }

    /// Position of the maximum along `dim` (of the flattened tensor without `dim`), as int64.
    #[pyo3(signature = (dim = None, keepdim = false))]
    fn argmax(&self, py: Python<'_>, dim: Option<isize>, keepdim: bool) -> PyResult<PyTensor> {
        self.unary(py, |t| match dim {
            Some(d) => t.argmax(d, keepdim),
            None => t.reshape(&[t.numel()])?.argmax(0, false),
        })
    }

    /// Position of the minimum along `dim` (of the flattened tensor without `dim`), as int64.
    #[pyo3(signature = (dim = None, keepdim = false))]
    fn argmin(&self, py: Python<'_>, dim: Option<isize>, keepdim: bool) -> PyResult<PyTensor> {
        self.unary(py, |t| match dim {
            Some(d) => t.argmin(d, keepdim),
            None => t.reshape(&[t.numel()])?.argmin(0, false),
        })
    }

    /// Elementwise e^x.
    fn exp(&self, py: Python<'_>) -> PyResult<PyTensor> {
        self.unary(py, |t| t.exp())
    }
    /// Elementwise sine.
    fn sin(&self, py: Python<'_>) -> PyResult<PyTensor> {
        self.unary(py, |t| t.sin())
    }
    /// Elementwise cosine.
    fn cos(&self, py: Python<'_>) -> PyResult<PyTensor> {
        self.unary(py, |t| t.cos())
    }
    /// Elementwise rounding down (zero gradient).
    fn floor(&self, py: Python<'_>) -> PyResult<PyTensor> {
        self.unary(py, |t| t.floor())
    }
    /// Elementwise rounding up (zero gradient).
    fn ceil(&self, py: Python<'_>) -> PyResult<PyTensor> {
        self.unary(py, |t| t.ceil())
    }
    /// Elementwise rounding to the nearest integer, ties to even (zero gradient).
    fn round(&self, py: Python<'_>) -> PyResult<PyTensor> {
        self.unary(py, |t| t.round())
    }
    /// Elementwise log(1 + x), accurate for small x.
    fn log1p(&self, py: Python<'_>) -> PyResult<PyTensor> {
        self.unary(py, |t| t.log1p())
    }
    /// Elementwise exp(x) - 1, accurate for small x.
    fn expm1(&self, py: Python<'_>) -> PyResult<PyTensor> {
        self.unary(py, |t| t.expm1())
    }
    /// The error function, elementwise. Integer tensors are promoted to float32.
    fn erf(&self, py: Python<'_>) -> PyResult<PyTensor> {
        self.unary(py, |t| t.erf())
    }
    /// 1 - erf(x), elementwise, accurate where erf(x) nears 1. Integer tensors are promoted to float32.
    fn erfc(&self, py: Python<'_>) -> PyResult<PyTensor> {
        self.unary(py, |t| t.erfc())
    }
    /// The inverse error function on [-1, 1] (±inf at ±1, NaN outside). Integer tensors are
    /// promoted to float32.
    fn erfinv(&self, py: Python<'_>) -> PyResult<PyTensor> {
        self.unary(py, |t| t.erfinv())
    }
    /// log|Γ(x)|, elementwise (inf at the poles 0, -1, -2, ...). Integer tensors are promoted to float32.
    fn lgamma(&self, py: Python<'_>) -> PyResult<PyTensor> {
        self.unary(py, |t| t.lgamma())
    }
    /// The digamma function ψ(x) = d/dx log Γ(x), elementwise. Integer tensors are promoted to float32.
    fn digamma(&self, py: Python<'_>) -> PyResult<PyTensor> {
        self.unary(py, |t| t.digamma())
    }
    /// The n-th derivative of the digamma function, elementwise (n = 0 is digamma itself).
    /// Integer tensors are promoted to float32.
    fn polygamma(&self, py: Python<'_>, n: i64) -> PyResult<PyTensor> {
        let order = u32::try_from(n).map_err(|_| {
            PyValueError::new_err(format!(
                "polygamma: argument `n` expected a non-negative order, got {n}"
            ))
        })?;
        self.unary(py, |t| t.polygamma(order))
    }
    /// The modified Bessel function of the first kind of order 0, elementwise.
    fn i0(&self, py: Python<'_>) -> PyResult<PyTensor> {
        self.unary(py, |t| t.i0())
    }
    /// e^-|x| I0(x), elementwise (finite where I0 overflows).
    fn i0e(&self, py: Python<'_>) -> PyResult<PyTensor> {
        self.unary(py, |t| t.i0e())
    }
    /// The modified Bessel function of the first kind of order 1, elementwise.
    fn i1(&self, py: Python<'_>) -> PyResult<PyTensor> {
        self.unary(py, |t| t.i1())
    }
    /// e^-|x| I1(x), elementwise.
    fn i1e(&self, py: Python<'_>) -> PyResult<PyTensor> {
        self.unary(py, |t| t.i1e())
    }
    /// Elementwise tangent. Integer tensors are promoted to float32.
    fn tan(&self, py: Python<'_>) -> PyResult<PyTensor> {
        self.unary(py, |t| t.tan())
    }
    /// Elementwise arcsine. Integer tensors are promoted to float32.
    fn asin(&self, py: Python<'_>) -> PyResult<PyTensor> {
        self.unary(py, |t| t.asin())
    }
    /// Elementwise arccosine. Integer tensors are promoted to float32.
    fn acos(&self, py: Python<'_>) -> PyResult<PyTensor> {
        self.unary(py, |t| t.acos())
    }
    /// Elementwise arctangent. Integer tensors are promoted to float32.
    fn atan(&self, py: Python<'_>) -> PyResult<PyTensor> {
        self.unary(py, |t| t.atan())
    }
    /// Elementwise hyperbolic sine. Integer tensors are promoted to float32.
    fn sinh(&self, py: Python<'_>) -> PyResult<PyTensor> {
        self.unary(py, |t| t.sinh())
    }
    /// Elementwise hyperbolic cosine. Integer tensors are promoted to float32.
    fn cosh(&self, py: Python<'_>) -> PyResult<PyTensor> {
        self.unary(py, |t| t.cosh())
    }
    /// Elementwise inverse hyperbolic sine. Integer tensors are promoted to float32.
    fn asinh(&self, py: Python<'_>) -> PyResult<PyTensor> {
        self.unary(py, |t| t.asinh())
    }
    /// Elementwise inverse hyperbolic cosine. Integer tensors are promoted to float32.
    fn acosh(&self, py: Python<'_>) -> PyResult<PyTensor> {
        self.unary(py, |t| t.acosh())
    }
    /// Elementwise inverse hyperbolic tangent. Integer tensors are promoted to float32.
    fn atanh(&self, py: Python<'_>) -> PyResult<PyTensor> {
        self.unary(py, |t| t.atanh())
    }
    /// Elementwise base-2 logarithm. Integer tensors are promoted to float32.
    fn log2(&self, py: Python<'_>) -> PyResult<PyTensor> {
        self.unary(py, |t| t.log2())
    }
    /// Elementwise base-10 logarithm. Integer tensors are promoted to float32.
    fn log10(&self, py: Python<'_>) -> PyResult<PyTensor> {
        self.unary(py, |t| t.log10())
    }
    /// Elementwise natural logarithm.
    fn log(&self, py: Python<'_>) -> PyResult<PyTensor> {
        self.unary(py, |t| t.log())
    }
    /// Elementwise square root.
    fn sqrt(&self, py: Python<'_>) -> PyResult<PyTensor> {
        self.unary(py, |t| t.sqrt())
    }
    /// Elementwise absolute value.
    fn abs(&self, py: Python<'_>) -> PyResult<PyTensor> {
        self.unary(py, |t| t.abs())
    }
    /// Elementwise sign: -1, 0 or 1 (zero gradient).
    fn sign(&self, py: Python<'_>) -> PyResult<PyTensor> {
        self.unary(py, |t| t.sign())
    }
    /// Elementwise negation.
    fn neg(&self, py: Python<'_>) -> PyResult<PyTensor> {
        self.unary(py, |t| t.neg())
    }
    /// The nearest bfloat16 values (ties to even), kept as float32; the gradient passes unchanged.
    fn round_to_bf16(&self, py: Python<'_>) -> PyResult<PyTensor> {
        self.unary(py, |t| t.round_to_bf16())
    }
    /// Elementwise max(x, 0).
    fn relu(&self, py: Python<'_>) -> PyResult<PyTensor> {
        self.unary(py, |t| t.relu())
    }
    /// Elementwise logistic sigmoid.
    fn sigmoid(&self, py: Python<'_>) -> PyResult<PyTensor> {
        self.unary(py, |t| t.sigmoid())
    }
    /// Elementwise hyperbolic tangent.
    fn tanh(&self, py: Python<'_>) -> PyResult<PyTensor> {
        self.unary(py, |t| t.tanh())
    }
    /// Elementwise x².
    fn square(&self, py: Python<'_>) -> PyResult<PyTensor> {
        self.unary(py, |t| t.square())
    }

    /// Elementwise x for x > 0, else `negative_slope` · x.
    fn leaky_relu(&self, py: Python<'_>, negative_slope: f32) -> PyResult<PyTensor> {
        self.unary(py, |t| t.leaky_relu(negative_slope))
    }
    /// Elementwise GELU, exact (erf) or with the tanh approximation.
    fn gelu(&self, py: Python<'_>, approximate: bool) -> PyResult<PyTensor> {
        self.unary(py, |t| t.gelu(approximate))
    }
    /// Elementwise x · sigmoid(x).
    fn silu(&self, py: Python<'_>) -> PyResult<PyTensor> {
        self.unary(py, |t| t.silu())
    }
    /// Elementwise log(1 + e^(beta·x)) / beta, linear above `threshold`.
    fn softplus(&self, py: Python<'_>, beta: f32, threshold: f32) -> PyResult<PyTensor> {
        self.unary(py, |t| t.softplus(beta, threshold))
    }

    /// Values along `dim` at the positions of an int64 `index` of the same rank (torch.gather).
    fn gather(&self, py: Python<'_>, dim: isize, index: PyRef<'_, PyTensor>) -> PyResult<PyTensor> {
        let i = index.inner.clone();
        self.unary(py, |t| t.gather(dim, &i))
    }

    /// Rows of axis `dim` picked by a 1-D int64 index.
    fn index_select(
        &self,
        py: Python<'_>,
        dim: isize,
        index: PyRef<'_, PyTensor>,
    ) -> PyResult<PyTensor> {
        let i = index.inner.clone();
        self.unary(py, |t| t.index_select(dim, &i))
    }

    /// Out-of-place torch.scatter_add: a copy with `src` added at the positions `index` names.
    fn scatter_add(
        &self,
        py: Python<'_>,
        dim: isize,
        index: PyRef<'_, PyTensor>,
        src: PyRef<'_, PyTensor>,
    ) -> PyResult<PyTensor> {
        let (i, s) = (index.inner.clone(), src.inner.clone());
        let d =
            ferrograd_core::layout::normalize_axis("scatter_add", dim, self.inner.rank()).py()?;
        self.unary(py, |t| t.scatter_add(d, &i, &s))
    }

    /// Clamps to [min, max]; either bound may be None.
    #[pyo3(signature = (min = None, max = None))]
    fn clamp(&self, py: Python<'_>, min: Option<f32>, max: Option<f32>) -> PyResult<PyTensor> {
        let (lo, hi) = (
            min.unwrap_or(f32::NEG_INFINITY),
            max.unwrap_or(f32::INFINITY),
        );
        self.unary(py, |t| t.clamp(lo, hi))
    }

    /// Elementwise power by a number or a tensor (broadcast).
    fn pow(&self, py: Python<'_>, exponent: &Bound<'_, PyAny>) -> PyResult<PyTensor> {
        self.__pow__(py, exponent, None)
    }

    /// Matrix product with numpy's rules (1-D operands, broadcast batch axes).
    fn matmul(&self, py: Python<'_>, other: &Bound<'_, PyAny>) -> PyResult<PyTensor> {
        self.binary(py, other, false, |a, b| a.matmul(b))
    }

    /// Elementwise maximum with a tensor or number (broadcast).
    fn maximum(&self, py: Python<'_>, other: &Bound<'_, PyAny>) -> PyResult<PyTensor> {
        self.binary(py, other, false, |a, b| a.maximum(b))
    }

    /// Elementwise minimum with a tensor or number (broadcast).
    fn minimum(&self, py: Python<'_>, other: &Bound<'_, PyAny>) -> PyResult<PyTensor> {
        self.binary(py, other, false, |a, b| a.minimum(b))
    }

    /// atan2(self, other): the angle of the point (other, self), elementwise (broadcast).
    fn atan2(&self, py: Python<'_>, other: &Bound<'_, PyAny>) -> PyResult<PyTensor> {
        self.binary(py, other, false, |a, b| a.atan2(b))
    }

    /// ``self // other``: the exact quotient rounded down (int64 for integer operands); its
    /// gradient is zero. Integer division by zero raises.
    fn floor_divide(&self, py: Python<'_>, other: &Bound<'_, PyAny>) -> PyResult<PyTensor> {
        self.binary(py, other, false, |a, b| a.floor_divide(b))
    }

    /// ``self % other``: the remainder with the divisor's sign, as Python's ``%``
    /// (``self - other * floor(self / other)``, computed exactly). Integer division by zero raises.
    fn remainder(&self, py: Python<'_>, other: &Bound<'_, PyAny>) -> PyResult<PyTensor> {
        self.binary(py, other, false, |a, b| a.remainder(b))
    }

    /// The remainder with the dividend's sign, as C's ``fmod``
    /// (``self - other * trunc(self / other)``, computed exactly). Integer division by zero raises.
    fn fmod(&self, py: Python<'_>, other: &Bound<'_, PyAny>) -> PyResult<PyTensor> {
        self.binary(py, other, false, |a, b| a.fmod(b))
    }

    /// dz/dα for draws ``z`` of Gamma(α, 1), with α this tensor's entries: how each draw, held at
    /// its quantile, moves with α (the reparametrised gamma sample's gradient, as PyTorch's
    /// ``torch._standard_gamma_grad``). Not differentiable itself.
    fn _standard_gamma_grad(&self, py: Python<'_>, z: &Bound<'_, PyAny>) -> PyResult<PyTensor> {
        self.binary(py, z, false, |a, b| a.standard_gamma_grad(b))
    }

    /// P(self, other): the regularised lower incomplete gamma function of shape ``self`` at
    /// ``other``, differentiable in ``other`` (not in the shape, as in PyTorch).
    fn igamma(&self, py: Python<'_>, other: &Bound<'_, PyAny>) -> PyResult<PyTensor> {
        self.binary(py, other, false, |a, b| a.igamma(b))
    }

    /// Q(self, other) = 1 - P(self, other): the regularised upper incomplete gamma function.
    fn igammac(&self, py: Python<'_>, other: &Bound<'_, PyAny>) -> PyResult<PyTensor> {
        self.binary(py, other, false, |a, b| a.igammac(b))
    }

    fn __floordiv__(&self, py: Python<'_>, o: &Bound<'_, PyAny>) -> PyResult<PyTensor> {
        self.binary(py, o, false, |a, b| a.floor_divide(b))
    }
    fn __rfloordiv__(&self, py: Python<'_>, o: &Bound<'_, PyAny>) -> PyResult<PyTensor> {
        self.binary(py, o, true, |a, b| a.floor_divide(b))
    }
    fn __mod__(&self, py: Python<'_>, o: &Bound<'_, PyAny>) -> PyResult<PyTensor> {
        self.binary(py, o, false, |a, b| a.remainder(b))
    }
    fn __rmod__(&self, py: Python<'_>, o: &Bound<'_, PyAny>) -> PyResult<PyTensor> {
        self.binary(py, o, true, |a, b| a.remainder(b))
    }
    fn __add__(&self, py: Python<'_>, o: &Bound<'_, PyAny>) -> PyResult<PyTensor> {
        self.binary(py, o, false, |a, b| a.add(b))
    }
    fn __radd__(&self, py: Python<'_>, o: &Bound<'_, PyAny>) -> PyResult<PyTensor> {
        self.binary(py, o, true, |a, b| a.add(b))
    }
    fn __sub__(&self, py: Python<'_>, o: &Bound<'_, PyAny>) -> PyResult<PyTensor> {
        self.binary(py, o, false, |a, b| a.sub(b))
    }
    fn __rsub__(&self, py: Python<'_>, o: &Bound<'_, PyAny>) -> PyResult<PyTensor> {
        self.binary(py, o, true, |a, b| a.sub(b))
    }
    fn __mul__(&self, py: Python<'_>, o: &Bound<'_, PyAny>) -> PyResult<PyTensor> {
        self.binary(py, o, false, |a, b| a.mul(b))
    }
    fn __rmul__(&self, py: Python<'_>, o: &Bound<'_, PyAny>) -> PyResult<PyTensor> {
        self.binary(py, o, true, |a, b| a.mul(b))
    }
    fn __truediv__(&self, py: Python<'_>, o: &Bound<'_, PyAny>) -> PyResult<PyTensor> {
        self.binary(py, o, false, |a, b| a.div(b))
    }
    fn __rtruediv__(&self, py: Python<'_>, o: &Bound<'_, PyAny>) -> PyResult<PyTensor> {
        self.binary(py, o, true, |a, b| a.div(b))
    }
    fn __matmul__(&self, py: Python<'_>, o: &Bound<'_, PyAny>) -> PyResult<PyTensor> {
        self.binary(py, o, false, |a, b| a.matmul(b))
    }
    fn __rmatmul__(&self, py: Python<'_>, o: &Bound<'_, PyAny>) -> PyResult<PyTensor> {
        self.binary(py, o, true, |a, b| a.matmul(b))
    }
    fn __neg__(&self, py: Python<'_>) -> PyResult<PyTensor> {
        self.unary(py, |t| t.neg())
    }

    fn __pow__(
        &self,
        py: Python<'_>,
        o: &Bound<'_, PyAny>,
        modulo: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<PyTensor> {
        if modulo.is_some() {
            return Err(PyTypeError::new_err(
                "pow() with a modulus is not supported",
            ));
        }
        // An integer tensor to a Python int stays an integer (the binary op's promotion); other
        // numbers are float exponents.
        let integer_power =
            !self.inner.dtype().is_float() && o.is_instance_of::<pyo3::types::PyInt>();
        if let Ok(p) = o.extract::<f32>() {
            if !o.is_instance_of::<PyTensor>() && !integer_power {
                return self.unary(py, |t| t.powf(p));
            }
        }
        self.binary(py, o, false, |a, b| a.pow(b))
    }

    fn __rpow__(
        &self,
        py: Python<'_>,
        o: &Bound<'_, PyAny>,
        _modulo: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<PyTensor> {
        self.binary(py, o, true, |a, b| a.pow(b))
    }

    fn __richcmp__(
        &self,
        py: Python<'_>,
        other: &Bound<'_, PyAny>,
        op: CompareOp,
    ) -> PyResult<PyTensor> {
        let cmp = match op {
            CompareOp::Eq => CmpOp::Eq,
            CompareOp::Ne => CmpOp::Ne,
            CompareOp::Lt => CmpOp::Lt,
            CompareOp::Le => CmpOp::Le,
            CompareOp::Gt => CmpOp::Gt,
            CompareOp::Ge => CmpOp::Ge,
        };
        let o = operand(other, &self.inner)?;
        let o = if o.dtype() != self.inner.dtype() {
            o.to_dtype(self.inner.dtype()).py()?
        } else {
            o
        };
        let t = &self.inner;
        py.detach(|| t.compare(&o, cmp)).py().map(PyTensor::from)
    }

    /// Copies `src` (broadcast to this shape) into this tensor in place, outside autograd.
    fn copy_<'py>(
        slf: &Bound<'py, Self>,
        py: Python<'py>,
        src: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, Self>> {
        let dst = &slf.get().inner;
        let v = operand(src, dst)?;
        py.detach(|| {
            v.to_dtype(dst.dtype())?
                .expand(dst.shape())?
                .contiguous()
                .and_then(|v| dst.assign(&v))
        })
        .py()?;
        Ok(slf.clone())
    }

    /// Adds `by` to every element of an int64 tensor in place, without reading it back from a
    /// GPU (BatchNorm's batch counter).
    fn _count_up(&self, py: Python<'_>, by: i64) -> PyResult<()> {
        let t = &self.inner;
        py.detach(|| t.count_up(by)).py()
    }

    fn __hash__(&self) -> usize {
        self.inner.id()
    }

    fn __len__(&self) -> PyResult<usize> {
        self.inner
            .shape()
            .first()
            .copied()
            .ok_or_else(|| PyTypeError::new_err("len() of a 0-d tensor"))
    }

    fn __bool__(&self) -> PyResult<bool> {
        if self.inner.numel() != 1 {
            return Err(PyRuntimeError::new_err(format!(
                "the truth value of a tensor with {} elements is ambiguous",
                self.inner.numel()
            )));
        }
        Ok(self.inner.item().py()? != 0.0)
    }

    fn __float__(&self) -> PyResult<f64> {
        self.inner.item().py()
    }

    fn __int__(&self, py: Python<'_>) -> PyResult<i64> {
        scalar(py, &self.inner)?
            .bind(py)
            .call_method0("__int__")?
            .extract()
    }

    fn __getitem__(&self, py: Python<'_>, key: &Bound<'_, PyAny>) -> PyResult<PyTensor> {
        let _ = py;
        crate::indexing::index(&self.inner, key).map(PyTensor::from)
    }

    /// In-place assignment `t[key] = value` (only outside autograd: the target must not require grad).
    fn __setitem__(
        &self,
        py: Python<'_>,
        key: &Bound<'_, PyAny>,
        value: &Bound<'_, PyAny>,
    ) -> PyResult<()> {
        if self.inner.requires_grad() && ferrograd_core::is_grad_enabled() {
            return Err(PyRuntimeError::new_err(
                "a tensor that requires grad cannot be modified in place; wrap the assignment in ferrograd.no_grad()",
            ));
        }
        if let Ok(mask) = key.cast::<PyTensor>() {
            let mask = &mask.get().inner;
            if mask.dtype() == DType::Bool {
                let v = operand(value, &self.inner)?;
                return self.assign_where(py, mask, &v);
            }
        }
        let target = crate::indexing::index(&self.inner, key)?;
        let v = operand(value, &self.inner)?;
        if !target.same_storage(&self.inner) {
            return self.assign_at_positions(py, key, &v);
        }
        let v = v
            .to_dtype(self.inner.dtype())
            .py()?
            .expand(target.shape())
            .py()?;
        target.assign(&v).py()
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        let body = to_numpy(py, &self.with_numpy_dtype()?)?.repr()?.to_string();
        let body = body
            .strip_prefix("array(")
            .and_then(|b| b.strip_suffix(')'))
            .unwrap_or(&body)
            .to_string();
        let body = match body.rfind("dtype=") {
            Some(i) => body[..i].trim_end().trim_end_matches(',').to_string(),
            None => body,
        };
        let body = body.replace("\n      ", "\n       ");
        let mut extra = format!(
            ", shape={:?}, dtype={}",
            self.inner.shape(),
            self.inner.dtype()
        );
        if self.inner.device() != Device::Cpu {
            extra += &format!(", device='{}'", self.inner.device());
        }
        if let Some(n) = self.inner.node() {
            extra += &format!(", grad_fn={}", n.name);
        } else if self.inner.requires_grad() {
            extra += ", requires_grad=True";
        }
        Ok(format!("tensor({body}{extra})"))
    }
}

impl PyTensor {
    /// This tensor, or for bf16 (which numpy lacks) its exact f32 values, for printing and lists.
    fn with_numpy_dtype(&self) -> PyResult<Tensor> {
        match self.inner.dtype() {
            DType::BF16 => self.inner.detach().to_dtype(DType::F32).py(),
            _ => Ok(self.inner.clone()),
        }
    }

    fn extremum<'py>(
        &self,
        py: Python<'py>,
        dim: Option<isize>,
        keepdim: bool,
        max: bool,
    ) -> PyResult<Bound<'py, PyAny>> {
        let t = &self.inner;
        match dim {
            None => {
                let v = py
                    .detach(|| if max { t.max_all() } else { t.min_all() })
                    .py()?;
                Ok(Bound::new(py, PyTensor::from(v))?.into_any())
            }
            Some(d) => {
                let (v, i) = py
                    .detach(|| {
                        let v = if max {
                            t.max_dim(d, keepdim)?
                        } else {
                            t.min_dim(d, keepdim)?
                        };
                        let i = if max {
                            t.argmax(d, keepdim)?
                        } else {
                            t.argmin(d, keepdim)?
                        };
                        Ok::<_, ferrograd_core::Error>((v, i))
                    })
                    .py()?;
                Ok(PyTuple::new(py, [PyTensor::from(v), PyTensor::from(i)])?.into_any())
            }
        }
    }
}

/// The value of a one-element tensor as a Python bool, int (exact, not through a float) or float.
fn scalar(py: Python<'_>, t: &Tensor) -> PyResult<Py<PyAny>> {
    let value = t.item().py()?;
    Ok(match t.dtype() {
        DType::Bool => (value != 0.0)
            .into_pyobject(py)?
            .to_owned()
            .into_any()
            .unbind(),
        d if !d.is_float() => {
            let exact = t
                .to_device(Device::Cpu)
                .and_then(|v| v.to_dtype(DType::I64))
                .and_then(|v| v.to_vec::<i64>())
                .py()?;
            exact
                .first()
                .copied()
                .unwrap_or_default()
                .into_pyobject(py)?
                .into_any()
                .unbind()
        }
        _ => value.into_pyobject(py)?.into_any().unbind(),
    })
}

/// `view`, or a fresh view of `source` when an op returned `source` itself (a reshape to the same
/// shape): Python code must get a tensor of its own, as from PyTorch.
fn distinct_from(view: Tensor, source: &Tensor) -> Tensor {
    match view.id() == source.id() {
        true => source.alias_view(),
        false => view,
    }
}
