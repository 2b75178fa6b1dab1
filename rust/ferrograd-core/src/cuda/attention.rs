//! Launches of the flash attention kernels over f32 operands read through per-slice start offsets
//! and row / column strides, forward (output and each row's log-sum-exp) and backward (the three
//! input gradients from the saved log-sum-exp): `kernels/attention.cu` on CUDA cores, or
//! `kernels/attention_mma.cu` on bf16 or f16 tensor cores for operands that hold bf16 or f16
//! values (`Products::Bf16`, `Products::F16`).

use cudarc::driver::{CudaSlice, DevicePtr, DeviceRepr, LaunchConfig, PushKernelArg};

use super::launch::launch_error;
use super::products::Products;
use super::storage::{empty, CudaStorage};
use super::Gpu;
use crate::cpu::attention::AttentionDims;
use crate::{Error, Result};

/// Largest head dimension (of queries and keys, and of values) the kernels hold (`FA_MAX_D`).
pub const FLASH_MAX_HEAD: usize = 128;

/// Most (batch, head) slices one launch covers: they are the grid's second dimension.
pub const FLASH_MAX_SLICES: usize = 65_535;

/// Rows per tile and threads per row of the kernels (`FA_FWD_ROWS`, `FA_BWD_ROWS`, `FA_LANES`).
const FORWARD_ROWS: usize = 32;
const BACKWARD_ROWS: usize = 16;
const LANES: usize = 4;

/// Head dims the tensor-core kernels are built for (`FA_KERNELS` of `attention_mma.cu`), each
/// with the rows per block of its forward, dq and dk / dv kernels; a block runs two threads a row.
struct TensorCoreTiles {
    head: usize,
    forward: usize,
    dq: usize,
    dkv: usize,
}

const TENSOR_CORE_TILES: [TensorCoreTiles; 3] = [
    TensorCoreTiles {
        head: 32,
        forward: 64,
        dq: 64,
        dkv: 64,
    },
    TensorCoreTiles {
        head: 64,
        forward: 64,
        dq: 64,
        dkv: 64,
    },
    TensorCoreTiles {
        head: 128,
        forward: 64,
        dq: 32,
        dkv: 32,
    },
];

/// The tensor-core kernels' tiles for these head dims (padded up to the next size built).
fn tensor_core_tiles(dims: &AttentionDims) -> &'static TensorCoreTiles {
    let head = dims.d.max(dims.dv);
    TENSOR_CORE_TILES
        .iter()
        .find(|t| t.head >= head)
        .unwrap_or(&TENSOR_CORE_TILES[TENSOR_CORE_TILES.len() - 1])
}

const OP: &str = "scaled_dot_product_attention";

/// `FaOperand` of `attention.cu`, field for field.
#[repr(C)]
#[derive(Clone, Copy)]
struct KernelOperand {
    data: u64,
    starts: u64,
    row_stride: i64,
    col_stride: i64,
}

// SAFETY: plain `repr(C)` data laid out as the C++ struct.
unsafe impl DeviceRepr for KernelOperand {}

/// An operand on the device: its buffer, each slice's first element and the strides of a
/// slice's rows and columns.
pub struct Operand<'a> {
    pub data: &'a CudaStorage,
    pub starts: &'a [usize],
    pub row_stride: usize,
    pub col_stride: usize,
}

/// `FaProblem` of `attention_mma.cu`, field for field: the operands and sizes in one argument.
#[repr(C)]
#[derive(Clone, Copy)]
struct KernelProblem {
    operands: [KernelOperand; 4],
    has_mask: i32,
    lq: i32,
    lk: i32,
    d: i32,
    dv: i32,
    causal: i32,
    scale: f32,
}

// SAFETY: plain `repr(C)` data laid out as the C++ struct.
unsafe impl DeviceRepr for KernelProblem {}

/// The operands as the kernels take them; `_starts` keeps the uploaded offsets alive until the
/// launches are queued (freeing them is ordered after the kernels on the stream).
struct Prepared {
    operands: [KernelOperand; 4],
    has_mask: i32,
    _starts: Vec<CudaSlice<i64>>,
}

impl Prepared {
    fn problem(&self, dims: &AttentionDims) -> KernelProblem {
        KernelProblem {
            operands: self.operands,
            has_mask: self.has_mask,
            lq: dims.lq as i32,
            lk: dims.lk as i32,
            d: dims.d as i32,
            dv: dims.dv as i32,
            causal: dims.causal as i32,
            scale: dims.scale,
        }
    }
}

fn prepare(g: &Gpu, operands: [Option<&Operand>; 4]) -> Result<Prepared> {
    let mut kernel = [KernelOperand {
        data: 0,
        starts: 0,
        row_stride: 0,
        col_stride: 0,
    }; 4];
    let mut kept = Vec::new();
    for (slot, operand) in kernel.iter_mut().zip(operands) {
        let Some(o) = operand else { continue };
        let starts: Vec<i64> = o.starts.iter().map(|&s| s as i64).collect();
        let uploaded = super::staging::upload(g, &starts)?;
        *slot = KernelOperand {
            data: o.data.f32s(OP)?.device_ptr(&g.stream).0,
            starts: uploaded.device_ptr(&g.stream).0,
            row_stride: o.row_stride as i64,
            col_stride: o.col_stride as i64,
        };
        kept.push(uploaded);
    }
    Ok(Prepared {
        operands: kernel,
        has_mask: operands[3].is_some() as i32,
        _starts: kept,
    })
}

fn check(dims: &AttentionDims) -> Result<()> {
    if dims.d > FLASH_MAX_HEAD || dims.dv > FLASH_MAX_HEAD || dims.slices > FLASH_MAX_SLICES {
        return Err(Error::NotImplemented(format!(
            "{OP} on CUDA: head dims up to {FLASH_MAX_HEAD} and up to {FLASH_MAX_SLICES} \
             slices, got d = {}, dv = {} and {} slices",
            dims.d, dims.dv, dims.slices
        )));
    }
    Ok(())
}

/// Blocks of `rows` rows (`threads_per_row` threads each) over `tiles_over` rows per slice.
fn grid(tiles_over: usize, rows: usize, threads_per_row: usize, slices: usize) -> LaunchConfig {
    LaunchConfig {
        grid_dim: (tiles_over.div_ceil(rows) as u32, slices as u32, 1),
        block_dim: ((rows * threads_per_row) as u32, 1, 1),
        shared_mem_bytes: 0,
    }
}

/// The output [slices, lq, dv] and each query row's log-sum-exp [slices, lq].
pub fn forward(
    q: &Operand,
    k: &Operand,
    v: &Operand,
    mask: Option<&Operand>,
    dims: AttentionDims,
    products: Products,
) -> Result<(CudaStorage, CudaStorage)> {
    check(&dims)?;
    let g = q.data.gpu()?;
    let mut out = empty::<f32>(&g, dims.slices * dims.lq * dims.dv)?;
    let mut lse = empty::<f32>(&g, dims.slices * dims.lq)?;
    let p = prepare(&g, [Some(q), Some(k), Some(v), mask])?;
    if let Some(suffix) = products.tensor_core_suffix(&g) {
        let tiles = tensor_core_tiles(&dims);
        let kernel = format!("flash_attention_forward_{suffix}_d{}", tiles.head);
        let f = g.function("attention_mma.cu", &kernel)?;
        let problem = p.problem(&dims);
        let mut b = g.stream.launch_builder(&f);
        b.arg(&mut out).arg(&mut lse).arg(&problem);
        // SAFETY: as below.
        unsafe { b.launch(grid(dims.lq, tiles.forward, 2, dims.slices)) }
            .map_err(|e| launch_error(&kernel, e))?;
        return Ok((CudaStorage::F32(out), CudaStorage::F32(lse)));
    }
    let kernel = "flash_attention_forward_f32";
    let f = g.function("attention.cu", kernel)?;
    let (lq, lk, d, dv) = (
        dims.lq as i32,
        dims.lk as i32,
        dims.d as i32,
        dims.dv as i32,
    );
    let causal = dims.causal as i32;
    let mut b = g.stream.launch_builder(&f);
    b.arg(&mut out).arg(&mut lse);
    for o in &p.operands {
        b.arg(o);
    }
    b.arg(&p.has_mask)
        .arg(&lq)
        .arg(&lk)
        .arg(&d)
        .arg(&dv)
        .arg(&dims.scale)
        .arg(&causal);
    // SAFETY: every slice's rows and columns lie inside their operands' buffers (the op checked
    // the layouts), and the outputs hold slices * lq rows.
    unsafe { b.launch(grid(dims.lq, FORWARD_ROWS, LANES, dims.slices)) }
        .map_err(|e| launch_error(kernel, e))?;
    Ok((CudaStorage::F32(out), CudaStorage::F32(lse)))
}

/// The gradients of q [slices, lq, d], k [slices, lk, d] and v [slices, lk, dv] from the
/// output's gradient `dout` and `delta` = rowsum(dout * out) [slices, lq] (both contiguous) and
/// the forward pass's log-sum-exp.
#[allow(clippy::too_many_arguments)]
pub fn backward(
    q: &Operand,
    k: &Operand,
    v: &Operand,
    mask: Option<&Operand>,
    dims: AttentionDims,
    products: Products,
    lse: &CudaStorage,
    delta: &CudaStorage,
    dout: &CudaStorage,
) -> Result<[CudaStorage; 3]> {
    check(&dims)?;
    let g = q.data.gpu()?;
    let mut dq = empty::<f32>(&g, dims.slices * dims.lq * dims.d)?;
    let mut dk = empty::<f32>(&g, dims.slices * dims.lk * dims.d)?;
    let mut dv = empty::<f32>(&g, dims.slices * dims.lk * dims.dv)?;
    let p = prepare(&g, [Some(q), Some(k), Some(v), mask])?;
    let args = BackwardArgs {
        lse: lse.f32s(OP)?,
        delta: delta.f32s(OP)?,
        dout: dout.f32s(OP)?,
        prepared: &p,
        dims: &dims,
    };
    let (dq_cfg, dkv_cfg, suffix) = if let Some(suffix) = products.tensor_core_suffix(&g) {
        let tiles = tensor_core_tiles(&dims);
        (
            grid(dims.lq, tiles.dq, 2, dims.slices),
            grid(dims.lk, tiles.dkv, 2, dims.slices),
            Some((suffix, tiles.head)),
        )
    } else {
        (
            grid(dims.lq, BACKWARD_ROWS, LANES, dims.slices),
            grid(dims.lk, BACKWARD_ROWS, LANES, dims.slices),
            None,
        )
    };
    // SAFETY (both): as in `forward`; dq holds slices * lq rows of d, dk and dv slices * lk rows
    // of d and dv.
    unsafe {
        args.launch(
            &g,
            "flash_attention_backward_dq",
            suffix,
            &mut [&mut dq],
            dq_cfg,
        )?;
        args.launch(
            &g,
            "flash_attention_backward_dkv",
            suffix,
            &mut [&mut dk, &mut dv],
            dkv_cfg,
        )?;
    }
    Ok([
        CudaStorage::F32(dq),
        CudaStorage::F32(dk),
        CudaStorage::F32(dv),
    ])
}

/// The arguments the two backward kernels share, after their outputs.
struct BackwardArgs<'a> {
    lse: &'a CudaSlice<f32>,
    delta: &'a CudaSlice<f32>,
    dout: &'a CudaSlice<f32>,
    prepared: &'a Prepared,
    dims: &'a AttentionDims,
}

impl BackwardArgs<'_> {
    /// Launches `base` (outputs..., shared arguments...): the f32 kernel, or with
    /// `tensor_cores` = (suffix, head) the bf16 or f16 one built for that head dim.
    ///
    /// # Safety
    /// The outputs must be large enough for what the kernel writes.
    unsafe fn launch(
        &self,
        g: &Gpu,
        base: &str,
        tensor_cores: Option<(&str, usize)>,
        outputs: &mut [&mut CudaSlice<f32>],
        cfg: LaunchConfig,
    ) -> Result<()> {
        let (file, kernel) = match tensor_cores {
            Some((suffix, head)) => ("attention_mma.cu", format!("{base}_{suffix}_d{head}")),
            None => ("attention.cu", format!("{base}_f32")),
        };
        let f = g.function(file, &kernel)?;
        let mut b = g.stream.launch_builder(&f);
        for o in outputs.iter_mut() {
            b.arg(&mut **o);
        }
        b.arg(self.lse).arg(self.delta).arg(self.dout);
        let problem = self.prepared.problem(self.dims);
        let d = self.dims;
        let sizes = [d.lq as i32, d.lk as i32, d.d as i32, d.dv as i32];
        let causal = d.causal as i32;
        if tensor_cores.is_some() {
            b.arg(&problem);
        } else {
            for o in &self.prepared.operands {
                b.arg(o);
            }
            b.arg(&self.prepared.has_mask);
            for s in &sizes {
                b.arg(s);
            }
            b.arg(&d.scale).arg(&causal);
        }
        // SAFETY: forwarded from the caller.
        unsafe { b.launch(cfg) }.map_err(|e| launch_error(&kernel, e))?;
        Ok(())
    }
}
