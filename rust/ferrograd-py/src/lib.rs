//! `ferrograd._core`: the Python extension. Each file binds one part of the core; this one only
//! assembles the module.

mod convert;
mod creation;
mod data;
mod errors;
mod indexing;
mod tensor;

use pyo3::prelude::*;

#[pymodule]
fn _core(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<tensor::PyTensor>()?;
    m.add("DeviceError", m.py().get_type::<errors::DeviceError>())?;
    creation::register(m)?;
    data::register(m)?;
    Ok(())
}
