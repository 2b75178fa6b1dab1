//! Index checks without host waits. The indexing and cross-entropy kernels check each index
//! against its bound on the device (`fg_index_ok` in `kernels/common.cuh`) and record the first
//! bad one in a small device buffer; the host reads that buffer at its next synchronisation
//! (reading a value, `synchronize`) and raises the error there, naming the op. A training step thus
//! never stops to validate its labels, and bad input still ends in a Python exception, reported
//! when the step's results are read (as CUDA errors are in PyTorch).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use cudarc::driver::{CudaSlice, CudaStream};

use super::runtime::driver_error;
use crate::{Error, Result};

/// The ops whose kernels check indices; a fault records an op's position here plus one.
const CHECKED_OPS: [(&str, &str); 6] = [
    ("index_select", "index"),
    ("index_add", "index"),
    ("gather", "index"),
    ("scatter_add", "index"),
    ("one_hot", "labels"),
    ("cross_entropy", "target"),
];

/// The fault code a kernel launched for `op` records.
pub fn code(op: &str) -> i64 {
    CHECKED_OPS
        .iter()
        .position(|(name, _)| *name == op)
        .map_or(-1, |p| p as i64 + 1)
}

/// `{op code, index, bound}` of the first out-of-range index since the last check.
pub struct IndexFaults {
    slot: Mutex<CudaSlice<i64>>,
    /// Set when a checking kernel was queued since the slot was last read.
    armed: AtomicBool,
}

impl IndexFaults {
    pub fn new(stream: &Arc<CudaStream>) -> Result<IndexFaults> {
        let slot = stream
            .alloc_zeros::<i64>(3)
            .map_err(|e| driver_error("allocating the index-fault slot", e))?;
        Ok(IndexFaults {
            slot: Mutex::new(slot),
            armed: AtomicBool::new(false),
        })
    }

    /// Marks the slot as possibly written, for work queued without `slot` (a CUDA graph's replay
    /// of checking kernels captured earlier).
    pub fn arm(&self) {
        self.armed.store(true, Ordering::Release);
    }

    /// The slot, for a checking kernel's launch (hold the guard until the launch is queued).
    pub fn slot(&self) -> Result<MutexGuard<'_, CudaSlice<i64>>> {
        self.armed.store(true, Ordering::Release);
        self.slot
            .lock()
            .map_err(|_| Error::Device("CUDA: index-fault lock poisoned".into()))
    }

    /// The error for the first out-of-range index a kernel met since the last check, if any
    /// (and the slot cleared). Cheap when no checking kernel ran; otherwise one 24-byte read,
    /// which waits for the stream.
    pub fn take(&self, stream: &Arc<CudaStream>) -> Result<()> {
        if !self.armed.swap(false, Ordering::AcqRel) {
            return Ok(());
        }
        let mut slot = self
            .slot
            .lock()
            .map_err(|_| Error::Device("CUDA: index-fault lock poisoned".into()))?;
        let fault = stream
            .clone_dtoh(&*slot)
            .map_err(|e| driver_error("reading the index-fault slot", e))?;
        if fault[0] == 0 {
            return Ok(());
        }
        stream
            .memset_zeros(&mut *slot)
            .map_err(|e| driver_error("clearing the index-fault slot", e))?;
        let (op, arg) = usize::try_from(fault[0] - 1)
            .ok()
            .and_then(|i| CHECKED_OPS.get(i))
            .copied()
            .unwrap_or(("an indexing op", "index"));
        Err(Error::arg(
            op,
            arg,
            format!(
                "values in [0, {}) (checked on the GPU, reported at this synchronisation)",
                fault[2]
            ),
            fault[1],
        ))
    }
}
