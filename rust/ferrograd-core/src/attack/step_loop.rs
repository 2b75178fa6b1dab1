//! An attack's fixed-shape iterations replayed as a CUDA graph. Each PGD step is a forward and a
//! backward pass through the model plus a few elementwise ops: dozens of short kernels whose
//! launches cost more host time than the device spends on them. On a GPU the first step runs
//! eagerly (it compiles the kernels), the second is captured, writing its result over the iterate
//! in place, and the graph is replayed for the rest; a randomised model (EOT) draws fresh numbers
//! on every replay. A step that cannot be replayed (an op reading a value back) runs eagerly
//! instead, with the same result.

use crate::cuda::graph::{capture, forget_abandoned_capture};
use crate::{Device, Result, Tensor};

/// `iterate` after `steps` applications of `step`, replayed as a CUDA graph when `graphs` allows
/// it and the iterate lives on a GPU. `step` must not change anything but its result between
/// calls (no state carried from one step to the next).
pub(super) fn repeat_steps(
    iterate: Tensor,
    steps: usize,
    graphs: bool,
    step: impl Fn(&Tensor) -> Result<Tensor>,
) -> Result<Tensor> {
    let ordinal = match iterate.device() {
        Device::Cuda(ordinal) if graphs && steps >= 3 => ordinal,
        _ => return (0..steps).try_fold(iterate, |x, _| step(&x)),
    };
    // The eager first step's result is a buffer of its own: the graph updates it in place.
    let current = step(&iterate)?;
    let captured = capture(ordinal, || current.assign(&step(&current)?));
    match captured {
        Ok((graph, ())) => {
            for _ in 1..steps {
                graph.replay()?;
            }
            Ok(current)
        }
        Err(_) => {
            forget_abandoned_capture(ordinal)?;
            (1..steps).try_fold(current, |x, _| step(&x))
        }
    }
}
