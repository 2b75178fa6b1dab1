//! What a kernel's matrix products multiply, and whether the device runs them on bf16 tensor
//! cores: the choice every launcher with f32 and bf16 kernels (convolution, flash attention) makes.

use super::Gpu;

/// What the products multiply.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Products {
    /// f32 operands, f32 products on CUDA cores.
    F32,
    /// Operands that are all bf16 values (inside a bf16 autocast scope): bf16 tensor cores with
    /// f32 accumulation on sm_80 and later; CUDA cores before.
    Bf16,
}

impl Products {
    /// `Bf16` when the thread is inside a lowered (bf16 autocast) product, else `F32`.
    pub fn from_autocast() -> Products {
        match crate::autocast::bf16_operands() {
            true => Products::Bf16,
            false => Products::F32,
        }
    }

    /// Whether these products run on `g`'s bf16 tensor cores (bf16 operands on sm_80 or later).
    pub fn on_tensor_cores(self, g: &Gpu) -> bool {
        self == Products::Bf16
            && g.arch
                .trim_start_matches("sm_")
                .parse::<u32>()
                .is_ok_and(|arch| arch >= 80)
    }
}
