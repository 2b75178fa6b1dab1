//! The per-sample quantity an attack ascends, and the model's predictions.

use crate::ops::loss::{cross_entropy, Reduction};
use crate::{Error, Result, Tensor};

/// What a gradient attack maximises (untargeted) or drives toward the target class (targeted).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AttackLoss {
    /// Cross-entropy of the true label (untargeted) or minus that of the target (targeted).
    CrossEntropy,
    /// Carlini-Wagner margin on logits: `max_{j != y} z_j - z_y` (untargeted) or
    /// `z_t - max_{j != t} z_j` (targeted).
    Margin,
}

impl AttackLoss {
    pub fn parse(s: &str) -> Result<AttackLoss> {
        match s {
            "ce" | "cross_entropy" => Ok(AttackLoss::CrossEntropy),
            "margin" | "cw" => Ok(AttackLoss::Margin),
            other => Err(Error::arg(
                "attack",
                "loss",
                "'ce' or 'margin'",
                format!("{other:?}"),
            )),
        }
    }
}

/// Per-sample objective `[B]` of `logits` `[B, C]` for `labels` (untargeted) or `targets`.
pub fn sample_objective(
    logits: &Tensor,
    labels: &Tensor,
    loss: AttackLoss,
    targeted: bool,
) -> Result<Tensor> {
    crate::ensure_shape!(
        logits.rank() == 2,
        "attack",
        "the model must output [batch, classes] logits, got {:?}",
        logits.shape()
    );
    match loss {
        AttackLoss::CrossEntropy => {
            let ce = cross_entropy(logits, labels, None, -100, Reduction::None, 0.0)?;
            if targeted {
                ce.neg()
            } else {
                Ok(ce)
            }
        }
        AttackLoss::Margin => {
            let classes = logits.shape()[1];
            let onehot = labels.one_hot(classes)?;
            let own = logits.mul(&onehot)?.sum(&[1], false)?;
            // Push the labelled class far down so the max picks the best other class.
            let others = logits.sub(&onehot.mul_scalar(1e9)?)?.max_dim(1, false)?;
            if targeted {
                own.sub(&others)
            } else {
                others.sub(&own)
            }
        }
    }
}

/// Arg-max class of each row of `logits` `[B, C]`.
pub fn predictions(logits: &Tensor) -> Result<Vec<i64>> {
    logits.argmax(1, false)?.to_vec::<i64>()
}
