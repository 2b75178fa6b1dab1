//! The size of the host thread pool the CPU kernels run on.

use pyo3::prelude::*;

/// Threads in the pool (fixed when the module loads: `RAYON_NUM_THREADS` or one per CPU).
#[pyfunction]
fn num_threads() -> usize {
    ferrograd_core::cpu::workers::pool_threads()
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(num_threads, m)?)
}
