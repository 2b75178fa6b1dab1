//! `ferrograd.memory_format` and its three values, as PyTorch's: `contiguous_format` (row-major),
//! `channels_last` (an `[N, C, H, W]` tensor stored as `[N, H, W, C]`) and `preserve_format`
//! (keep a tensor's own layout, for `Tensor.to`).

use ferrograd_core::MemoryFormat;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

/// The order of a tensor's elements in memory: `ferrograd.contiguous_format`,
/// `ferrograd.channels_last` or `ferrograd.preserve_format`.
#[pyclass(name = "memory_format", module = "ferrograd", frozen, eq)]
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct PyMemoryFormat {
    /// None for `preserve_format`.
    pub format: Option<MemoryFormat>,
}

#[pymethods]
impl PyMemoryFormat {
    fn __repr__(&self) -> &'static str {
        match self.format {
            Some(MemoryFormat::Contiguous) => "ferrograd.contiguous_format",
            Some(MemoryFormat::ChannelsLast) => "ferrograd.channels_last",
            None => "ferrograd.preserve_format",
        }
    }

    fn __hash__(&self) -> u64 {
        match self.format {
            Some(MemoryFormat::Contiguous) => 0,
            Some(MemoryFormat::ChannelsLast) => 1,
            None => 2,
        }
    }
}

/// The layout `memory_format` asks `op` for (row-major when None); `preserve_format` names no
/// layout, so it is refused.
pub fn layout_format(op: &str, memory_format: Option<&PyMemoryFormat>) -> PyResult<MemoryFormat> {
    match memory_format {
        None => Ok(MemoryFormat::Contiguous),
        Some(PyMemoryFormat { format: Some(f) }) => Ok(*f),
        Some(PyMemoryFormat { format: None }) => Err(PyValueError::new_err(format!(
            "{op}: memory_format must be ferrograd.contiguous_format or ferrograd.channels_last, \
             got ferrograd.preserve_format"
        ))),
    }
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyMemoryFormat>()?;
    let value = |format| PyMemoryFormat { format };
    m.add("contiguous_format", value(Some(MemoryFormat::Contiguous)))?;
    m.add("channels_last", value(Some(MemoryFormat::ChannelsLast)))?;
    m.add("preserve_format", value(None))?;
    Ok(())
}
