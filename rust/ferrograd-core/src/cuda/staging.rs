//! Uploads through pinned (page-locked) host buffers. A copy from pageable memory makes the driver
//! wait for the stream before it starts, so each batch upload would wait for the previous step to
//! finish; staged through pinned memory it is queued like a kernel and the host runs ahead. Buffers
//! are kept per element type and length (a training loop's batches come in one or two lengths) and
//! reused once the copy that last read them has finished: each has an event recorded after its copy
//! (cudarc's own tracking is off, see `runtime.rs`).

use std::sync::{Mutex, MutexGuard};

use cudarc::driver::{CudaEvent, CudaSlice, PinnedHostSlice};

use super::runtime::{driver_error, Gpu};
use super::storage::{alloc_error, empty, CudaElement};
use crate::{Error, Result};

/// Below this many bytes the driver's own staging costs no more.
const SMALL_BYTES: usize = 64 * 1024;
/// Pinned buffers kept per element type.
const KEPT: usize = 4;

/// A pinned buffer and the event marking the end of the last copy from it.
pub struct Staged<T> {
    host: PinnedHostSlice<T>,
    copied: CudaEvent,
}

/// The pinned buffers of one device, per element type.
#[derive(Default)]
pub struct Staging {
    pub f32: Mutex<Vec<Staged<f32>>>,
    pub i64: Mutex<Vec<Staged<i64>>>,
    pub i32: Mutex<Vec<Staged<i32>>>,
    pub u8: Mutex<Vec<Staged<u8>>>,
    pub bf16: Mutex<Vec<Staged<half::bf16>>>,
    pub f16: Mutex<Vec<Staged<half::f16>>>,
}

fn lock<T>(m: &Mutex<T>) -> Result<MutexGuard<'_, T>> {
    m.lock()
        .map_err(|_| Error::Device("CUDA: staging-buffer lock poisoned".into()))
}

/// A device copy of `v`, queued on the device's stream without waiting for it.
/// Inside a graph capture the copy reads a pinned buffer the graph keeps (`graph::upload_constant`):
/// callers upload constants there, such as tables derived from shapes.
pub fn upload<T: CudaElement>(g: &Gpu, v: &[T]) -> Result<CudaSlice<T>> {
    if let Some(dst) = super::graph::upload_constant(g, v)? {
        return Ok(dst);
    }
    let bytes = std::mem::size_of_val(v);
    if bytes < SMALL_BYTES {
        return g
            .stream
            .clone_htod(v)
            .map_err(|e| alloc_error(bytes, g.ordinal, e));
    }
    let mut dst = empty::<T>(g, v.len())?;
    let mut kept = lock(T::staging(&g.staging))?;
    let at = match kept.iter().position(|s| s.host.len() == v.len()) {
        Some(at) => at,
        None => {
            if kept.len() == KEPT {
                // Freeing a pinned buffer must wait for the copy still reading it.
                let oldest = kept.remove(0);
                oldest
                    .copied
                    .synchronize()
                    .map_err(|e| driver_error("waiting for an upload", e))?;
            }
            // SAFETY: the buffer is filled below before any copy reads it.
            let host = unsafe { g.ctx.alloc_pinned::<T>(v.len()) }
                .map_err(|e| driver_error(&format!("pinning {bytes} bytes of host memory"), e))?;
            let copied = g
                .ctx
                .new_event(None)
                .map_err(|e| driver_error("creating an event", e))?;
            kept.push(Staged { host, copied });
            kept.len() - 1
        }
    };
    let staged = &mut kept[at];
    // The previous copy from this buffer must have finished before it is overwritten.
    staged
        .copied
        .synchronize()
        .map_err(|e| driver_error("waiting for an upload", e))?;
    staged
        .host
        .as_mut_slice()
        .map_err(|e| driver_error("writing a pinned buffer", e))?
        .copy_from_slice(v);
    g.stream
        .memcpy_htod(&staged.host, &mut dst)
        .map_err(|e| driver_error("copying to the device", e))?;
    staged
        .copied
        .record(&g.stream)
        .map_err(|e| driver_error("recording an upload", e))?;
    Ok(dst)
}
