//! Bindings of safetensors reading and writing.

use std::collections::HashMap;
use std::path::PathBuf;

use ferrograd_core::io::{png, safetensors};
use numpy::{PyReadonlyArrayDyn, PyUntypedArrayMethods};
use pyo3::prelude::*;

use crate::errors::IntoPy;
use crate::tensor::PyTensor;

/// Writes named tensors atomically (temp file + rename).
#[pyfunction]
#[pyo3(signature = (tensors, path, metadata = None))]
fn save_safetensors(
    py: Python<'_>,
    tensors: Vec<(String, PyRef<'_, PyTensor>)>,
    path: PathBuf,
    metadata: Option<HashMap<String, String>>,
) -> PyResult<()> {
    let ts: Vec<_> = tensors
        .iter()
        .map(|(n, t)| (n.clone(), t.inner.clone()))
        .collect();
    py.detach(|| safetensors::save(&path, &ts, metadata)).py()
}

/// Writes a uint8 image `[H, W]` or `[H, W, C]` (C = 1, 3 or 4) as a PNG file, atomically.
#[pyfunction]
fn save_png(py: Python<'_>, path: PathBuf, image: PyReadonlyArrayDyn<'_, u8>) -> PyResult<()> {
    let shape = image.shape().to_vec();
    let (h, w, c) = match shape.as_slice() {
        [h, w] => (*h, *w, 1),
        [h, w, c] => (*h, *w, *c),
        _ => {
            return Err(pyo3::exceptions::PyValueError::new_err(format!(
                "save_png: argument `image` expected shape [H, W] or [H, W, C], got {shape:?}"
            )))
        }
    };
    let pixels = image.as_array().iter().copied().collect::<Vec<u8>>();
    py.detach(|| png::save_png(&path, &pixels, h, w, c)).py()
}

/// Reads every tensor of a safetensors file as (name, tensor) pairs sorted by name.
#[pyfunction]
fn load_safetensors(py: Python<'_>, path: PathBuf) -> PyResult<Vec<(String, PyTensor)>> {
    let out = py.detach(|| safetensors::load(&path)).py()?;
    Ok(out
        .into_iter()
        .map(|(n, t)| (n, PyTensor::from(t)))
        .collect())
}

/// The string metadata stored in a safetensors file's header.
#[pyfunction]
fn read_safetensors_metadata(py: Python<'_>, path: PathBuf) -> PyResult<HashMap<String, String>> {
    py.detach(|| safetensors::read_metadata(&path)).py()
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(save_safetensors, m)?)?;
    m.add_function(wrap_pyfunction!(load_safetensors, m)?)?;
    m.add_function(wrap_pyfunction!(read_safetensors_metadata, m)?)?;
    m.add_function(wrap_pyfunction!(save_png, m)?)?;
    Ok(())
}
