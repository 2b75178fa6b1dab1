//! ferrograd's core: tensors, define-by-run autograd, ops, nn modules, optimizers and I/O.
//! No Python here (the `ferrograd-py` crate binds it), so `cargo test` runs fast.

pub mod anomaly;
pub mod attack;
pub mod autocast;
pub mod autograd;
pub mod cpu;
pub mod cuda;
pub mod data;
pub mod device;
pub mod double_backward;
pub mod dtype;
pub mod error;
pub mod grad_hooks;
pub mod io;
pub mod layout;
pub mod memory_format;
pub mod nn;
pub mod ops;
pub mod optim;
pub mod rng;
pub mod storage;
pub mod tensor;
#[cfg(test)]
pub mod testing;
pub mod text;
pub mod train;

pub use autocast::{autocast_precision, set_autocast_precision, AutocastGuard, Precision};
pub use autograd::{is_grad_enabled, set_grad_enabled, NoGradGuard};
pub use device::Device;
pub use dtype::DType;
pub use error::{Error, Result};
pub use layout::Layout;
pub use memory_format::MemoryFormat;
pub use storage::{CpuStorage, Storage};
pub use tensor::Tensor;
