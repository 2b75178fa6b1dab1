//! CUDA graphs: a fixed-shape piece of work (a training step's forward and backward pass, an
//! attack step) is captured once from the device's stream and then replayed with one launch, which
//! removes the per-kernel launch cost that dominates small steps.
//!
//! A replay repeats the captured kernels with the captured arguments and buffer addresses, so the
//! captured code must not depend on anything else that changes between steps. While a capture is
//! open on this thread, the operations that would break that raise instead of running
//! ([`refuse_in_capture`]): reading a device value back (nothing has run yet), synchronising, and
//! copying a host tensor to the device (the host values would be frozen). The caller then abandons
//! the capture and runs the work without a graph. Constant tables that ops upload (pooling
//! windows, attention offsets; they depend only on shapes) are copied from pinned buffers that the
//! graph keeps.
//!
//! Random numbers stay fresh: the random kernels add a device-resident block shift to the stream
//! offset they were launched with (zero outside graphs). A capture notes the span of the global
//! generator's stream its draws claimed; each later replay claims a new span of that length and
//! writes its distance from the captured one into the shift first. A replayed step thus draws
//! exactly the numbers the same step run eagerly would.
//!
//! Memory that the captured work allocates and frees becomes the graph's own (fixed addresses on
//! every replay); memory allocated before the capture must outlive the graph, and must not be freed
//! inside the capture (the driver refuses, and the capture fails).

use std::cell::{Cell, RefCell};
use std::sync::Arc;

use cudarc::driver::sys::{CUgraphInstantiate_flags, CUstreamCaptureMode};
use cudarc::driver::{CudaGraph, CudaSlice, DevicePtr, PinnedHostSlice, PushKernelArg};

use super::launch::{grid_for, launch_error};
use super::runtime::{driver_error, gpu, Gpu};
use crate::{Error, Result};

/// Host buffers a graph's copy nodes read on every replay.
type Kept = Vec<Box<dyn std::any::Any + Send>>;

/// The span of the global generator's stream that a capture's draws claimed.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Draws {
    seed: u64,
    start: u64,
    end: u64,
}

/// The capture open on a thread.
struct OpenCapture {
    /// Device address of the random kernels' block shift.
    shift: u64,
    kept: Kept,
    draws: Option<Draws>,
}

thread_local! {
    static CAPTURE: RefCell<Option<OpenCapture>> = const { RefCell::new(None) };
}

/// Whether a capture is open on this thread.
pub fn capturing() -> bool {
    CAPTURE.with(|c| c.borrow().is_some())
}

/// An error naming `what` when a capture is open on this thread: `what` cannot be part of a graph.
pub(crate) fn refuse_in_capture(what: &str) -> Result<()> {
    if !capturing() {
        return Ok(());
    }
    Err(Error::Device(format!(
        "CUDA graph capture: {what} cannot be captured (a replay would repeat the captured \
         values instead of computing new ones)"
    )))
}

/// Notes that a random kernel claimed `[start, start + len)` of the stream of `seed`; called by
/// every device draw. Inside a capture the span grows to cover it (a second seed is refused).
pub(crate) fn note_random_draw(seed: u64, start: u64, len: u64) -> Result<()> {
    CAPTURE.with(|c| {
        let mut c = c.borrow_mut();
        let Some(open) = c.as_mut() else {
            return Ok(());
        };
        let end = start + len;
        open.draws = match open.draws {
            None => Some(Draws { seed, start, end }),
            Some(d) if d.seed == seed => Some(Draws {
                end: d.end.max(end),
                ..d
            }),
            Some(_) => {
                return Err(Error::Device(
                    "CUDA graph capture: the generator was reseeded inside the captured work"
                        .into(),
                ))
            }
        };
        Ok(())
    })
}

/// The device address of the block shift the random kernels add to their offset: the open
/// capture's, or 0 (no shift) outside a capture.
pub(crate) fn random_shift() -> u64 {
    CAPTURE.with(|c| c.borrow().as_ref().map_or(0, |open| open.shift))
}

/// During a capture, a device copy of the constant `v` read from a pinned buffer that the graph
/// keeps (so every replay copies the same values); `None` when no capture is open.
pub(crate) fn upload_constant<T: super::storage::CudaElement>(
    g: &Gpu,
    v: &[T],
) -> Result<Option<CudaSlice<T>>> {
    if !capturing() {
        return Ok(None);
    }
    let bytes = std::mem::size_of_val(v);
    // SAFETY: the buffer is filled below before the copy reads it.
    let mut host: PinnedHostSlice<T> = unsafe { g.ctx.alloc_pinned::<T>(v.len()) }
        .map_err(|e| driver_error(&format!("pinning {bytes} bytes of host memory"), e))?;
    host.as_mut_slice()
        .map_err(|e| driver_error("writing a pinned buffer", e))?
        .copy_from_slice(v);
    let dst = super::storage::empty::<T>(g, v.len())?;
    {
        let src = host
            .as_slice()
            .map_err(|e| driver_error("reading a pinned buffer", e))?;
        let (ptr, _sync) = dst.device_ptr(&g.stream);
        // SAFETY: `dst` holds `v.len()` elements and `src` stays alive as long as the graph (it is
        // kept below); the copy is recorded into the capture, not run now.
        unsafe { cudarc::driver::result::memcpy_htod_async(ptr, src, g.stream.cu_stream()) }
            .map_err(|e| driver_error("recording a constant upload", e))?;
    }
    CAPTURE.with(|c| {
        if let Some(open) = c.borrow_mut().as_mut() {
            open.kept.push(Box::new(host));
        }
    });
    Ok(Some(dst))
}

/// A captured graph, ready to replay on its device's stream.
pub struct StepGraph {
    graph: CudaGraph,
    gpu: Arc<Gpu>,
    /// The random kernels' block shift and the stream span the capture's draws claimed.
    shift: CudaSlice<i64>,
    draws: Option<Draws>,
    /// Whether the graph has run: its first run draws the numbers the capture claimed.
    launched: Cell<bool>,
    /// Declared after `graph`, so the graph is destroyed before the buffers it reads are freed.
    _kept: Kept,
}

impl StepGraph {
    /// Queues one run of the captured work (no host synchronisation).
    pub fn replay(&self) -> Result<()> {
        if let Some(d) = self.draws {
            let blocks = match self.launched.replace(true) {
                false => 0,
                true => {
                    let start = crate::rng::with_global(|r| {
                        (r.seed == d.seed).then(|| r.reserve((d.end - d.start) as usize))
                    })
                    .ok_or_else(|| {
                        Error::Device(
                            "CUDA graph replay: the generator was reseeded since the capture"
                                .into(),
                        )
                    })?;
                    // In blocks, modulo 2^64 as the kernels add it (a reseed to the same seed
                    // moves the offset back).
                    (start / 4).wrapping_sub(d.start / 4)
                }
            };
            self.set_shift(blocks as i64)?;
        }
        // Captured index checks write the fault slot again: read it at the next synchronisation.
        self.gpu.faults.arm();
        self.graph
            .launch()
            .map_err(|e| driver_error("launching a CUDA graph", e))
    }

    /// Writes the block shift the next run's random kernels add (queued before the graph).
    fn set_shift(&self, blocks: i64) -> Result<()> {
        let g = &self.gpu;
        let f = g.function("copy.cu", "fill_i64")?;
        let one = 1i64;
        let mut b = g.stream.launch_builder(&f);
        b.arg(&self.shift).arg(&one).arg(&blocks);
        // SAFETY: the shift buffer holds one element.
        unsafe { b.launch(grid_for(1)) }.map_err(|e| launch_error("fill", e))?;
        Ok(())
    }
}

impl Drop for StepGraph {
    fn drop(&mut self) {
        // The driver frees a graph that is still running when it finishes, and the graph's own
        // memory with it, but a queued replay may still read the kept pinned buffers: only then
        // wait for it.
        if !self._kept.is_empty() {
            self.gpu.ctx.record_err(self.gpu.stream.synchronize());
        }
    }
}

/// Captures the device work that `work` queues on device `ordinal` into a graph, without running
/// it. Returns the graph and `work`'s result, or the reason the work cannot be captured (the error
/// `work` returned, or the driver's); either way the device is left usable, with nothing of the
/// capture run.
pub fn capture<R>(ordinal: usize, work: impl FnOnce() -> Result<R>) -> Result<(StepGraph, R)> {
    let g = gpu(ordinal)?;
    if capturing() {
        return Err(Error::Device(
            "CUDA graph capture: a capture is already open on this thread".into(),
        ));
    }
    // An error left over from earlier asynchronous work must not be blamed on the capture.
    g.ctx
        .check_err()
        .map_err(|e| driver_error("an earlier operation", e))?;
    let shift = super::storage::zeros::<i64>(&g, 1)?;
    let shift_address = shift.device_ptr(&g.stream).0;
    // Relaxed mode: cuBLAS may set up workspace memory on its first call inside the capture.
    g.stream
        .begin_capture(CUstreamCaptureMode::CU_STREAM_CAPTURE_MODE_RELAXED)
        .map_err(|e| driver_error("beginning a graph capture", e))?;
    CAPTURE.with(|c| {
        *c.borrow_mut() = Some(OpenCapture {
            shift: shift_address,
            kept: Vec::new(),
            draws: None,
        })
    });
    let outcome = work();
    let open = CAPTURE.with(|c| c.borrow_mut().take());
    // A free of memory the capture does not own fails into cudarc's error slot, and every cudarc
    // call returns a pending error before doing anything: take it first, or `end_capture` would
    // return it without ending the capture, leaving the stream capturing.
    let recorded = g.ctx.check_err();
    let ended = g.stream.end_capture(CUgraphInstantiate_flags(0));
    if ended.is_err() {
        end_open_capture(&g);
    }
    let result = outcome?;
    let graph = ended
        .map_err(|e| driver_error("ending a graph capture", e))?
        .ok_or_else(|| Error::Device("CUDA graph capture: nothing was captured".into()))?;
    recorded.map_err(|e| driver_error("an operation inside the graph capture", e))?;
    let (kept, draws) = open.map_or((Vec::new(), None), |o| (o.kept, o.draws));
    Ok((
        StepGraph {
            graph,
            gpu: g,
            shift,
            draws,
            launched: Cell::new(false),
            _kept: kept,
        },
        result,
    ))
}

/// Ends a capture that `end_capture` left open (it returns an error pending in cudarc's slot
/// before reaching the driver), discarding its graph, so the stream runs work again.
fn end_open_capture(g: &Gpu) {
    use cudarc::driver::{result, sys::CUstreamCaptureStatus};
    let stream = g.stream.cu_stream();
    // SAFETY: the stream belongs to the device's live context, current on this thread since the
    // capture began; a graph the driver hands back is destroyed once and not used.
    unsafe {
        if let Ok(CUstreamCaptureStatus::CU_STREAM_CAPTURE_STATUS_NONE) | Err(_) =
            result::stream::is_capturing(stream)
        {
            return;
        }
        if let Ok(graph) = result::stream::end_capture(stream) {
            if !graph.is_null() {
                let _ = result::graph::destroy(graph);
            }
        }
    }
}

/// Clears the errors that freeing an abandoned capture's buffers left in device `ordinal`'s error
/// slot (its memory belonged to a graph that was never built), so the next operation does not
/// report them.
pub fn forget_abandoned_capture(ordinal: usize) -> Result<()> {
    let _ = gpu(ordinal)?.ctx.check_err();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Device, Tensor};

    /// Runs `f` as if a capture were open on this thread (no GPU needed: the guards and the
    /// bookkeeping run before any driver call); returns its result and the draws it noted.
    fn as_if_capturing<R>(f: impl FnOnce() -> R) -> (R, Option<Draws>) {
        CAPTURE.with(|c| {
            *c.borrow_mut() = Some(OpenCapture {
                shift: 0xABC0,
                kept: Vec::new(),
                draws: None,
            })
        });
        let r = f();
        let open = CAPTURE.with(|c| c.borrow_mut().take());
        (r, open.and_then(|o| o.draws))
    }

    fn message<T>(r: Result<T>) -> String {
        match r {
            Ok(_) => "no error".into(),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn a_capture_notes_the_stream_span_its_draws_claim() {
        let ((shift, first, second), draws) = as_if_capturing(|| {
            (
                random_shift(),
                note_random_draw(7, 100, 8),
                note_random_draw(7, 108, 12),
            )
        });
        assert_eq!(shift, 0xABC0);
        assert!(first.is_ok() && second.is_ok());
        let expected = Draws {
            seed: 7,
            start: 100,
            end: 120,
        };
        assert_eq!(draws, Some(expected));
        let (reseeded, _) =
            as_if_capturing(|| note_random_draw(7, 0, 4).and_then(|_| note_random_draw(8, 4, 4)));
        assert!(message(reseeded).contains("reseeded"));
        // Outside a capture nothing is noted and no shift applies.
        assert!(note_random_draw(9, 0, 4).is_ok());
        assert_eq!(random_shift(), 0);
        assert!(!capturing());
    }

    #[test]
    fn a_capture_refuses_host_tensors_reads_and_synchronisation() {
        let host = Tensor::from_vec(vec![1.0f32, 2.0], &[2]).unwrap();
        let (copied, _) = as_if_capturing(|| message(host.to_device(Device::Cuda(0))));
        assert!(
            copied.contains("copying a host tensor to the GPU"),
            "{copied}"
        );
        assert!(copied.contains("CUDA graph capture"), "{copied}");
        let (refused, _) = as_if_capturing(|| {
            capturing() && refuse_in_capture("synchronising with the GPU").is_err()
        });
        assert!(refused);
        // Outside a capture nothing is refused.
        assert!(refuse_in_capture("anything").is_ok());
    }
}
