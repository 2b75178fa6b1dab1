//! numpy <-> tensor conversion and coercion of Python operands (tensors, arrays, scalars).

use ferrograd_core::ops::pool::MaxPoolWindow;
use ferrograd_core::{DType, Tensor};
use numpy::ndarray::{ArrayD, IxDyn};
use numpy::{
    IntoPyArray, PyArrayDescrMethods, PyReadonlyArrayDyn, PyUntypedArray, PyUntypedArrayMethods,
};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;

use crate::errors::IntoPy;
use crate::tensor::PyTensor;

/// Copies a numpy array (float32/int64/int32/uint8/bool/float16; float64 is narrowed to float32).
pub fn from_numpy(obj: &Bound<'_, PyAny>) -> PyResult<Tensor> {
    // numpy's float16 is read through a uint16 view of its bits (no numpy Element type for it).
    let is_float16 = obj.cast::<PyUntypedArray>().is_ok_and(|a| {
        let dtype = a.dtype();
        dtype.kind() == b'f' && dtype.itemsize() == 2 && dtype.is_native_byteorder() != Some(false)
    });
    if is_float16 {
        let bits = obj.call_method1("view", ("uint16",))?;
        let a = bits.extract::<PyReadonlyArrayDyn<'_, u16>>()?;
        let view = a.as_array();
        let shape = view.shape().to_vec();
        let data: Vec<half::f16> = view.iter().map(|&b| half::f16::from_bits(b)).collect();
        return Tensor::from_vec(data, &shape).py();
    }
    macro_rules! try_type {
        ($t:ty) => {
            if let Ok(a) = obj.extract::<PyReadonlyArrayDyn<'_, $t>>() {
                let view = a.as_array();
                let shape = view.shape().to_vec();
                let data: Vec<$t> = view.iter().copied().collect();
                return Tensor::from_vec(data, &shape).py();
            }
        };
    }
    try_type!(f32);
    try_type!(i64);
    try_type!(i32);
    try_type!(u8);
    try_type!(bool);
    if let Ok(a) = obj.extract::<PyReadonlyArrayDyn<'_, f64>>() {
        let view = a.as_array();
        let shape = view.shape().to_vec();
        return Tensor::from_vec(view.iter().map(|&v| v as f32).collect(), &shape).py();
    }
    let type_name = obj
        .get_type()
        .name()
        .map(|n| n.to_string())
        .unwrap_or_default();
    Err(PyTypeError::new_err(format!(
        "expected a numpy array of float32, float64, float16, int64, int32, uint8 or bool, got {type_name}"
    )))
}

/// Copies a tensor into a new numpy array.
pub fn to_numpy<'py>(py: Python<'py>, t: &Tensor) -> PyResult<Bound<'py, PyAny>> {
    // Values on a GPU are copied back first (what `tolist` and `item` promise).
    let host;
    let t = if t.device() == ferrograd_core::Device::Cpu {
        t
    } else {
        host = py
            .detach(|| t.to_device(ferrograd_core::Device::Cpu))
            .py()?;
        &host
    };
    let shape = IxDyn(t.shape());
    macro_rules! out {
        ($t:ty) => {{
            let v = py.detach(|| t.to_vec::<$t>()).py()?;
            let arr = ArrayD::from_shape_vec(shape, v)
                .map_err(|e| PyTypeError::new_err(e.to_string()))?;
            Ok(arr.into_pyarray(py).into_any())
        }};
    }
    match t.dtype() {
        DType::F32 => out!(f32),
        DType::I64 => out!(i64),
        DType::I32 => out!(i32),
        DType::U8 => out!(u8),
        DType::Bool => out!(bool),
        DType::F16 => {
            let v = py.detach(|| t.to_vec::<half::f16>()).py()?;
            let bits: Vec<u16> = v.into_iter().map(half::f16::to_bits).collect();
            let arr = ArrayD::from_shape_vec(shape, bits)
                .map_err(|e| PyTypeError::new_err(e.to_string()))?;
            arr.into_pyarray(py).call_method1("view", ("float16",))
        }
        d => Err(PyTypeError::new_err(format!(
            "numpy(): numpy has no {d} dtype; convert first, for example with .float()"
        ))),
    }
}

/// A tensor from a Python operand: a Tensor as is, a numpy array copied, a number as a scalar of
/// `like`'s dtype (float32 for floats).
pub fn operand(obj: &Bound<'_, PyAny>, like: &Tensor) -> PyResult<Tensor> {
    if let Ok(t) = obj.cast::<PyTensor>() {
        return Ok(t.get().inner.clone());
    }
    if let Ok(v) = obj.extract::<bool>() {
        if obj.is_instance_of::<pyo3::types::PyBool>() {
            return Tensor::full(
                &[],
                v as u8 as f64,
                if like.dtype() == DType::Bool {
                    DType::Bool
                } else {
                    like.dtype()
                },
                like.device(),
            )
            .py();
        }
    }
    if let Ok(v) = obj.extract::<i64>() {
        // An int beside a bool tensor is an int64, as in PyTorch (`mask + 1` counts).
        let dtype = match like.dtype() {
            DType::Bool => DType::I64,
            other => other,
        };
        return Tensor::full(&[], v as f64, dtype, like.device()).py();
    }
    if let Ok(v) = obj.extract::<f64>() {
        let dtype = if like.dtype().is_float() {
            like.dtype()
        } else {
            DType::F32
        };
        return Tensor::full(&[], v, dtype, like.device()).py();
    }
    from_numpy(obj)
}

/// A numpy array viewing the tensor's own storage (no copy), kept alive by `owner` (the Python
/// tensor, which holds the storage). Writes through the array change the tensor, as with
/// `torch.Tensor.numpy()`. Returns None where a view is not possible (broadcast or non-host data).
pub fn numpy_view<'py>(
    owner: &Bound<'py, PyAny>,
    t: &Tensor,
) -> PyResult<Option<Bound<'py, PyAny>>> {
    use ferrograd_core::storage::Element;
    use numpy::ndarray::{ArrayView, ShapeBuilder};
    use numpy::PyArray;

    fn view<'py, T: Element + numpy::Element>(
        owner: &Bound<'py, PyAny>,
        t: &Tensor,
    ) -> PyResult<Option<Bound<'py, PyAny>>> {
        let layout = t.layout();
        if layout
            .strides()
            .iter()
            .zip(layout.shape())
            .any(|(&s, &d)| s == 0 && d > 1)
        {
            return Ok(None);
        }
        let guard = t.storage().py()?;
        let Ok(host) = guard.cpu("numpy") else {
            return Ok(None);
        };
        let Some(data) = T::slice(host) else {
            return Ok(None);
        };
        let end = layout.offset()
            + layout
                .shape()
                .iter()
                .zip(layout.strides())
                .map(|(&d, &s)| d.saturating_sub(1) * s)
                .sum::<usize>();
        if t.numel() > 0 && end >= data.len() {
            return Ok(None);
        }
        let shape = IxDyn(layout.shape()).strides(IxDyn(layout.strides()));
        // SAFETY: the pointer and strides stay inside `data` (checked above). Storage buffers are
        // never reallocated (ops write in place or build new buffers), and `owner` holds the
        // storage's Arc and becomes the array's base object, so the memory outlives the array.
        unsafe {
            let ptr = data.as_ptr().add(layout.offset());
            let array = ArrayView::from_shape_ptr(shape, ptr);
            Ok(Some(
                PyArray::<T, IxDyn>::borrow_from_array(&array, owner.clone()).into_any(),
            ))
        }
    }
    match t.dtype() {
        DType::F32 => view::<f32>(owner, t),
        DType::I64 => view::<i64>(owner, t),
        DType::I32 => view::<i32>(owner, t),
        DType::U8 => view::<u8>(owner, t),
        DType::Bool => view::<bool>(owner, t),
        _ => Ok(None),
    }
}

/// A pair of sizes as the bindings take them (height, width).
pub type Pair = (usize, usize);

/// A max pool's window as the bindings take it: (kernel, stride, padding, dilation, ceil_mode).
pub type PoolWindowArgs = (Pair, Pair, Pair, Pair, bool);

/// The core's pool window from the bindings' tuple.
pub fn pool_window(
    (kernel, stride, padding, dilation, ceil_mode): PoolWindowArgs,
) -> MaxPoolWindow {
    MaxPoolWindow {
        kernel,
        stride,
        padding,
        dilation,
        ceil_mode,
    }
}
