//! The one error type of the core. Every fallible function returns [`Result`]; the bindings map each
//! variant to a Python exception class, so no failure ever becomes a panic in a notebook.

/// Errors raised by the core.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Shapes that do not fit an op; the message names the op and the shapes involved.
    #[error("{op}: {msg}")]
    Shape { op: &'static str, msg: String },
    /// A bad argument value: which argument, what was expected, what was given.
    #[error("{op}: argument `{name}` expected {expected}, got {got}")]
    Argument {
        op: &'static str,
        name: String,
        expected: String,
        got: String,
    },
    /// An op called with a dtype it does not support.
    #[error("{op}: expected dtype {expected}, got {got}")]
    DType {
        op: &'static str,
        expected: String,
        got: String,
    },
    /// Tensors on different devices, or a device that is not available.
    #[error("{0}")]
    Device(String),
    /// A feature that is not built yet for this backend or dtype.
    #[error("{0}")]
    NotImplemented(String),
    /// A file that does not exist.
    #[error("file not found: {0}")]
    FileNotFound(String),
    /// A file that exists but whose content is not what the reader expects.
    #[error("{path}: {msg}")]
    Format { path: String, msg: String },
    /// An operating-system I/O failure.
    #[error("{context}: {source}")]
    Io {
        context: String,
        source: std::io::Error,
    },
    /// An allocation that could not be satisfied.
    #[error("out of memory: could not allocate {bytes} bytes on {device}")]
    OutOfMemory { bytes: usize, device: String },
    /// Autograd misuse, e.g. backward on a tensor that does not require grad.
    #[error("{0}")]
    Autograd(String),
    /// Arithmetic with no result, such as an integer division by zero.
    #[error("{op}: {msg}")]
    Arithmetic { op: &'static str, msg: String },
    /// A loop stopped at a step boundary because the user asked it to (Ctrl-C).
    #[error("interrupted")]
    Interrupted,
    /// User code that a loop called back (a Python forward, loss or progress callback) failed;
    /// the bindings re-raise the original exception.
    #[error("{0}")]
    Callback(String),
}

/// Result alias of the core.
pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    /// Builds an [`Error::Argument`].
    pub fn arg(op: &'static str, name: &str, expected: impl ToString, got: impl ToString) -> Self {
        Error::Argument {
            op,
            name: name.to_string(),
            expected: expected.to_string(),
            got: got.to_string(),
        }
    }

    /// Builds an [`Error::Shape`].
    pub fn shape(op: &'static str, msg: impl ToString) -> Self {
        Error::Shape {
            op,
            msg: msg.to_string(),
        }
    }

    /// Builds an [`Error::DType`].
    pub fn dtype(op: &'static str, expected: impl ToString, got: impl ToString) -> Self {
        Error::DType {
            op,
            expected: expected.to_string(),
            got: got.to_string(),
        }
    }

    /// Builds an [`Error::Io`] with the path or action that failed.
    pub fn io(context: impl ToString, source: std::io::Error) -> Self {
        if source.kind() == std::io::ErrorKind::NotFound {
            return Error::FileNotFound(context.to_string());
        }
        Error::Io {
            context: context.to_string(),
            source,
        }
    }
}

/// Returns early with a shape error when `cond` is false.
#[macro_export]
macro_rules! ensure_shape {
    ($cond:expr, $op:expr, $($fmt:tt)*) => {
        if !$cond {
            return Err($crate::Error::shape($op, format!($($fmt)*)));
        }
    };
}
