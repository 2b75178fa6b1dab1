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

impl Objective for CrossEntropy {
    fn loss(&self, output: &Tensor, labels: &Tensor) -> Result<Tensor> {
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

/// How many rows of `output` `[B, C]` have their largest value at the label's class (first index
/// on ties, as argmax). Outputs of another rank count nothing.
pub fn count_correct(output: &Tensor, labels: &[i64]) -> Result<usize> {
    if output.rank() != 2 || output.shape()[0] != labels.len() {
        return Ok(0);
    }
    let classes = output.shape()[1];
    let output = output.contiguous()?;
    output.with_f32_slice("accuracy", |v| {
        v.chunks(classes.max(1))
            .zip(labels)
            .filter(|(row, &label)| {
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
                best as i64 == label
            })
            .count()
    })
}
