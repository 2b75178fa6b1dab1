//! `ferrograd._core`: the Python extension. Each file binds one part of the core; this one only
//! assembles the module.

mod anomaly;
mod attack;
mod convert;
mod creation;
mod cuda;
mod custom_function;
mod data;
mod errors;
mod functional;
mod grad_hooks;
mod indexing;
mod io;
mod memory_format;
mod nn;
mod optim;
mod special;
mod tensor;
mod text;
mod threads;
mod train;

use pyo3::prelude::*;

/// Tensors allocate and free large buffers every step; mimalloc keeps freed pages for reuse where
/// the system allocator returns them to the OS (page faults and TLB shootdowns on every op).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[pymodule]
fn _core(m: &Bound<'_, PyModule>) -> PyResult<()> {
    // The importing thread (the interpreter's, which calls every op) runs its own share of each
    // parallel loop instead of handing the loop to the pool and waiting (see `cpu::workers`).
    ferrograd_core::cpu::workers::join_global_pool();
    m.add_class::<tensor::PyTensor>()?;
    m.add_class::<grad_hooks::PyTensorHookHandle>()?;
    m.add("DeviceError", m.py().get_type::<errors::DeviceError>())?;
    creation::register(m)?;
    custom_function::register(m)?;
    cuda::register(m)?;
    functional::register(m)?;
    optim::register(m)?;
    io::register(m)?;
    memory_format::register(m)?;
    nn::register(m)?;
    train::register(m)?;
    attack::register(m)?;
    data::register(m)?;
    text::register(m)?;
    threads::register(m)?;
    special::register(m)?;
    anomaly::register(m)?;
    Ok(())
}
