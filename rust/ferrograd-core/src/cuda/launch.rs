//! What every launch needs: the layout argument shared with `kernels/common.cuh` and grid sizes.

use cudarc::driver::{DeviceRepr, LaunchConfig};

use crate::{Error, Layout, Result};

/// Most dimensions a kernel's layout argument carries (`FG_MAX_DIMS` in `common.cuh`).
pub const MAX_DIMS: usize = 8;

/// `StridedLayout` of `common.cuh`, field for field.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct KernelLayout {
    shape: [i64; MAX_DIMS],
    strides: [i64; MAX_DIMS],
    offset: i64,
    ndim: i32,
    contiguous: i32,
}

// SAFETY: plain `repr(C)` data with the same layout as the C++ struct.
unsafe impl DeviceRepr for KernelLayout {}

impl KernelLayout {
    /// The kernel view of `layout`; `op` names the caller in the error for more than 8 dims.
    pub fn new(op: &str, layout: &Layout) -> Result<KernelLayout> {
        if layout.rank() > MAX_DIMS {
            return Err(Error::NotImplemented(format!(
                "{op} on CUDA: at most {MAX_DIMS} dimensions, got shape {:?}",
                layout.shape()
            )));
        }
        let mut k = KernelLayout {
            shape: [1; MAX_DIMS],
            strides: [0; MAX_DIMS],
            offset: layout.offset() as i64,
            ndim: layout.rank() as i32,
            contiguous: layout.is_contiguous() as i32,
        };
        for (d, (&n, &s)) in layout.shape().iter().zip(layout.strides()).enumerate() {
            k.shape[d] = n as i64;
            k.strides[d] = s as i64;
        }
        Ok(k)
    }
}

/// Threads per block of the elementwise kernels.
pub const BLOCK: u32 = 256;

/// A 1-D grid covering `n` elements with grid-stride loops (capped: each thread loops).
pub fn grid_for(n: usize) -> LaunchConfig {
    let blocks = n.div_ceil(BLOCK as usize).clamp(1, 65_535 * 8) as u32;
    LaunchConfig {
        grid_dim: (blocks, 1, 1),
        block_dim: (BLOCK, 1, 1),
        shared_mem_bytes: 0,
    }
}

/// Blocks that keep an H100/H200 busy: two per multiprocessor (132 of them). Kernels that split a
/// few long rows or channels into parts aim for this many blocks in all.
pub const BUSY_BLOCKS: usize = 264;

/// The grid for kernels giving each thread four consecutive elements (`FG_FOR_EACH4`).
pub fn grid_for4(n: usize) -> LaunchConfig {
    grid_for(n.div_ceil(4))
}

/// One block of `threads` per row, for row-wise kernels (reductions, softmax).
pub fn rows_grid(rows: usize, threads: u32) -> LaunchConfig {
    LaunchConfig {
        grid_dim: (rows.max(1) as u32, 1, 1),
        block_dim: (threads, 1, 1),
        shared_mem_bytes: 0,
    }
}

pub(crate) fn launch_error(kernel: &str, e: impl std::fmt::Debug) -> Error {
    Error::Device(format!("CUDA: launching {kernel} failed: {e:?}"))
}
