//! The loss a training loop minimises, and the accuracy count it reports.

use crate::ops::loss::{cross_entropy, nll_loss, Reduction};
use crate::{Result, Tensor};

/// A loss of model outputs against batch labels, as a one-element tensor.
pub trait Objective: Send + Sync {
    fn loss(&self, output: &Tensor, labels: &Tensor) -> Result<Tensor>;
}

/// Mean cross-entropy of logits (or, with `log_probs`, NLL of log-probabilities) against class
/// indices, with optional class weights and label smoothing.
#[derive(Debug, Default)]
pub struct CrossEntropy {
    pub weight: Option<Tensor>,
    pub label_smoothing: f32,
    pub ignore_index: Option<i64>,
    pub log_probs: bool,
}

/// Token-level outputs `[B, L, C]` against labels `[B, L]` (class scores last, as text models
/// emit them) as rows `[B*L, C]` and `[B*L]`; anything else unchanged.
fn rows_of_tokens(output: &Tensor, labels: &Tensor) -> Result<(Tensor, Tensor)> {
    let (r, shape) = (output.rank(), output.shape());
    if r > 2 && labels.rank() == r - 1 && shape[..r - 1] == *labels.shape() {
        let rows = labels.numel();
        return Ok((
            output.reshape(&[rows, shape[r - 1]])?,
            labels.reshape(&[rows])?,
        ));
    }
    Ok((output.clone(), labels.clone()))
}

impl Objective for CrossEntropy {
    fn loss(&self, output: &Tensor, labels: &Tensor) -> Result<Tensor> {
        let (output, labels) = &rows_of_tokens(output, labels)?;
        let ignore = self.ignore_index.unwrap_or(-100);
        if self.log_probs {
            nll_loss(
                output,
                labels,
                self.weight.as_ref(),
                ignore,
                Reduction::Mean,
            )
        } else {
            cross_entropy(
                output,
                labels,
                self.weight.as_ref(),
                ignore,
                Reduction::Mean,
                self.label_smoothing,
            )
        }
    }
}

/// Whether `output` holds rows of class scores, one row per label.
fn scores_match_labels(output: &Tensor, labels: usize) -> bool {
    let classes = output.shape().last().copied().unwrap_or(0);
    output.rank() >= 2 && classes > 0 && output.numel() == labels * classes
}

/// `count_correct` left on the device: a scalar f32 tensor of the correct positions (negative
/// labels never equal an argmax, so they count as wrong, and the caller counts the labelled
/// positions on the host), and `None` for outputs of another layout.
pub fn count_correct_on_device(output: &Tensor, labels: &Tensor) -> Result<Option<Tensor>> {
    if !scores_match_labels(output, labels.numel()) {
        return Ok(None);
    }
    let best = output.argmax(-1, false)?;
    let labels = labels.to_dtype(crate::DType::I64)?.reshape(best.shape())?;
    Ok(Some(
        best.eq(&labels)?
            .to_dtype(crate::DType::F32)?
            .sum(&[], false)?,
    ))
}

/// `(correct, counted)`: of the label positions, how many have their largest output (first index
/// on ties, as argmax) at the label's class. Outputs are rows of class scores, `[B, C]` or
/// `[B, L, C]` against `B` or `B * L` labels; negative labels (ignored tokens) are not counted.
/// Outputs of another layout count nothing.
pub fn count_correct(output: &Tensor, labels: &[i64]) -> Result<(usize, usize)> {
    if !scores_match_labels(output, labels.len()) {
        return Ok((0, 0));
    }
    let classes = output.shape()[output.rank() - 1];
    if output.device() != crate::Device::Cpu {
        // Arg-max on the device; only the indices come back.
        let best = output
            .argmax(-1, false)?
            .to_device(crate::Device::Cpu)?
            .to_vec::<i64>()?;
        return Ok(best
            .iter()
            .zip(labels)
            .filter(|(_, &label)| label >= 0)
            .fold((0, 0), |(c, n), (&b, &label)| {
                (c + usize::from(b == label), n + 1)
            }));
    }
    let output = output.contiguous()?;
    output.with_f32_slice("accuracy", |v| {
        v.chunks(classes)
            .zip(labels)
            .filter(|(_, &label)| label >= 0)
            .fold((0, 0), |(correct, counted), (row, &label)| {
                let best = row
                    .iter()
                    .enumerate()
                    .fold((0, f32::NEG_INFINITY), |(bi, bv), (i, &x)| {
                        if x > bv {
                            (i, x)
                        } else {
                            (bi, bv)
                        }
                    })
                    .0;
                (correct + usize::from(best as i64 == label), counted + 1)
            })
    })
}
