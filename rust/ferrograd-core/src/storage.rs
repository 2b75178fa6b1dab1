//! Device storage. A `Storage` is a flat buffer of one dtype on one device; tensors view it through
//! a [`Layout`](crate::Layout). Op families dispatch on the variant (`Storage::Cpu`,
//! `Storage::Cuda`), so each op's kernels for every backend sit in one place.

use crate::{DType, Device, Error, Layout, Result};

/// A flat host buffer.
#[derive(Clone, Debug)]
pub enum CpuStorage {
    F32(Vec<f32>),
    I64(Vec<i64>),
    I32(Vec<i32>),
    U8(Vec<u8>),
    Bool(Vec<bool>),
    BF16(Vec<half::bf16>),
    F16(Vec<half::f16>),
}

/// A flat buffer on some device.
#[derive(Debug)]
pub enum Storage {
    Cpu(CpuStorage),
    Cuda(crate::cuda::CudaStorage),
}

/// Element types that a CPU buffer can hold.
pub trait Element: Copy + Send + Sync + Default + 'static + std::fmt::Debug {
    const DTYPE: DType;
    fn wrap(v: Vec<Self>) -> CpuStorage;
    fn slice(s: &CpuStorage) -> Option<&[Self]>;
    fn slice_mut(s: &mut CpuStorage) -> Option<&mut [Self]>;
    fn to_f64(self) -> f64;
    fn from_f64(v: f64) -> Self;
}

macro_rules! element {
    ($t:ty, $variant:ident, $dtype:ident, $to:expr, $from:expr) => {
        impl Element for $t {
            const DTYPE: DType = DType::$dtype;
            fn wrap(v: Vec<Self>) -> CpuStorage {
                CpuStorage::$variant(v)
            }
            fn slice(s: &CpuStorage) -> Option<&[Self]> {
                match s {
                    CpuStorage::$variant(v) => Some(v),
                    _ => None,
                }
            }
            fn slice_mut(s: &mut CpuStorage) -> Option<&mut [Self]> {
                match s {
                    CpuStorage::$variant(v) => Some(v),
                    _ => None,
                }
            }
            fn to_f64(self) -> f64 {
                ($to)(self)
            }
            fn from_f64(v: f64) -> Self {
                ($from)(v)
            }
        }
    };
}

element!(f32, F32, F32, |x: f32| x as f64, |v: f64| v as f32);
element!(i64, I64, I64, |x: i64| x as f64, |v: f64| v as i64);
element!(i32, I32, I32, |x: i32| x as f64, |v: f64| v as i32);
element!(u8, U8, U8, |x: u8| x as f64, |v: f64| v as u8);
element!(
    bool,
    Bool,
    Bool,
    |x: bool| if x { 1.0 } else { 0.0 },
    |v: f64| v != 0.0
);
// `from_f64` rounds to nearest even in one step, so an f32 value (exact in f64) rounds as a direct
// f32 -> bf16 / f16 conversion would.
element!(
    half::bf16,
    BF16,
    BF16,
    half::bf16::to_f64,
    half::bf16::from_f64
);
element!(half::f16, F16, F16, half::f16::to_f64, half::f16::from_f64);

/// Applies `$body` with `$v` bound to the typed vector of a `CpuStorage`, whatever its dtype.
#[macro_export]
macro_rules! with_cpu_vec {
    ($s:expr, $v:ident => $body:expr) => {
        match $s {
            $crate::CpuStorage::F32($v) => $body,
            $crate::CpuStorage::I64($v) => $body,
            $crate::CpuStorage::I32($v) => $body,
            $crate::CpuStorage::U8($v) => $body,
            $crate::CpuStorage::Bool($v) => $body,
            $crate::CpuStorage::BF16($v) => $body,
            $crate::CpuStorage::F16($v) => $body,
        }
    };
}

/// The element count of `shape`, or an error when it overflows.
pub fn checked_numel(op: &'static str, shape: &[usize]) -> Result<usize> {
    shape
        .iter()
        .try_fold(1usize, |n, &d| n.checked_mul(d))
        .ok_or_else(|| {
            Error::arg(
                op,
                "shape",
                "a size whose element count fits in memory",
                format!("{shape:?}"),
            )
        })
}

/// Fails with `OutOfMemory` when `n` elements of `T` cannot be allocated on the host, instead of
/// the allocation aborting the process or the kernel's OOM killer ending it while the pages are
/// filled (a dead notebook kernel either way). Large requests only. Two checks: more bytes than
/// the machine's memory and swap is refused outright (the allocator maps large blocks without
/// reserving them, so the system would accept it), and a trial allocation catches address-space
/// limits (`ulimit -v`); untouched pages cost little next to filling them.
pub fn ensure_host_allocatable<T>(n: usize) -> Result<()> {
    const CHECKED_FROM_BYTES: usize = 1 << 26;
    let bytes = n.saturating_mul(std::mem::size_of::<T>());
    if bytes < CHECKED_FROM_BYTES {
        return Ok(());
    }
    let refused = Error::OutOfMemory {
        bytes,
        device: "cpu".into(),
    };
    if host_memory_bytes().is_some_and(|total| bytes > total) {
        return Err(refused);
    }
    Vec::<T>::new().try_reserve_exact(n).map_err(|_| refused)
}

/// Physical memory plus swap, from /proc/meminfo (None where that file does not exist).
fn host_memory_bytes() -> Option<usize> {
    static TOTAL: std::sync::OnceLock<Option<usize>> = std::sync::OnceLock::new();
    *TOTAL.get_or_init(|| {
        let info = std::fs::read_to_string("/proc/meminfo").ok()?;
        let kib = |key: &str| -> Option<usize> {
            let line = info.lines().find(|l| l.starts_with(key))?;
            line.split_whitespace().nth(1)?.parse().ok()
        };
        Some((kib("MemTotal:")? + kib("SwapTotal:").unwrap_or(0)) * 1024)
    })
}

impl CpuStorage {
    pub fn dtype(&self) -> DType {
        match self {
            CpuStorage::F32(_) => DType::F32,
            CpuStorage::I64(_) => DType::I64,
            CpuStorage::I32(_) => DType::I32,
            CpuStorage::U8(_) => DType::U8,
            CpuStorage::Bool(_) => DType::Bool,
            CpuStorage::BF16(_) => DType::BF16,
            CpuStorage::F16(_) => DType::F16,
        }
    }

    pub fn len(&self) -> usize {
        with_cpu_vec!(self, v => v.len())
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// A buffer of `n` copies of `value` cast to `dtype`.
    pub fn full(dtype: DType, n: usize, value: f64) -> Result<Self> {
        ensure_host_allocatable::<u8>(n.saturating_mul(dtype.size_in_bytes()))?;
        Ok(match dtype {
            DType::F32 => CpuStorage::F32(vec![value as f32; n]),
            DType::I64 => CpuStorage::I64(vec![value as i64; n]),
            DType::I32 => CpuStorage::I32(vec![value as i32; n]),
            DType::U8 => CpuStorage::U8(vec![value as u8; n]),
            DType::Bool => CpuStorage::Bool(vec![value != 0.0; n]),
            DType::BF16 => CpuStorage::BF16(vec![half::bf16::from_f64(value); n]),
            DType::F16 => CpuStorage::F16(vec![half::f16::from_f64(value); n]),
            d => return Err(Error::NotImplemented(format!("dtype {d} on the CPU"))),
        })
    }

    /// The elements of `layout` gathered row-major into a new vector.
    pub fn gather_layout<T: Element>(v: &[T], layout: &Layout) -> Vec<T> {
        crate::cpu::strided::gather(v, layout)
    }

    /// A contiguous copy of the elements of `layout`.
    pub fn copy_layout(&self, layout: &Layout) -> CpuStorage {
        with_cpu_vec!(self, v => Element::wrap(Self::gather_layout(v, layout)))
    }

    /// The elements of `layout` converted to `dtype`, contiguous.
    pub fn to_dtype(&self, layout: &Layout, dtype: DType) -> Result<CpuStorage> {
        fn cast<S: Element, D: Element>(v: &[S], layout: &Layout) -> CpuStorage {
            D::wrap(
                layout
                    .offsets()
                    .map(|o| D::from_f64(v[o].to_f64()))
                    .collect(),
            )
        }
        fn to<D: Element>(s: &CpuStorage, layout: &Layout) -> CpuStorage {
            with_cpu_vec!(s, v => cast::<_, D>(v, layout))
        }
        if dtype == self.dtype() {
            return Ok(self.copy_layout(layout));
        }
        Ok(match dtype {
            DType::F32 => to::<f32>(self, layout),
            DType::I64 => to::<i64>(self, layout),
            DType::I32 => to::<i32>(self, layout),
            DType::U8 => to::<u8>(self, layout),
            DType::Bool => to::<bool>(self, layout),
            DType::BF16 => to::<half::bf16>(self, layout),
            DType::F16 => to::<half::f16>(self, layout),
            d => return Err(Error::NotImplemented(format!("dtype {d} on the CPU"))),
        })
    }
}

/// The error for an op that has no CUDA kernel yet: never a silent round trip through the host.
pub fn no_cuda_kernel(op: &str) -> Error {
    Error::NotImplemented(format!(
        "{op} has no CUDA kernel yet; move the tensors to the CPU with .to('cpu') to run it there"
    ))
}

impl Storage {
    pub fn dtype(&self) -> DType {
        match self {
            Storage::Cpu(s) => s.dtype(),
            Storage::Cuda(s) => s.dtype(),
        }
    }

    /// Number of elements in the buffer, on either device.
    pub fn len(&self) -> usize {
        match self {
            Storage::Cpu(s) => s.len(),
            Storage::Cuda(s) => s.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn device(&self) -> Device {
        match self {
            Storage::Cpu(_) => Device::Cpu,
            Storage::Cuda(s) => Device::Cuda(s.ordinal()),
        }
    }

    /// The host buffer; for device storage, the error that `op` has no kernel there yet (ops
    /// with CUDA kernels match `Storage::Cuda` before asking for the host buffer).
    pub fn cpu(&self, op: &str) -> Result<&CpuStorage> {
        match self {
            Storage::Cpu(s) => Ok(s),
            Storage::Cuda(_) => Err(no_cuda_kernel(op)),
        }
    }

    /// The device buffer; an error naming `op` for host storage.
    pub fn cuda(&self, op: &str) -> Result<&crate::cuda::CudaStorage> {
        match self {
            Storage::Cuda(s) => Ok(s),
            Storage::Cpu(_) => Err(Error::Device(format!(
                "{op}: expected a tensor on cuda, got one on the cpu"
            ))),
        }
    }

    /// Mutable host buffer.
    pub fn cpu_mut(&mut self, op: &str) -> Result<&mut CpuStorage> {
        match self {
            Storage::Cpu(s) => Ok(s),
            Storage::Cuda(_) => Err(no_cuda_kernel(op)),
        }
    }

    /// A contiguous copy of the elements of `layout`, on the same device.
    pub fn copy_layout(&self, layout: &Layout) -> Result<Storage> {
        Ok(match self {
            Storage::Cpu(s) => Storage::Cpu(s.copy_layout(layout)),
            Storage::Cuda(s) => Storage::Cuda(s.copy_layout(layout, s.dtype())?),
        })
    }

    /// The f32 host slice; errors for other dtypes.
    pub fn f32s(&self, op: &'static str) -> Result<&[f32]> {
        let s = self.cpu(op)?;
        f32::slice(s).ok_or_else(|| Error::dtype(op, "float32", s.dtype()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Casts to bf16 / f16 round to nearest even (ties to the even significand) and overflow to
    /// infinity past the largest finite value plus half a unit; widening back is exact.
    #[test]
    fn sixteen_bit_casts_round_to_nearest_even() {
        let values = vec![
            1.0 + 2f32.powi(-8),       // bf16 tie between 1 and 1 + 2^-7: to 1 (even)
            1.0 + 3.0 * 2f32.powi(-8), // bf16 tie: to 1 + 2^-6 (even)
            1.0 + 2f32.powi(-11),      // f16 tie between 1 and 1 + 2^-10: to 1
            65519.0,                   // f16: below the overflow threshold, to 65504
            65520.0,                   // f16: the threshold, to infinity
            -0.0,
        ];
        let n = values.len();
        let layout = Layout::contiguous(&[n]);
        let wide = |s: CpuStorage| -> Vec<f32> {
            match s.to_dtype(&layout, DType::F32).unwrap() {
                CpuStorage::F32(v) => v,
                other => panic!("expected f32, got {:?}", other.dtype()),
            }
        };
        let source = CpuStorage::F32(values);
        let bf16 = wide(source.to_dtype(&layout, DType::BF16).unwrap());
        assert_eq!(bf16[..2], [1.0, 1.0 + 2f32.powi(-6)]);
        let f16 = wide(source.to_dtype(&layout, DType::F16).unwrap());
        assert_eq!(f16[2..5], [1.0, 65504.0, f32::INFINITY]);
        assert!(f16[5] == 0.0 && f16[5].is_sign_negative());
        assert_eq!(
            CpuStorage::full(DType::BF16, 2, 3.0).unwrap().dtype(),
            DType::BF16
        );
    }
}
