//! Launches of `kernels/elementwise.cu`: unary and binary f32 ops, comparisons and `where`, each
//! over strided and broadcast layouts.

use cudarc::driver::{CudaSlice, PushKernelArg};

use super::launch::{grid_for, grid_for4, launch_error, KernelLayout};
use super::storage::{empty, CudaElement, CudaStorage};
use crate::ops::binary::{BinaryOp, CmpOp};
use crate::ops::unary::UnaryOp;
use crate::{Error, Layout, Result};

/// The kernel's op code and its two scalar parameters (see `apply_unary`).
fn unary_code(op: UnaryOp) -> (i32, f32, f32) {
    match op {
        UnaryOp::Neg => (0, 0.0, 0.0),
        UnaryOp::Exp => (1, 0.0, 0.0),
        UnaryOp::Log => (2, 0.0, 0.0),
        UnaryOp::Sqrt => (3, 0.0, 0.0),
        UnaryOp::Abs => (4, 0.0, 0.0),
        UnaryOp::Sign => (5, 0.0, 0.0),
        UnaryOp::Recip => (6, 0.0, 0.0),
        UnaryOp::Square => (7, 0.0, 0.0),
        UnaryOp::Relu => (8, 0.0, 0.0),
        UnaryOp::Step => (9, 0.0, 0.0),
        UnaryOp::LeakyRelu(s) => (10, s, 0.0),
        UnaryOp::LeakyReluGrad(s) => (11, s, 0.0),
        UnaryOp::Sigmoid => (12, 0.0, 0.0),
        UnaryOp::Tanh => (13, 0.0, 0.0),
        UnaryOp::GeluErf => (14, 0.0, 0.0),
        UnaryOp::GeluErfGrad => (15, 0.0, 0.0),
        UnaryOp::GeluTanh => (16, 0.0, 0.0),
        UnaryOp::GeluTanhGrad => (17, 0.0, 0.0),
        UnaryOp::Silu => (18, 0.0, 0.0),
        UnaryOp::SiluGrad => (19, 0.0, 0.0),
        UnaryOp::Softplus { beta, threshold } => (20, beta, threshold),
        UnaryOp::Powf(p) => (21, p, 0.0),
        UnaryOp::Clamp(lo, hi) => (22, lo, hi),
        UnaryOp::InRange(lo, hi) => (23, lo, hi),
        UnaryOp::Affine(a, b) => (24, a, b),
        UnaryOp::RoundBf16 => (25, 0.0, 0.0),
        UnaryOp::Sin => (26, 0.0, 0.0),
        UnaryOp::Cos => (27, 0.0, 0.0),
        UnaryOp::Floor => (28, 0.0, 0.0),
        UnaryOp::Ceil => (29, 0.0, 0.0),
        UnaryOp::Round => (30, 0.0, 0.0),
        UnaryOp::Log1p => (31, 0.0, 0.0),
        UnaryOp::Expm1 => (32, 0.0, 0.0),
        UnaryOp::Erf => (33, 0.0, 0.0),
        UnaryOp::Erfc => (34, 0.0, 0.0),
        UnaryOp::Tan => (35, 0.0, 0.0),
        UnaryOp::Asin => (36, 0.0, 0.0),
        UnaryOp::Acos => (37, 0.0, 0.0),
        UnaryOp::Atan => (38, 0.0, 0.0),
        UnaryOp::Sinh => (39, 0.0, 0.0),
        UnaryOp::Cosh => (40, 0.0, 0.0),
        UnaryOp::Asinh => (41, 0.0, 0.0),
        UnaryOp::Acosh => (42, 0.0, 0.0),
        UnaryOp::Atanh => (43, 0.0, 0.0),
        UnaryOp::Log2 => (44, 0.0, 0.0),
        UnaryOp::Log10 => (45, 0.0, 0.0),
        UnaryOp::Lgamma => (46, 0.0, 0.0),
        UnaryOp::Digamma => (47, 0.0, 0.0),
        // n is exact in f32 far past any order whose values stay finite.
        UnaryOp::Polygamma(n) => (48, n as f32, 0.0),
        UnaryOp::Erfinv => (49, 0.0, 0.0),
        UnaryOp::BesselI0 => (50, 0.0, 0.0),
        UnaryOp::BesselI0e => (51, 0.0, 0.0),
        UnaryOp::BesselI1 => (52, 0.0, 0.0),
        UnaryOp::BesselI1e => (53, 0.0, 0.0),
        UnaryOp::Erfcx => (54, 0.0, 0.0),
        UnaryOp::LogNdtr => (55, 0.0, 0.0),
        UnaryOp::Ndtri => (56, 0.0, 0.0),
        UnaryOp::BesselJ0 => (57, 0.0, 0.0),
        UnaryOp::BesselJ1 => (58, 0.0, 0.0),
        UnaryOp::BesselY0 => (59, 0.0, 0.0),
        UnaryOp::BesselY1 => (60, 0.0, 0.0),
        UnaryOp::BesselK0 => (61, 0.0, 0.0),
        UnaryOp::BesselK0e => (62, 0.0, 0.0),
        UnaryOp::BesselK1 => (63, 0.0, 0.0),
        UnaryOp::BesselK1e => (64, 0.0, 0.0),
        UnaryOp::AiryAi => (65, 0.0, 0.0),
        UnaryOp::AiryAiPrime => (66, 0.0, 0.0),
    }
}

fn binary_code(op: BinaryOp) -> i32 {
    match op {
        BinaryOp::Add => 0,
        BinaryOp::Sub => 1,
        BinaryOp::Mul => 2,
        BinaryOp::Div => 3,
        BinaryOp::Pow => 4,
        BinaryOp::Maximum => 5,
        BinaryOp::Minimum => 6,
        BinaryOp::Atan2 => 7,
        BinaryOp::FloorDivide => 8,
        BinaryOp::Remainder => 9,
        BinaryOp::Fmod => 10,
        BinaryOp::StandardGammaGrad => 11,
        BinaryOp::Igamma => 12,
        BinaryOp::Igammac => 13,
        BinaryOp::Zeta => 14,
    }
}

fn compare_code(op: CmpOp) -> i32 {
    match op {
        CmpOp::Eq => 0,
        CmpOp::Ne => 1,
        CmpOp::Lt => 2,
        CmpOp::Le => 3,
        CmpOp::Gt => 4,
        CmpOp::Ge => 5,
    }
}

/// `op` applied to the elements of `x` viewed through `layout`, into a new contiguous buffer.
pub fn unary(x: &CudaStorage, layout: &Layout, op: UnaryOp) -> Result<CudaStorage> {
    let g = x.gpu()?;
    let src = x.f32s("unary")?;
    let n = layout.numel();
    let kl = KernelLayout::new("unary", layout)?;
    let (code, p0, p1) = unary_code(op);
    let mut out = empty::<f32>(&g, n)?;
    let f = g.function("elementwise.cu", "unary_f32")?;
    let n64 = n as i64;
    let mut b = g.stream.launch_builder(&f);
    b.arg(&mut out)
        .arg(src)
        .arg(&kl)
        .arg(&n64)
        .arg(&code)
        .arg(&p0)
        .arg(&p1);
    // SAFETY: `kl` addresses elements of `src`; `out` holds n elements.
    unsafe { b.launch(grid_for4(n)) }.map_err(|e| launch_error("unary_f32", e))?;
    Ok(CudaStorage::F32(out))
}

/// `op(a, b)` with both layouts already broadcast to the output shape.
pub fn binary(
    a: &CudaStorage,
    la: &Layout,
    b: &CudaStorage,
    lb: &Layout,
    op: BinaryOp,
) -> Result<CudaStorage> {
    let g = a.gpu()?;
    let (sa, sb) = (a.f32s("binary")?, b.f32s("binary")?);
    let n = la.numel();
    let (ka, kb) = (
        KernelLayout::new("binary", la)?,
        KernelLayout::new("binary", lb)?,
    );
    let code = binary_code(op);
    let mut out = empty::<f32>(&g, n)?;
    let f = g.function("elementwise.cu", "binary_f32")?;
    let n64 = n as i64;
    let mut l = g.stream.launch_builder(&f);
    l.arg(&mut out)
        .arg(sa)
        .arg(&ka)
        .arg(sb)
        .arg(&kb)
        .arg(&n64)
        .arg(&code);
    // SAFETY: the layouts address elements of their buffers; `out` holds n elements.
    unsafe { l.launch(grid_for4(n)) }.map_err(|e| launch_error("binary_f32", e))?;
    Ok(CudaStorage::F32(out))
}

/// A bool buffer of `op(a, b)`; both operands have one dtype and broadcast layouts.
pub fn compare(
    a: &CudaStorage,
    la: &Layout,
    b: &CudaStorage,
    lb: &Layout,
    op: CmpOp,
) -> Result<CudaStorage> {
    let g = a.gpu()?;
    let n = la.numel();
    let (ka, kb) = (
        KernelLayout::new("compare", la)?,
        KernelLayout::new("compare", lb)?,
    );
    let (code, n64) = (compare_code(op), n as i64);
    let mut out = empty::<u8>(&g, n)?;
    fn go<T: CudaElement>(
        g: &super::Gpu,
        out: &mut CudaSlice<u8>,
        (a, ka): (&CudaSlice<T>, &KernelLayout),
        (b, kb): (&CudaSlice<T>, &KernelLayout),
        n64: i64,
        code: i32,
        n: usize,
    ) -> Result<()> {
        let name = format!("compare_{}", T::SUFFIX);
        let f = g.function("elementwise.cu", &name)?;
        let mut l = g.stream.launch_builder(&f);
        l.arg(out)
            .arg(a)
            .arg(ka)
            .arg(b)
            .arg(kb)
            .arg(&n64)
            .arg(&code);
        // SAFETY: the layouts address elements of their buffers; `out` holds n elements.
        unsafe { l.launch(grid_for(n)) }.map_err(|e| launch_error(&name, e))?;
        Ok(())
    }
    match (a, b) {
        (CudaStorage::F32(x), CudaStorage::F32(y)) => {
            go(&g, &mut out, (x, &ka), (y, &kb), n64, code, n)?
        }
        (CudaStorage::I64(x), CudaStorage::I64(y)) => {
            go(&g, &mut out, (x, &ka), (y, &kb), n64, code, n)?
        }
        (CudaStorage::I32(x), CudaStorage::I32(y)) => {
            go(&g, &mut out, (x, &ka), (y, &kb), n64, code, n)?
        }
        (CudaStorage::U8(x), CudaStorage::U8(y)) | (CudaStorage::Bool(x), CudaStorage::Bool(y)) => {
            go(&g, &mut out, (x, &ka), (y, &kb), n64, code, n)?
        }
        (x, y) => return Err(Error::dtype("compare", x.dtype(), y.dtype())),
    }
    Ok(CudaStorage::Bool(out))
}

/// `c ? a : b` elementwise; `c` is bool, `a` and `b` f32, all layouts broadcast to one shape.
pub fn where_cond(
    (c, lc): (&CudaStorage, &Layout),
    (a, la): (&CudaStorage, &Layout),
    (b, lb): (&CudaStorage, &Layout),
) -> Result<CudaStorage> {
    let g = a.gpu()?;
    let cond = match c {
        CudaStorage::Bool(v) => v,
        other => return Err(Error::dtype("where", "bool", other.dtype())),
    };
    let (sa, sb) = (a.f32s("where")?, b.f32s("where")?);
    let n = la.numel();
    let (kc, ka, kb) = (
        KernelLayout::new("where", lc)?,
        KernelLayout::new("where", la)?,
        KernelLayout::new("where", lb)?,
    );
    let mut out = empty::<f32>(&g, n)?;
    let f = g.function("elementwise.cu", "where_f32")?;
    let n64 = n as i64;
    let mut l = g.stream.launch_builder(&f);
    l.arg(&mut out)
        .arg(cond)
        .arg(&kc)
        .arg(sa)
        .arg(&ka)
        .arg(sb)
        .arg(&kb)
        .arg(&n64);
    // SAFETY: the layouts address elements of their buffers; `out` holds n elements.
    unsafe { l.launch(grid_for(n)) }.map_err(|e| launch_error("where_f32", e))?;
    Ok(CudaStorage::F32(out))
}
