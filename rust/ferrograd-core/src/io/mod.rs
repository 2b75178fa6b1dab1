//! Reading and writing tensors in the formats of the field.

pub mod safetensors;
