//! `ferrograd.data` bindings: the dataset loaders as functions; the `Dataset`, `DataLoader` and
//! transform classes live in the `data/` files.

pub mod dataset;
pub mod loader;
mod transforms;

use std::path::PathBuf;

use ferrograd_core::data::{
    self as core_data, CifarFiles, Column, CsvOptions, Dataset, Missing, Samples,
};
use numpy::{PyReadonlyArray1, PyReadonlyArrayDyn};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;

use crate::errors::IntoPy;
use dataset::PyDataset;

/// A column given from Python as a position or a header name.
#[derive(FromPyObject)]
pub enum ColumnArg {
    Index(usize),
    Name(String),
}

impl From<ColumnArg> for Column {
    fn from(c: ColumnArg) -> Column {
        match c {
            ColumnArg::Index(i) => Column::Index(i),
            ColumnArg::Name(n) => Column::Name(n),
        }
    }
}

fn pair(datasets: (Dataset, Dataset)) -> (PyDataset, PyDataset) {
    (datasets.0.into(), datasets.1.into())
}

/// MNIST or Fashion-MNIST `(train, test)` from the standard IDX files (gzipped or raw) in `root`.
#[pyfunction]
#[pyo3(signature = (root, fashion = false))]
fn mnist(py: Python<'_>, root: PathBuf, fashion: bool) -> PyResult<(PyDataset, PyDataset)> {
    py.detach(|| core_data::mnist(&root, fashion))
        .py()
        .map(pair)
}

/// CIFAR-10 `(train, test)` from `root`; `train_files`/`test_files` override the default search.
#[pyfunction]
#[pyo3(signature = (root, train_files = None, test_files = None))]
fn cifar10(
    py: Python<'_>,
    root: PathBuf,
    train_files: Option<Vec<PathBuf>>,
    test_files: Option<Vec<PathBuf>>,
) -> PyResult<(PyDataset, PyDataset)> {
    let files = CifarFiles {
        train: train_files,
        test: test_files,
    };
    py.detach(|| core_data::cifar10(&root, &files))
        .py()
        .map(pair)
}

/// CIFAR-100 `(train, test)` from `root`, with fine (100) or coarse (20) labels.
#[pyfunction]
#[pyo3(signature = (root, coarse = false, train_files = None, test_files = None))]
fn cifar100(
    py: Python<'_>,
    root: PathBuf,
    coarse: bool,
    train_files: Option<Vec<PathBuf>>,
    test_files: Option<Vec<PathBuf>>,
) -> PyResult<(PyDataset, PyDataset)> {
    let files = CifarFiles {
        train: train_files,
        test: test_files,
    };
    py.detach(|| core_data::cifar100(&root, coarse, &files))
        .py()
        .map(pair)
}

/// `[3, size, size]` RGB images from one sub-folder per class under `root`.
#[pyfunction]
fn image_folder(py: Python<'_>, root: PathBuf, size: usize) -> PyResult<PyDataset> {
    py.detach(|| core_data::image_folder(&root, size))
        .py()
        .map(PyDataset::from)
}

/// A table dataset from a CSV/TSV file.
#[pyfunction]
#[pyo3(signature = (path, label, features = None, sep = None, header = true, missing = "error"))]
fn from_csv(
    py: Python<'_>,
    path: PathBuf,
    label: ColumnArg,
    features: Option<Vec<ColumnArg>>,
    sep: Option<char>,
    header: bool,
    missing: &str,
) -> PyResult<PyDataset> {
    let missing = match missing {
        "error" => Missing::Error,
        "drop" => Missing::Drop,
        other => {
            return Err(PyValueError::new_err(format!(
                "from_csv: argument `missing` expected \"error\" or \"drop\", got {other:?}"
            )))
        }
    };
    let options = CsvOptions {
        label: label.into(),
        features: features.map(|f| f.into_iter().map(Column::from).collect()),
        sep,
        header,
        missing,
    };
    py.detach(|| core_data::from_csv(&path, &options))
        .py()
        .map(PyDataset::from)
}

/// A dataset copied from a uint8 or float32 array `[N, ...]` and int64 labels `[N]`.
#[pyfunction]
fn dataset_from_numpy(
    x: &Bound<'_, PyAny>,
    y: PyReadonlyArray1<'_, i64>,
    classes: Vec<String>,
) -> PyResult<PyDataset> {
    let (samples, shape) = if let Ok(a) = x.extract::<PyReadonlyArrayDyn<'_, u8>>() {
        let view = a.as_array();
        (
            Samples::U8(view.iter().copied().collect()),
            view.shape().to_vec(),
        )
    } else if let Ok(a) = x.extract::<PyReadonlyArrayDyn<'_, f32>>() {
        let view = a.as_array();
        (
            Samples::F32(view.iter().copied().collect()),
            view.shape().to_vec(),
        )
    } else {
        return Err(PyTypeError::new_err(
            "from_numpy: expected a uint8 or float32 array of samples",
        ));
    };
    let labels = y.as_array().to_vec();
    let sample_shape = shape.get(1..).unwrap_or_default().to_vec();
    Dataset::new(samples, sample_shape, labels, classes)
        .py()
        .map(PyDataset::from)
}

/// Adds the data classes and functions to `_core`.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyDataset>()?;
    m.add_class::<loader::PyDataLoader>()?;
    m.add_class::<loader::PyEpoch>()?;
    transforms::register(m)?;
    m.add_function(wrap_pyfunction!(mnist, m)?)?;
    m.add_function(wrap_pyfunction!(cifar10, m)?)?;
    m.add_function(wrap_pyfunction!(cifar100, m)?)?;
    m.add_function(wrap_pyfunction!(image_folder, m)?)?;
    m.add_function(wrap_pyfunction!(from_csv, m)?)?;
    m.add_function(wrap_pyfunction!(dataset_from_numpy, m)?)?;
    Ok(())
}
