//! Element types. Compute runs in f32; integers carry labels and indices; u8 holds raw images.
//! bf16 / f16 (GPU mixed precision) and i8 (quantization) are named here so that later backends
//! slot in without changing the enum's users.

use std::fmt;

/// The element type of a tensor.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DType {
    F32,
    I64,
    I32,
    U8,
    Bool,
    BF16,
    F16,
    I8,
}

impl DType {
    /// Size of one element in bytes.
    pub fn size_in_bytes(self) -> usize {
        match self {
            DType::F32 | DType::I32 => 4,
            DType::I64 => 8,
            DType::U8 | DType::Bool | DType::I8 => 1,
            DType::BF16 | DType::F16 => 2,
        }
    }

    /// True for floating-point types.
    pub fn is_float(self) -> bool {
        matches!(self, DType::F32 | DType::BF16 | DType::F16)
    }

    /// The name used in Python (`"float32"`, `"int64"`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            DType::F32 => "float32",
            DType::I64 => "int64",
            DType::I32 => "int32",
            DType::U8 => "uint8",
            DType::Bool => "bool",
            DType::BF16 => "bfloat16",
            DType::F16 => "float16",
            DType::I8 => "int8",
        }
    }

    /// Parses a Python dtype name.
    pub fn parse(name: &str) -> Option<DType> {
        Some(match name {
            "float32" | "f32" | "float" => DType::F32,
            "int64" | "i64" | "long" => DType::I64,
            "int32" | "i32" | "int" => DType::I32,
            "uint8" | "u8" => DType::U8,
            "bool" => DType::Bool,
            "bfloat16" | "bf16" => DType::BF16,
            "float16" | "f16" | "half" => DType::F16,
            "int8" | "i8" => DType::I8,
            _ => return None,
        })
    }
}

impl fmt::Display for DType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
