//! Batched matrix products on cuBLAS (`cublasSgemmStridedBatched`).
//!
//! cuBLAS is column-major; a row-major product C = A·B is computed as Cᵀ = Bᵀ·Aᵀ, where a
//! row-major matrix read as column-major is already its transpose. Each operand arrives as a
//! `[batch, rows, cols]` layout; a unit column stride passes it as-is ("N"), a unit row stride
//! (a transposed view) passes it with "T", so `x.T @ y` in backward needs no copy.

use cudarc::cublas::sys::{cublasMath_t, cublasOperation_t};
use cudarc::cublas::{Gemm, GemmConfig, StridedBatchedConfig};

use cudarc::driver::{CudaSlice, CudaView, DevicePtr, DevicePtrMut};

use super::runtime::{allow_tf32, driver_error, Gpu};
use super::storage::{zeros, CudaStorage};
use crate::{Error, Layout, Result};

/// How cuBLAS reads a logical row-major `[rows, cols]` matrix with strides (sr, sc): the
/// operation flag and leading dimension, or None when neither stride is 1 (needs a copy).
fn operand(rows: usize, cols: usize, sr: usize, sc: usize) -> Option<(cublasOperation_t, i32)> {
    if sc == 1 || cols == 1 {
        let ld = if rows == 1 { cols } else { sr };
        (ld >= cols).then_some((cublasOperation_t::CUBLAS_OP_N, ld.max(1) as i32))
    } else if sr == 1 || rows == 1 {
        let ld = if cols == 1 { rows } else { sc };
        (ld >= rows).then_some((cublasOperation_t::CUBLAS_OP_T, ld.max(1) as i32))
    } else {
        None
    }
}

/// True when cuBLAS can read `layout` (`[batch, rows, cols]`) without a copy.
pub fn readable(layout: &Layout) -> bool {
    let (s, st) = (layout.shape(), layout.strides());
    operand(s[1], s[2], st[1], st[2]).is_some()
}

/// `out[b] = a[b] @ b[b]` for `[batch, m, k]` and `[batch, k, n]` layouts (batch stride 0 =
/// broadcast); the result is a new contiguous `[batch, m, n]` buffer. With `bf16_operands` (every
/// operand value is a bf16 value, as under autocast) the product runs on bf16 tensor cores with
/// f32 accumulation: cuBLAS converts the f32 operands to bf16, exactly for such values.
pub fn batched_matmul(
    a: &CudaStorage,
    la: &Layout,
    b: &CudaStorage,
    lb: &Layout,
    bf16_operands: bool,
) -> Result<CudaStorage> {
    let g = a.gpu()?;
    let (sa, sb) = (a.f32s("matmul")?, b.f32s("matmul")?);
    let (batch, m, k) = (la.shape()[0], la.shape()[1], la.shape()[2]);
    let n = lb.shape()[2];
    let mut out = zeros::<f32>(&g, batch * m * n)?;
    if batch * m * n == 0 || k == 0 {
        return Ok(CudaStorage::F32(out));
    }
    let not_readable = || {
        Error::NotImplemented("matmul on CUDA: operand with no unit stride (copy it first)".into())
    };
    let (op_a, ld_a) = operand(m, k, la.strides()[1], la.strides()[2]).ok_or_else(not_readable)?;
    let (op_b, ld_b) = operand(k, n, lb.strides()[1], lb.strides()[2]).ok_or_else(not_readable)?;
    let mode = if allow_tf32() {
        cublasMath_t::CUBLAS_TF32_TENSOR_OP_MATH
    } else {
        cublasMath_t::CUBLAS_DEFAULT_MATH
    };
    // cuBLAS runs in the calling thread's current context, which may not be this device's yet.
    g.ctx
        .bind_to_thread()
        .map_err(|e| driver_error("binding the context", e))?;
    // SAFETY: sets a flag on the handle this device owns.
    unsafe { cudarc::cublas::sys::cublasSetMathMode(*g.blas.handle(), mode) }
        .result()
        .map_err(|e| driver_error("cuBLAS set math mode", e))?;
    let cfg = StridedBatchedConfig {
        // Cᵀ (n x m) = op(B) (n x k) · op(A) (k x m).
        gemm: GemmConfig {
            transa: op_b,
            transb: op_a,
            m: n as i32,
            n: m as i32,
            k: k as i32,
            alpha: 1.0f32,
            lda: ld_b,
            ldb: ld_a,
            beta: 0.0f32,
            ldc: n as i32,
        },
        batch_size: batch as i32,
        stride_a: lb.strides()[0] as i64,
        stride_b: la.strides()[0] as i64,
        stride_c: (m * n) as i64,
    };
    // cudarc's `slice` panics past the end; a layout's offset never is, but say so as an error.
    let past_end = || Error::shape("matmul", "operand offset past the end of its buffer");
    let va = sa.try_slice(la.offset()..).ok_or_else(past_end)?;
    let vb = sb.try_slice(lb.offset()..).ok_or_else(past_end)?;
    if bf16_operands {
        bf16_gemm(&g, cfg, &vb, &va, &mut out)?;
    } else {
        // SAFETY: the layouts were validated against their buffers by the caller; `out` holds
        // batch * m * n elements.
        unsafe { g.blas.gemm_strided_batched(cfg, &vb, &va, &mut out) }
            .map_err(|e| driver_error("cuBLAS sgemm", e))?;
    }
    Ok(CudaStorage::F32(out))
}

/// `cfg`'s product of f32 buffers holding bf16 values, with compute type
/// `CUBLAS_COMPUTE_32F_FAST_16BF` (bf16 tensor cores, f32 accumulation and output).
fn bf16_gemm(
    g: &Gpu,
    cfg: StridedBatchedConfig<f32>,
    a: &CudaView<'_, f32>,
    b: &CudaView<'_, f32>,
    c: &mut CudaSlice<f32>,
) -> Result<()> {
    use cudarc::cublas::sys::{cublasComputeType_t, cublasGemmAlgo_t, cudaDataType_t};
    let (pa, _record_a) = a.device_ptr(&g.stream);
    let (pb, _record_b) = b.device_ptr(&g.stream);
    let (pc, _record_c) = c.device_ptr_mut(&g.stream);
    let f32_type = cudaDataType_t::CUDA_R_32F;
    // SAFETY: the pointers address live buffers of this device that hold every element the
    // configuration reaches (checked by the caller as for the sgemm path); alpha and beta are
    // host scalars that outlive the call.
    unsafe {
        cudarc::cublas::result::gemm_strided_batched_ex(
            *g.blas.handle(),
            cfg.gemm.transa,
            cfg.gemm.transb,
            cfg.gemm.m,
            cfg.gemm.n,
            cfg.gemm.k,
            (&cfg.gemm.alpha) as *const f32 as *const _,
            pa as *const _,
            f32_type,
            cfg.gemm.lda,
            cfg.stride_a,
            pb as *const _,
            f32_type,
            cfg.gemm.ldb,
            cfg.stride_b,
            (&cfg.gemm.beta) as *const f32 as *const _,
            pc as *mut _,
            f32_type,
            cfg.gemm.ldc,
            cfg.stride_c,
            cfg.batch_size,
            cublasComputeType_t::CUBLAS_COMPUTE_32F_FAST_16BF,
            cublasGemmAlgo_t::CUBLAS_GEMM_DEFAULT,
        )
    }
    .map_err(|e| driver_error("cuBLAS bf16 gemm", e))
}
