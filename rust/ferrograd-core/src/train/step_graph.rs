//! `fit`'s forward and backward passes as CUDA graphs.
//!
//! A small model's training step is a few dozen short kernels, and launching them costs more host
//! time than the device spends running them. When a batch's shapes repeat, the step is captured
//! once into a graph and then replayed with one launch per batch:
//!
//! 1. The first batch of a shape runs eagerly (it compiles the kernels and creates the optimizer's
//!    state).
//! 2. The second is captured: the forward pass on fixed input buffers, the loss, the backward pass,
//!    the accuracy count, and copies of the loss, the count and every parameter's gradient into
//!    fixed buffers. Everything else the capture allocates is freed inside it, so the graph owns
//!    that memory. The graph then runs once for that batch.
//! 3. Each later batch of the shape is copied into the input buffers and the graph replayed.
//!
//! The optimizer step, clipping, schedules and weight averaging run after the graph, as in an
//! eager step, on the gradients the graph left. Dropout draws fresh masks on every replay (see
//! `cuda/graph.rs`). Work that cannot be replayed (reading a value back, host tensors copied in)
//! makes the capture fail with a reason; the epoch then goes on eagerly and reports it.

use super::objective::{count_correct_on_device, Objective};
use crate::cuda::graph::{capture, StepGraph};
use crate::nn::{Module, TensorRole};
use crate::{DType, Result, Tensor};

/// The shapes and dtypes of a batch's inputs and labels.
type Shapes = (Vec<usize>, DType, Vec<usize>, DType);

/// A captured step and the fixed buffers it reads and writes.
struct Captured {
    shapes: Shapes,
    graph: StepGraph,
    inputs: Tensor,
    labels: Tensor,
    loss: Tensor,
    correct: Option<Tensor>,
    /// The parameters the backward pass reached, each with the buffer its gradient is copied to.
    grads: Vec<(Tensor, Tensor)>,
}

/// What a graphed step leaves for the loop: fresh device copies of the loss and the count.
pub struct GraphedOutputs {
    pub loss: Tensor,
    pub correct: Option<Tensor>,
}

/// The graphs of one epoch, one per batch shape seen twice.
#[derive(Default)]
pub struct StepGraphs {
    warmed: Vec<Shapes>,
    captured: Vec<Captured>,
    /// Why the epoch stopped using graphs (the first capture or replay that failed).
    pub off: Option<String>,
}

impl StepGraphs {
    /// Runs the forward and backward passes of `(x, y)` through a graph, leaving the gradients on
    /// `params`. `Ok(None)` asks the caller to run the batch eagerly: the first batch of a shape,
    /// or any batch once a capture has failed.
    pub fn run(
        &mut self,
        model: &dyn Module,
        objective: &dyn Objective,
        params: &[Tensor],
        x: &Tensor,
        y: &Tensor,
    ) -> Result<Option<GraphedOutputs>> {
        if self.off.is_some() {
            return Ok(None);
        }
        let shapes = (x.shape().to_vec(), x.dtype(), y.shape().to_vec(), y.dtype());
        let attempt = match self.captured.iter().position(|c| c.shapes == shapes) {
            Some(i) => self.captured[i].replay(x, y),
            None if !self.warmed.contains(&shapes) => {
                self.warmed.push(shapes);
                return Ok(None);
            }
            None => Captured::capture(model, objective, params, x, y, shapes).and_then(|c| {
                let outputs = c.outputs()?;
                self.captured.push(c);
                Ok(outputs)
            }),
        };
        match attempt {
            Ok(outputs) => Ok(Some(outputs)),
            // Nothing of a failed capture or launch ran: the batch runs eagerly instead.
            Err(reason) => {
                self.captured.clear();
                for p in params {
                    p.set_grad(None);
                }
                if let crate::Device::Cuda(ordinal) = x.device() {
                    crate::cuda::graph::forget_abandoned_capture(ordinal)?;
                }
                self.off = Some(reason.to_string());
                Ok(None)
            }
        }
    }
}

impl Captured {
    /// Captures the step on fixed copies of `x` and `y` and runs it once.
    fn capture(
        model: &dyn Module,
        objective: &dyn Objective,
        params: &[Tensor],
        x: &Tensor,
        y: &Tensor,
        shapes: Shapes,
    ) -> Result<Captured> {
        let device = x.device();
        let crate::Device::Cuda(ordinal) = device else {
            return Err(crate::Error::Device(format!(
                "CUDA graphs: the batch is on {device}, not a GPU"
            )));
        };
        // A trainable parameter the optimizer does not hold would keep its gradient, allocated by
        // the graph, past the graph: the driver then refuses the next replay.
        let mut outside = None;
        model.visit("", &mut |name, t, role| {
            let held = params.iter().any(|p| p.id() == t.id());
            if role == TensorRole::Parameter && t.requires_grad() && !held && outside.is_none() {
                outside = Some(name);
            }
        });
        if let Some(name) = outside {
            return Err(crate::Error::Device(format!(
                "CUDA graphs: parameter `{name}` requires grad but is not in the optimizer"
            )));
        }
        // Everything the graph reads or writes outside itself is allocated before the capture.
        let inputs = x.deep_clone()?;
        let labels = y.deep_clone()?;
        let loss = Tensor::zeros(&[], DType::F32, device)?;
        let count = Tensor::zeros(&[], DType::F32, device)?;
        let buffers = params
            .iter()
            .map(|p| p.zeros_like())
            .collect::<Result<Vec<_>>>()?;
        for p in params {
            p.set_grad(None);
        }
        let (graph, (counted, reached)) = capture(ordinal, || {
            let output = model.forward(&inputs)?;
            let value = objective.loss(&output, &labels)?;
            value.backward(None)?;
            let correct = count_correct_on_device(&output.detach(), &labels)?;
            loss.assign(&value.detach().reshape(&[])?)?;
            if let Some(c) = &correct {
                count.assign(c)?;
            }
            let mut reached = Vec::new();
            for (i, (p, buffer)) in params.iter().zip(&buffers).enumerate() {
                if let Some(g) = p.grad() {
                    buffer.assign(&g)?;
                    reached.push(i);
                }
                // The graph's own gradient buffer is freed inside the capture.
                p.set_grad(None);
            }
            Ok((correct.is_some(), reached))
        })?;
        graph.replay()?;
        let grads = reached
            .into_iter()
            .map(|i| (params[i].clone(), buffers[i].clone()))
            .collect();
        Ok(Captured {
            shapes,
            graph,
            inputs,
            labels,
            loss,
            correct: counted.then_some(count),
            grads,
        })
    }

    /// Copies the batch into the fixed inputs and replays the step.
    fn replay(&self, x: &Tensor, y: &Tensor) -> Result<GraphedOutputs> {
        self.inputs.assign(x)?;
        self.labels.assign(y)?;
        self.graph.replay()?;
        self.outputs()
    }

    /// Hands the replayed step's gradients to the parameters and copies out its loss and count.
    fn outputs(&self) -> Result<GraphedOutputs> {
        for (p, g) in &self.grads {
            p.set_grad(Some(g.clone()));
        }
        Ok(GraphedOutputs {
            loss: self.loss.deep_clone()?,
            correct: self.correct.as_ref().map(Tensor::deep_clone).transpose()?,
        })
    }
}
