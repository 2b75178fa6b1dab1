//! Reading and writing tensors and images in the formats of the field; every write is atomic.

pub mod atomic;
pub mod png;
pub mod safetensors;
