//! Bindings of the CUDA runtime queries (`ferrograd.cuda`).

use ferrograd_core::cuda::{self, kernels, runtime};
use pyo3::prelude::*;

use crate::errors::IntoPy;

/// True when an NVIDIA driver, a GPU, NVRTC and cuBLAS are all present.
#[pyfunction]
fn cuda_is_available(py: Python<'_>) -> bool {
    py.detach(cuda::is_available)
}

/// Number of visible CUDA devices (0 without a driver).
#[pyfunction]
fn cuda_device_count(py: Python<'_>) -> usize {
    py.detach(cuda::device_count)
}

/// Which CUDA libraries can be opened: driver, nvrtc, cublas.
#[pyfunction]
fn cuda_libraries(py: Python<'_>) -> (bool, bool, bool) {
    py.detach(|| {
        (
            runtime::driver_present(),
            runtime::nvrtc_present(),
            runtime::cublas_present(),
        )
    })
}

/// The name of device `index`.
#[pyfunction]
fn cuda_device_name(py: Python<'_>, index: usize) -> PyResult<String> {
    py.detach(|| cuda::gpu(index)?.name()).py()
}

/// (free, total) bytes of memory of device `index`.
#[pyfunction]
fn cuda_mem_get_info(py: Python<'_>, index: usize) -> PyResult<(usize, usize)> {
    py.detach(|| cuda::gpu(index)?.mem_info()).py()
}

/// The compute capability `sm_XY` of device `index`.
#[pyfunction]
fn cuda_arch(py: Python<'_>, index: usize) -> PyResult<String> {
    py.detach(|| Ok(cuda::gpu(index)?.arch.clone())).py()
}

/// Waits for every queued op of device `index`.
#[pyfunction]
fn cuda_synchronize(py: Python<'_>, index: usize) -> PyResult<()> {
    py.detach(|| cuda::gpu(index)?.synchronize()).py()
}

/// Returns the memory cached by freed buffers of device `index` to the driver.
#[pyfunction]
fn cuda_empty_cache(py: Python<'_>, index: usize) -> PyResult<()> {
    py.detach(|| cuda::gpu(index)?.empty_cache()).py()
}

/// Compiles every kernel file for `arch` with NVRTC (no GPU needed); returns (file name, PTX)
/// pairs.
#[pyfunction]
fn cuda_compile_kernels(py: Python<'_>, arch: String) -> PyResult<Vec<(String, String)>> {
    py.detach(|| kernels::compile_all(&arch))
        .map(|files| {
            files
                .into_iter()
                .map(|(file, ptx)| (file.to_string(), ptx))
                .collect()
        })
        .py()
}

/// Lets cuBLAS use TF32 tensor cores for float32 matmuls.
#[pyfunction]
fn cuda_set_allow_tf32(allow: bool) {
    runtime::set_allow_tf32(allow)
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(cuda_is_available, m)?)?;
    m.add_function(wrap_pyfunction!(cuda_device_count, m)?)?;
    m.add_function(wrap_pyfunction!(cuda_libraries, m)?)?;
    m.add_function(wrap_pyfunction!(cuda_device_name, m)?)?;
    m.add_function(wrap_pyfunction!(cuda_mem_get_info, m)?)?;
    m.add_function(wrap_pyfunction!(cuda_arch, m)?)?;
    m.add_function(wrap_pyfunction!(cuda_synchronize, m)?)?;
    m.add_function(wrap_pyfunction!(cuda_empty_cache, m)?)?;
    m.add_function(wrap_pyfunction!(cuda_compile_kernels, m)?)?;
    m.add_function(wrap_pyfunction!(cuda_set_allow_tf32, m)?)?;
    Ok(())
}
