//! Maps core errors to Python exceptions: every failure reaches the notebook as an exception with
//! the core's message, never as a panic.

use ferrograd_core::Error;
use pyo3::exceptions::{
    PyFileNotFoundError, PyKeyboardInterrupt, PyMemoryError, PyNotImplementedError, PyOSError,
    PyRuntimeError, PyTypeError, PyValueError,
};
use pyo3::PyErr;

pyo3::create_exception!(
    _core,
    DeviceError,
    PyRuntimeError,
    "A device (CUDA) is unavailable or failed."
);

/// The Python exception for a core error.
pub fn to_py(e: Error) -> PyErr {
    let msg = e.to_string();
    match e {
        Error::Shape { .. } | Error::Argument { .. } | Error::Format { .. } => {
            PyValueError::new_err(msg)
        }
        Error::DType { .. } => PyTypeError::new_err(msg),
        Error::Device(_) => DeviceError::new_err(msg),
        Error::NotImplemented(_) => PyNotImplementedError::new_err(msg),
        Error::FileNotFound(_) => PyFileNotFoundError::new_err(msg),
        Error::Io { .. } => PyOSError::new_err(msg),
        Error::OutOfMemory { .. } => PyMemoryError::new_err(msg),
        Error::Autograd(_) => PyRuntimeError::new_err(msg),
        Error::Interrupted => PyKeyboardInterrupt::new_err(msg),
    }
}

/// `?`-friendly conversion of core results.
pub trait IntoPy<T> {
    fn py(self) -> pyo3::PyResult<T>;
}

impl<T> IntoPy<T> for ferrograd_core::Result<T> {
    fn py(self) -> pyo3::PyResult<T> {
        self.map_err(to_py)
    }
}
