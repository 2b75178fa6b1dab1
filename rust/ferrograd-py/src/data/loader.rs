//! The Python `DataLoader` and the iterator over one epoch's batches.

use std::sync::Mutex;

use ferrograd_core::data::{Batch, DataLoader, DataLoaderOptions, Epoch};
use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use pyo3::types::PyTuple;

use super::dataset::{batch_to_numpy, PyDataset};
use super::transforms::PyTransform;
use crate::errors::IntoPy;
use crate::tensor::PyTensor;

/// Batches of a dataset: seeded shuffle per epoch, transforms on Rust worker threads, the next
/// batch prepared in the background. Iterating starts a new epoch.
#[pyclass(name = "DataLoader", module = "ferrograd.data")]
pub struct PyDataLoader {
    pub inner: DataLoader,
    as_tensors: bool,
}

#[pymethods]
impl PyDataLoader {
    #[new]
    #[pyo3(signature = (dataset, batch_size, shuffle = true, drop_last = false, seed = Some(0), transforms = None, as_tensors = false))]
    fn new(
        dataset: PyRef<'_, PyDataset>,
        batch_size: usize,
        shuffle: bool,
        drop_last: bool,
        seed: Option<u64>,
        transforms: Option<Vec<PyRef<'_, PyTransform>>>,
        as_tensors: bool,
    ) -> PyResult<Self> {
        let options = DataLoaderOptions {
            batch_size,
            shuffle,
            drop_last,
            seed,
            transforms: transforms
                .unwrap_or_default()
                .iter()
                .map(|t| t.inner.clone())
                .collect(),
        };
        let inner = DataLoader::new(dataset.inner.clone(), options).py()?;
        Ok(PyDataLoader { inner, as_tensors })
    }

    /// Starts the next epoch.
    fn __iter__(&mut self, py: Python<'_>) -> PyEpoch {
        let epoch = py.detach(|| self.inner.iter());
        PyEpoch {
            epoch: Mutex::new(epoch),
            as_tensors: self.as_tensors,
        }
    }

    /// Batches per epoch.
    fn __len__(&self) -> usize {
        self.inner.len()
    }

    /// The epoch the next iteration runs (it selects the shuffle and augmentations).
    #[getter]
    fn epoch(&self) -> u64 {
        self.inner.epoch()
    }

    /// Sets the epoch the next iteration runs.
    fn set_epoch(&mut self, epoch: u64) {
        self.inner.set_epoch(epoch);
    }

    /// The dataset being loaded.
    #[getter]
    fn dataset(&self) -> PyDataset {
        self.inner.dataset().clone().into()
    }

    /// Samples per batch (the last batch may be smaller unless `drop_last`).
    #[getter]
    fn batch_size(&self) -> usize {
        self.inner.options().batch_size
    }

    fn __repr__(&self) -> String {
        let o = self.inner.options();
        let py_bool = |b: bool| if b { "True" } else { "False" };
        format!(
            "DataLoader(len={}, batch_size={}, shuffle={}, drop_last={}, seed={}, transforms={})",
            self.inner.len(),
            o.batch_size,
            py_bool(o.shuffle),
            py_bool(o.drop_last),
            o.seed.map_or("None".to_string(), |s| s.to_string()),
            o.transforms.len()
        )
    }
}

/// The batches of one epoch: `(x, y)` numpy arrays, or Tensors with `as_tensors=True`.
#[pyclass(name = "DataLoaderIterator", module = "ferrograd.data", frozen)]
pub struct PyEpoch {
    epoch: Mutex<Epoch>,
    as_tensors: bool,
}

impl PyEpoch {
    fn convert<'py>(&self, py: Python<'py>, batch: Batch) -> PyResult<Bound<'py, PyTuple>> {
        if !self.as_tensors {
            return batch_to_numpy(py, batch);
        }
        let (x, y) = batch.into_tensors().py()?;
        PyTuple::new(py, [PyTensor::from(x), PyTensor::from(y)])
    }
}

#[pymethods]
impl PyEpoch {
    fn __iter__(slf: Bound<'_, Self>) -> Bound<'_, Self> {
        slf
    }

    fn __next__<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyTuple>>> {
        let next = py
            .detach(|| self.epoch.lock().map(|mut e| e.next_batch()).ok())
            .ok_or_else(|| PyRuntimeError::new_err("DataLoader iterator lock poisoned"))?;
        match next {
            Some(batch) => Ok(Some(self.convert(py, batch.py()?)?)),
            None => Ok(None),
        }
    }

    /// Batches left in this epoch.
    fn __len__(&self) -> PyResult<usize> {
        self.epoch
            .lock()
            .map(|e| e.remaining())
            .map_err(|_| PyRuntimeError::new_err("DataLoader iterator lock poisoned"))
    }
}
