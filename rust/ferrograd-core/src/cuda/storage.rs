//! Device buffers: the `Storage::Cuda` variant, transfers to and from the host, fills, strided
//! copies and dtype casts.

use std::sync::{Arc, Mutex};

use cudarc::driver::{CudaSlice, DeviceRepr, PushKernelArg, ValidAsZeroBits};

use super::launch::{grid_for, grid_for4, launch_error, KernelLayout};
use super::runtime::{driver_error, gpu, Gpu};
use super::staging::{Staged, Staging};
use crate::{CpuStorage, DType, Error, Layout, Result};

/// A flat device buffer of one dtype (bool is stored as one byte, 0 or 1).
#[derive(Debug)]
pub enum CudaStorage {
    F32(CudaSlice<f32>),
    I64(CudaSlice<i64>),
    I32(CudaSlice<i32>),
    U8(CudaSlice<u8>),
    Bool(CudaSlice<u8>),
    BF16(CudaSlice<half::bf16>),
    F16(CudaSlice<half::f16>),
}

/// Element types a device buffer holds, with their kernel-name suffix and pinned upload buffers.
pub trait CudaElement: DeviceRepr + ValidAsZeroBits + Copy + Send + Sync + 'static {
    const SUFFIX: &'static str;
    fn staging(s: &Staging) -> &Mutex<Vec<Staged<Self>>>;
}
impl CudaElement for f32 {
    const SUFFIX: &'static str = "f32";
    fn staging(s: &Staging) -> &Mutex<Vec<Staged<Self>>> {
        &s.f32
    }
}
impl CudaElement for i64 {
    const SUFFIX: &'static str = "i64";
    fn staging(s: &Staging) -> &Mutex<Vec<Staged<Self>>> {
        &s.i64
    }
}
impl CudaElement for i32 {
    const SUFFIX: &'static str = "i32";
    fn staging(s: &Staging) -> &Mutex<Vec<Staged<Self>>> {
        &s.i32
    }
}
impl CudaElement for u8 {
    const SUFFIX: &'static str = "u8";
    fn staging(s: &Staging) -> &Mutex<Vec<Staged<Self>>> {
        &s.u8
    }
}
impl CudaElement for half::bf16 {
    const SUFFIX: &'static str = "bf16";
    fn staging(s: &Staging) -> &Mutex<Vec<Staged<Self>>> {
        &s.bf16
    }
}
impl CudaElement for half::f16 {
    const SUFFIX: &'static str = "f16";
    fn staging(s: &Staging) -> &Mutex<Vec<Staged<Self>>> {
        &s.f16
    }
}

/// Applies `$body` with `$v` bound to the typed device slice, whatever the dtype.
macro_rules! with_cuda_slice {
    ($s:expr, $v:ident => $body:expr) => {
        match $s {
            CudaStorage::F32($v) => $body,
            CudaStorage::I64($v) => $body,
            CudaStorage::I32($v) => $body,
            CudaStorage::U8($v) => $body,
            CudaStorage::Bool($v) => $body,
            CudaStorage::BF16($v) => $body,
            CudaStorage::F16($v) => $body,
        }
    };
}

/// An out-of-memory error naming the request, or a generic driver error.
pub(crate) fn alloc_error(bytes: usize, ordinal: usize, e: cudarc::driver::DriverError) -> Error {
    if e.0 == cudarc::driver::sys::CUresult::CUDA_ERROR_OUT_OF_MEMORY {
        Error::OutOfMemory {
            bytes,
            device: format!("cuda:{ordinal}"),
        }
    } else {
        driver_error(&format!("allocating {bytes} bytes"), e)
    }
}

/// An uninitialised-free (zeroed) device buffer of `n` elements.
pub fn zeros<T: CudaElement>(g: &Gpu, n: usize) -> Result<CudaSlice<T>> {
    g.stream
        .alloc_zeros::<T>(n.max(1))
        .map_err(|e| alloc_error(n * std::mem::size_of::<T>(), g.ordinal, e))
}

/// A device buffer of `n` elements the caller overwrites entirely before reading.
pub fn empty<T: CudaElement>(g: &Gpu, n: usize) -> Result<CudaSlice<T>> {
    // SAFETY: every caller launches a kernel writing all `n` elements before any read.
    unsafe { g.stream.alloc::<T>(n.max(1)) }
        .map_err(|e| alloc_error(n * std::mem::size_of::<T>(), g.ordinal, e))
}

fn upload<T: CudaElement>(g: &Gpu, v: &[T]) -> Result<CudaSlice<T>> {
    if v.is_empty() {
        return zeros(g, 0);
    }
    super::staging::upload(g, v)
}

impl CudaStorage {
    pub fn dtype(&self) -> DType {
        match self {
            CudaStorage::F32(_) => DType::F32,
            CudaStorage::I64(_) => DType::I64,
            CudaStorage::I32(_) => DType::I32,
            CudaStorage::U8(_) => DType::U8,
            CudaStorage::Bool(_) => DType::Bool,
            CudaStorage::BF16(_) => DType::BF16,
            CudaStorage::F16(_) => DType::F16,
        }
    }

    /// Number of elements in the buffer.
    pub fn len(&self) -> usize {
        with_cuda_slice!(self, v => v.len())
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The device ordinal the buffer lives on.
    pub fn ordinal(&self) -> usize {
        with_cuda_slice!(self, v => v.ordinal())
    }

    pub fn gpu(&self) -> Result<Arc<Gpu>> {
        gpu(self.ordinal())
    }

    /// The f32 slice, or a dtype error naming `op`.
    pub fn f32s(&self, op: &'static str) -> Result<&CudaSlice<f32>> {
        match self {
            CudaStorage::F32(v) => Ok(v),
            other => Err(Error::dtype(op, "float32", other.dtype())),
        }
    }

    /// Copies a whole host buffer to device `ordinal`.
    pub fn from_host(ordinal: usize, s: &CpuStorage) -> Result<CudaStorage> {
        super::graph::refuse_in_capture("copying a host tensor to the GPU")?;
        let g = gpu(ordinal)?;
        Ok(match s {
            CpuStorage::F32(v) => CudaStorage::F32(upload(&g, v)?),
            CpuStorage::I64(v) => CudaStorage::I64(upload(&g, v)?),
            CpuStorage::I32(v) => CudaStorage::I32(upload(&g, v)?),
            CpuStorage::U8(v) => CudaStorage::U8(upload(&g, v)?),
            CpuStorage::Bool(v) => {
                let bytes: Vec<u8> = v.iter().map(|&b| b as u8).collect();
                CudaStorage::Bool(upload(&g, &bytes)?)
            }
            CpuStorage::BF16(v) => CudaStorage::BF16(upload(&g, v)?),
            CpuStorage::F16(v) => CudaStorage::F16(upload(&g, v)?),
        })
    }

    /// Copies the whole buffer back to the host (waits for the queued ops that write it).
    pub fn to_host(&self) -> Result<CpuStorage> {
        super::graph::refuse_in_capture("reading a GPU value on the host")?;
        let g = self.gpu()?;
        fn down<T: CudaElement>(g: &Gpu, v: &CudaSlice<T>) -> Result<Vec<T>> {
            g.stream
                .clone_dtoh(v)
                .map_err(|e| driver_error("copying to the host", e))
        }
        let host = match self {
            CudaStorage::F32(v) => CpuStorage::F32(down(&g, v)?),
            CudaStorage::I64(v) => CpuStorage::I64(down(&g, v)?),
            CudaStorage::I32(v) => CpuStorage::I32(down(&g, v)?),
            CudaStorage::U8(v) => CpuStorage::U8(down(&g, v)?),
            CudaStorage::Bool(v) => {
                CpuStorage::Bool(down(&g, v)?.into_iter().map(|b| b != 0).collect())
            }
            CudaStorage::BF16(v) => CpuStorage::BF16(down(&g, v)?),
            CudaStorage::F16(v) => CpuStorage::F16(down(&g, v)?),
        };
        // The copy waited for the queue: an index a kernel found out of range surfaces here.
        g.faults.take(&g.stream)?;
        Ok(host)
    }

    /// `n` copies of `value` cast to `dtype` on device `ordinal`.
    pub fn full(ordinal: usize, dtype: DType, n: usize, value: f64) -> Result<CudaStorage> {
        let g = gpu(ordinal)?;
        fn fill<T: CudaElement>(g: &Gpu, n: usize, value: T) -> Result<CudaSlice<T>> {
            let mut out = empty::<T>(g, n)?;
            let f = g.function("copy.cu", &format!("fill_{}", T::SUFFIX))?;
            let n64 = n as i64;
            let mut b = g.stream.launch_builder(&f);
            b.arg(&mut out).arg(&n64).arg(&value);
            // SAFETY: `out` holds n elements; the kernel writes indices below n.
            unsafe { b.launch(grid_for(n)) }.map_err(|e| launch_error("fill", e))?;
            Ok(out)
        }
        Ok(match dtype {
            DType::F32 => CudaStorage::F32(fill(&g, n, value as f32)?),
            DType::I64 => CudaStorage::I64(fill(&g, n, value as i64)?),
            DType::I32 => CudaStorage::I32(fill(&g, n, value as i32)?),
            DType::U8 => CudaStorage::U8(fill(&g, n, value as u8)?),
            DType::Bool => CudaStorage::Bool(fill(&g, n, (value != 0.0) as u8)?),
            DType::BF16 => CudaStorage::BF16(fill(&g, n, half::bf16::from_f64(value))?),
            DType::F16 => CudaStorage::F16(fill(&g, n, half::f16::from_f64(value))?),
            d => return Err(Error::NotImplemented(format!("dtype {d} on CUDA"))),
        })
    }

    /// Adds `by` to every element of an int64 buffer in place.
    pub fn count_up(&mut self, by: i64) -> Result<()> {
        let g = self.gpu()?;
        let CudaStorage::I64(v) = self else {
            return Err(Error::dtype("count_up", "int64", self.dtype()));
        };
        let n = v.len();
        let f = g.function("copy.cu", "count_up_i64")?;
        let n64 = n as i64;
        let mut b = g.stream.launch_builder(&f);
        b.arg(v).arg(&n64).arg(&by);
        // SAFETY: the buffer holds n elements; the kernel writes indices below n.
        unsafe { b.launch(grid_for(n)) }.map_err(|e| launch_error("count_up", e))?;
        Ok(())
    }

    /// The elements of `layout`, converted to `dtype`, in a new contiguous buffer.
    pub fn copy_layout(&self, layout: &Layout, dtype: DType) -> Result<CudaStorage> {
        let g = self.gpu()?;
        let n = layout.numel();
        let kl = KernelLayout::new("copy", layout)?;
        fn run<S: CudaElement, D: CudaElement>(
            g: &Gpu,
            src: &CudaSlice<S>,
            kl: KernelLayout,
            n: usize,
            bool_out: bool,
        ) -> Result<CudaSlice<D>> {
            let mut out = empty::<D>(g, n)?;
            let name = if bool_out {
                format!("cast_{}_bool", S::SUFFIX)
            } else {
                format!("cast_{}_{}", S::SUFFIX, D::SUFFIX)
            };
            let f = g.function("copy.cu", &name)?;
            let n64 = n as i64;
            let mut b = g.stream.launch_builder(&f);
            b.arg(&mut out).arg(src).arg(&kl).arg(&n64);
            // SAFETY: `kl` addresses elements inside `src`; `out` holds n elements.
            unsafe { b.launch(grid_for4(n)) }.map_err(|e| launch_error(&name, e))?;
            Ok(out)
        }
        macro_rules! to {
            ($src:expr) => {
                match dtype {
                    DType::F32 => CudaStorage::F32(run(&g, $src, kl, n, false)?),
                    DType::I64 => CudaStorage::I64(run(&g, $src, kl, n, false)?),
                    DType::I32 => CudaStorage::I32(run(&g, $src, kl, n, false)?),
                    DType::U8 => CudaStorage::U8(run(&g, $src, kl, n, false)?),
                    DType::Bool => CudaStorage::Bool(run(&g, $src, kl, n, true)?),
                    DType::BF16 => CudaStorage::BF16(run(&g, $src, kl, n, false)?),
                    DType::F16 => CudaStorage::F16(run(&g, $src, kl, n, false)?),
                    d => return Err(Error::NotImplemented(format!("dtype {d} on CUDA"))),
                }
            };
        }
        Ok(with_cuda_slice!(self, v => to!(v)))
    }

    /// Writes the elements of `src` (viewed through `src_layout`) into this buffer at
    /// `dst_layout`, in place; both layouts have the same shape and dtype.
    pub fn copy_into(
        &mut self,
        dst_layout: &Layout,
        src: &CudaStorage,
        src_layout: &Layout,
    ) -> Result<()> {
        let g = self.gpu()?;
        let n = dst_layout.numel();
        let (kd, ks) = (
            KernelLayout::new("assign", dst_layout)?,
            KernelLayout::new("assign", src_layout)?,
        );
        let n64 = n as i64;
        macro_rules! go {
            ($d:expr, $s:expr, $suffix:expr) => {{
                let name = format!("strided_assign_{}", $suffix);
                let f = g.function("copy.cu", &name)?;
                let mut b = g.stream.launch_builder(&f);
                b.arg($d).arg(&kd).arg($s).arg(&ks).arg(&n64);
                // SAFETY: both layouts address elements inside their buffers.
                unsafe { b.launch(grid_for(n)) }.map_err(|e| launch_error(&name, e))?;
            }};
        }
        match (self, src) {
            (CudaStorage::F32(d), CudaStorage::F32(s)) => go!(d, s, "f32"),
            (CudaStorage::I64(d), CudaStorage::I64(s)) => go!(d, s, "i64"),
            (CudaStorage::I32(d), CudaStorage::I32(s)) => go!(d, s, "i32"),
            (CudaStorage::BF16(d), CudaStorage::BF16(s)) => go!(d, s, "bf16"),
            (CudaStorage::F16(d), CudaStorage::F16(s)) => go!(d, s, "f16"),
            (CudaStorage::U8(d), CudaStorage::U8(s))
            | (CudaStorage::Bool(d), CudaStorage::Bool(s)) => {
                go!(d, s, "u8")
            }
            (d, s) => return Err(Error::dtype("assign", d.dtype(), s.dtype())),
        }
        Ok(())
    }
}
