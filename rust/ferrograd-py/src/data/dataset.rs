//! The Python `Dataset` class: a handle to a core dataset held in Rust memory.

use ferrograd_core::data::{Batch, BatchInputs, Dataset, Pipeline};
use ferrograd_core::rng::RngState;
use numpy::ndarray::{ArrayD, IxDyn};
use numpy::{IntoPyArray, PyArray1, PyArrayMethods};
use pyo3::exceptions::{PyIndexError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyTuple;

use super::transforms::PyTransform;
use crate::convert::to_numpy;
use crate::errors::IntoPy;

/// A labelled dataset held in Rust memory: uint8 images `[C, H, W]` or float32 samples (images,
/// or table rows `[F]`), int64 labels and class names.
#[pyclass(name = "Dataset", module = "ferrograd.data", frozen)]
pub struct PyDataset {
    pub inner: Dataset,
}

impl From<Dataset> for PyDataset {
    fn from(inner: Dataset) -> Self {
        PyDataset { inner }
    }
}

/// A batch as numpy arrays `(x float32 or int64 [B, ...], y int64 [B] or [B, L])`, without copying.
pub fn batch_to_numpy<'py>(py: Python<'py>, batch: Batch) -> PyResult<Bound<'py, PyTuple>> {
    let shape_error = |e: numpy::ndarray::ShapeError| PyValueError::new_err(e.to_string());
    let x = match batch.inputs {
        BatchInputs::F32(v) => ArrayD::from_shape_vec(IxDyn(&batch.shape), v)
            .map_err(shape_error)?
            .into_pyarray(py)
            .into_any(),
        BatchInputs::I64(v) => ArrayD::from_shape_vec(IxDyn(&batch.shape), v)
            .map_err(shape_error)?
            .into_pyarray(py)
            .into_any(),
    };
    let y = ArrayD::from_shape_vec(IxDyn(&batch.label_shape), batch.labels)
        .map_err(shape_error)?
        .into_pyarray(py);
    PyTuple::new(py, [x, y.into_any()])
}

#[pymethods]
impl PyDataset {
    fn __len__(&self) -> usize {
        self.inner.len()
    }

    /// `(sample, label)`: the sample as stored (uint8, float32 or int64 token ids, a numpy
    /// array); the label an int, or an int64 array for one label per token.
    fn __getitem__<'py>(
        &self,
        py: Python<'py>,
        index: isize,
    ) -> PyResult<(Bound<'py, PyAny>, Bound<'py, PyAny>)> {
        let len = self.inner.len() as isize;
        let i = if index < 0 { index + len } else { index };
        if !(0..len).contains(&i) {
            return Err(PyIndexError::new_err(format!(
                "dataset index {index} is out of range for {len} samples"
            )));
        }
        let (sample, label) = self.inner.get(i as usize).py()?;
        let label = match label.rank() {
            0 => {
                let value = label.to_vec::<i64>().py()?.first().copied().unwrap_or(0);
                value.into_pyobject(py)?.into_any()
            }
            _ => to_numpy(py, &label)?,
        };
        Ok((to_numpy(py, &sample)?, label))
    }

    /// Number of classes.
    #[getter]
    fn num_classes(&self) -> usize {
        self.inner.num_classes()
    }

    /// Class names; label `k` is `classes[k]`.
    #[getter]
    fn classes(&self) -> Vec<String> {
        self.inner.classes().to_vec()
    }

    /// Shape of one sample.
    #[getter]
    fn sample_shape<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        PyTuple::new(py, self.inner.sample_shape())
    }

    /// The labels as an int64 array `[N]`, or `[N, L]` for one label per token.
    #[getter]
    fn labels<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let mut shape = vec![self.inner.len()];
        shape.extend_from_slice(self.inner.label_shape());
        Ok(PyArray1::from_vec(py, self.inner.labels())
            .reshape(shape)?
            .into_any())
    }

    /// A seeded random split into `round(fraction * len)` samples and the rest.
    #[pyo3(signature = (fraction, seed = 0))]
    fn split(&self, fraction: f64, seed: u64) -> PyResult<(PyDataset, PyDataset)> {
        let (a, b) = self.inner.split(fraction, seed).py()?;
        Ok((a.into(), b.into()))
    }

    /// The samples at `indices`, sharing this dataset's memory.
    fn subset(&self, indices: Vec<usize>) -> PyResult<PyDataset> {
        self.inner.subset(&indices).py().map(PyDataset::from)
    }

    /// The samples at `indices` through `transforms`, as numpy `(x float32, y int64)`; random
    /// transforms draw from `seed`'s stream, or from the global generator when `seed` is None.
    #[pyo3(signature = (indices, transforms = None, seed = None))]
    fn get_batch<'py>(
        &self,
        py: Python<'py>,
        indices: Vec<usize>,
        transforms: Option<Vec<PyRef<'py, PyTransform>>>,
        seed: Option<u64>,
    ) -> PyResult<Bound<'py, PyTuple>> {
        let transforms = transforms
            .unwrap_or_default()
            .iter()
            .map(|t| t.inner.clone())
            .collect();
        let ds = &self.inner;
        let batch = py
            .detach(|| {
                let pipeline = Pipeline::new(transforms, ds.sample_shape())?;
                match seed {
                    Some(seed) => ds.batch(&indices, &pipeline, &mut RngState { seed, offset: 0 }),
                    None => ds.batch_from_global(&indices, &pipeline),
                }
            })
            .py()?;
        batch_to_numpy(py, batch)
    }

    fn __repr__(&self) -> String {
        format!(
            "Dataset(len={}, sample_shape={}, num_classes={})",
            self.inner.len(),
            python_tuple(self.inner.sample_shape()),
            self.inner.num_classes()
        )
    }
}

/// `(1, 28, 28)` / `(5,)`: a shape as Python prints a tuple.
fn python_tuple(shape: &[usize]) -> String {
    let items: Vec<String> = shape.iter().map(usize::to_string).collect();
    match items.len() {
        1 => format!("({},)", items[0]),
        _ => format!("({})", items.join(", ")),
    }
}
