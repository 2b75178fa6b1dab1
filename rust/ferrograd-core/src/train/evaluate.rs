//! Inference over a dataset: every output row, the labels and the mean loss.

use super::objective::Objective;
use crate::data::Batch;
use crate::nn::Module;
use crate::text::conll::IGNORE;
use crate::{Device, NoGradGuard, Result, Tensor};

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

/// One batch's outputs and labels, as the loop collected them.
struct BatchOutput {
    values: Vec<f32>,
    shape: Vec<usize>,
    labels: Vec<i64>,
    label_shape: Vec<usize>,
}

/// A batch whose output and loss still live on the model's device.
struct PendingBatch {
    output: Tensor,
    loss: Option<Tensor>,
    samples: usize,
    labels: Vec<i64>,
    label_shape: Vec<usize>,
}

/// Batches whose results are read back to the host together: on a GPU the loop then queues that
/// many forward passes before it waits for the device, instead of waiting after every batch.
const READ_BACK_EVERY: usize = 16;

/// Copies the pending batches' outputs to the host (the first copy waits for the device, the
/// rest find their data ready) and adds their losses to `loss_sum`.
fn read_back(
    pending: &mut Vec<PendingBatch>,
    parts: &mut Vec<BatchOutput>,
    loss_sum: &mut f64,
) -> Result<()> {
    for batch in pending.drain(..) {
        if let Some(loss) = batch.loss {
            *loss_sum += loss.item()? * batch.samples as f64;
        }
        let values = batch
            .output
            .to_device(Device::Cpu)?
            .with_f32_slice("predict", |v| v.to_vec())?;
        parts.push(BatchOutput {
            values,
            shape: batch.output.shape().to_vec(),
            labels: batch.labels,
            label_shape: batch.label_shape,
        });
    }
    Ok(())
}

/// Runs `model` without autograd over `total` batches; `on_batch(done)` runs after each batch and
/// may stop the loop by returning an error.
///
/// Batches of token datasets have their own length `L` (dynamic padding): token outputs
/// `[B, L, ...]` and token labels `[B, L]` are padded after the last batch to the longest `L`
/// (outputs with zeros, labels with -100, the ignored label).
pub fn predict_epoch(
    model: &dyn Module,
    batches: &mut dyn Iterator<Item = Result<Batch>>,
    total: usize,
    objective: Option<&dyn Objective>,
    device: Device,
    on_batch: &mut dyn FnMut(usize) -> Result<()>,
) -> Result<Predictions> {
    let _guard = NoGradGuard::new();
    let mut parts: Vec<BatchOutput> = Vec::new();
    let mut pending: Vec<PendingBatch> = Vec::new();
    let mut first_shape: Option<Vec<usize>> = None;
    let (mut loss_sum, mut samples) = (0.0f64, 0usize);
    for (i, batch) in (&mut *batches).take(total).enumerate() {
        let batch = batch?;
        let n = batch.len();
        let (labels, label_shape) = (batch.labels.clone(), batch.label_shape.clone());
        let (x, y) = batch.into_tensors()?;
        let (x, y) = (x.to_device(device)?, y.to_device(device)?);
        let y_hat = model.forward(&x)?.contiguous()?;
        let loss = match objective {
            Some(obj) => Some(obj.loss(&y_hat, &y)?),
            None => None,
        };
        samples += n;
        match &first_shape {
            Some(first) => {
                let varies = label_shape.len() == 2 && first.len() >= 3;
                let same = |a: &[usize], b: &[usize]| match varies {
                    true => a.len() == b.len() && a[2..] == b[2..],
                    false => a[1..] == b[1..],
                };
                crate::ensure_shape!(
                    same(first, y_hat.shape()),
                    "predict",
                    "the model's output shape changed between batches: {:?} then {:?}",
                    first,
                    y_hat.shape()
                );
            }
            None => first_shape = Some(y_hat.shape().to_vec()),
        }
        pending.push(PendingBatch {
            output: y_hat,
            loss,
            samples: n,
            labels,
            label_shape,
        });
        if pending.len() == READ_BACK_EVERY {
            read_back(&mut pending, &mut parts, &mut loss_sum)?;
        }
        on_batch(i + 1)?;
    }
    read_back(&mut pending, &mut parts, &mut loss_sum)?;
    let mut out = Predictions::default();
    let Some(BatchOutput {
        shape: first,
        label_shape: first_labels,
        ..
    }) = parts.first()
    else {
        return Ok(out);
    };
    let token_level = first_labels.len() == 2 && first.len() >= 3;
    let width = match token_level {
        true => parts.iter().map(|p| p.shape[1]).max().unwrap_or(0),
        false => first[1],
    };
    out.shape = first.clone();
    out.shape[0] = 0;
    if token_level {
        out.shape[1] = width;
    }
    for BatchOutput {
        values,
        shape,
        labels,
        label_shape,
    } in parts
    {
        out.shape[0] += shape[0];
        if !token_level {
            out.outputs.extend_from_slice(&values);
            out.labels.extend_from_slice(&labels);
            continue;
        }
        // Pad each row from its batch length to `width`.
        let (b, len) = (shape[0], shape[1]);
        let per_token: usize = shape[2..].iter().product();
        for r in 0..b {
            out.outputs
                .extend_from_slice(&values[r * len * per_token..(r + 1) * len * per_token]);
            out.outputs
                .extend(std::iter::repeat_n(0.0, (width - len) * per_token));
            let row_len = label_shape[1];
            out.labels
                .extend_from_slice(&labels[r * row_len..(r + 1) * row_len]);
            out.labels
                .extend(std::iter::repeat_n(IGNORE, width - row_len));
        }
    }
    if samples > 0 {
        out.loss = loss_sum / samples as f64;
    }
    Ok(out)
}
