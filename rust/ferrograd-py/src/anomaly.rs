//! Anomaly detection for backward passes (`ferrograd.autograd.detect_anomaly`).

use pyo3::prelude::*;

/// Turns anomaly detection on or off on this thread; returns the previous
/// `(enabled, check_nan)`.
#[pyfunction]
fn set_detect_anomaly(enabled: bool, check_nan: bool) -> (bool, bool) {
    let previous = anomaly_state();
    ferrograd_core::anomaly::set_detect_anomaly(enabled, check_nan);
    previous
}

/// `(enabled, check_nan)` on this thread.
#[pyfunction]
fn anomaly_state() -> (bool, bool) {
    (
        ferrograd_core::anomaly::is_anomaly_enabled(),
        ferrograd_core::anomaly::is_anomaly_check_nan_enabled(),
    )
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(set_detect_anomaly, m)?)?;
    m.add_function(wrap_pyfunction!(anomaly_state, m)?)
}
