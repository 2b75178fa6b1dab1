//! The CUDA backend. Everything CUDA is loaded at run time through cudarc (dynamic loading), so
//! the crate builds without a CUDA toolkit and imports on machines without a GPU: `runtime`
//! probes for the driver, NVRTC and cuBLAS before first use and turns their absence into
//! `Error::Device`. `kernels` holds the `.cu` sources (embedded with `include_str!`) and compiles
//! them with NVRTC for the device's architecture, cached in memory and on disk. `storage` is the
//! device buffer behind `Storage::Cuda`; the op files launch the kernels. Ops without a CUDA
//! kernel yet return `Error::NotImplemented` naming the op: nothing is copied to the host and back.

pub mod attention;
pub mod batch_norm;
pub mod conv;
pub mod elementwise;
pub mod fault;
pub mod gemm;
pub mod graph;
pub mod index;
pub mod kernels;
mod launch;
pub mod loss;
pub mod norm;
pub mod optim;
pub mod pool;
pub mod products;
pub mod random;
pub mod reduce;
pub mod runtime;
pub mod softmax;
mod staging;
pub mod storage;
pub mod unfold;

pub use runtime::{device_count, gpu, is_available, Gpu};
pub use storage::CudaStorage;
