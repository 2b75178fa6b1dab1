//! Inference over a dataset: every output row, the labels and the mean loss.

use super::objective::Objective;
use crate::data::Batch;
use crate::nn::Module;
use crate::{NoGradGuard, Result};

/// The outputs of a model over a dataset, in dataset order.
#[derive(Clone, Debug, Default)]
pub struct Predictions {
    /// Row-major outputs of shape `shape`.
    pub outputs: Vec<f32>,
    pub shape: Vec<usize>,
    pub labels: Vec<i64>,
    /// Mean loss over the samples (0 without an objective).
    pub loss: f64,
}

/// Runs `model` without autograd over `total` batches; `on_batch(done)` runs after each batch and
/// may stop the loop by returning an error.
pub fn predict_epoch(
    model: &dyn Module,
    batches: &mut dyn Iterator<Item = Result<Batch>>,
    total: usize,
    objective: Option<&dyn Objective>,
    on_batch: &mut dyn FnMut(usize) -> Result<()>,
) -> Result<Predictions> {
    let _guard = NoGradGuard::new();
    let mut out = Predictions::default();
    let mut loss_sum = 0.0f64;
    for (i, batch) in (&mut *batches).take(total).enumerate() {
        let batch = batch?;
        let n = batch.labels.len();
        out.labels.extend_from_slice(&batch.labels);
        let (x, y) = batch.into_tensors()?;
        let y_hat = model.forward(&x)?.contiguous()?;
        if let Some(obj) = objective {
            loss_sum += obj.loss(&y_hat, &y)?.item()? * n as f64;
        }
        if out.shape.is_empty() {
            out.shape = y_hat.shape().to_vec();
            out.shape[0] = 0;
        }
        crate::ensure_shape!(
            y_hat.shape()[1..] == out.shape[1..],
            "predict",
            "the model's output shape changed between batches: {:?} then {:?}",
            out.shape,
            y_hat.shape()
        );
        out.shape[0] += y_hat.shape()[0];
        y_hat.with_f32_slice("predict", |v| out.outputs.extend_from_slice(v))?;
        on_batch(i + 1)?;
    }
    if !out.labels.is_empty() {
        out.loss = loss_sum / out.labels.len() as f64;
    }
    Ok(out)
}
