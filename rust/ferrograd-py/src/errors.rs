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

thread_local! {
    /// The exception raised by Python code that a Rust loop called on this thread, kept until the
    /// loop's error reaches Python.
    static PENDING: std::cell::RefCell<Option<PyErr>> = const { std::cell::RefCell::new(None) };
}

/// Keeps `err` to re-raise and returns the core error that unwinds the Rust loop.
pub fn stash(err: PyErr) -> Error {
    let msg = err.to_string();
    PENDING.with(|p| *p.borrow_mut() = Some(err));
    Error::Callback(msg)
}

/// The Python exception for a core error.
pub fn to_py(e: Error) -> PyErr {
    if let Error::Callback(_) = e {
        if let Some(err) = PENDING.with(|p| p.borrow_mut().take()) {
            return err;
        }
    }
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
        Error::Arithmetic { .. } => PyRuntimeError::new_err(msg),
        Error::Interrupted => PyKeyboardInterrupt::new_err(msg),
        Error::Callback(_) => PyRuntimeError::new_err(msg),
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
