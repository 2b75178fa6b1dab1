//! What a kernel's matrix products multiply, and whether the device runs them on 16-bit tensor
//! cores: the choice every launcher with f32 and bf16 / f16 kernels (convolution, flash
//! attention) makes.

use super::Gpu;

/// What the products multiply.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Products {
    /// f32 operands, f32 products on CUDA cores.
    F32,
    /// Operands that are all bf16 values (inside a bf16 autocast scope, or bf16 tensors): bf16
    /// tensor cores with f32 accumulation on sm_80 and later; CUDA cores before.
    Bf16,
    /// Operands that are all f16 values (f16 tensors): f16 tensor cores with f32 accumulation on
    /// sm_80 and later; CUDA cores before.
    F16,
}

impl Products {
    /// `Bf16` when the thread is inside a lowered (bf16 autocast) product, else `F32`.
    pub fn from_autocast() -> Products {
        match crate::autocast::bf16_operands() {
            true => Products::Bf16,
            false => Products::F32,
        }
    }

    /// The kernel-name suffix (`"bf16"`, `"f16"`) when these products run on `g`'s tensor cores
    /// (16-bit operands on sm_80 or later); None for CUDA cores.
    pub fn tensor_core_suffix(self, g: &Gpu) -> Option<&'static str> {
        let sm80 = g
            .arch
            .trim_start_matches("sm_")
            .parse::<u32>()
            .is_ok_and(|arch| arch >= 80);
        match self {
            Products::Bf16 if sm80 => Some("bf16"),
            Products::F16 if sm80 => Some("f16"),
            _ => None,
        }
    }
}
