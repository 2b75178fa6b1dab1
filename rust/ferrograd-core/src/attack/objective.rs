//! The per-sample quantity an attack ascends, and the model's predictions.

use crate::ops::loss::{cross_entropy, Reduction};
use crate::{Device, Error, Result, Tensor};

/// What a gradient attack maximises (untargeted) or drives toward the target class (targeted).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AttackLoss {
    /// Cross-entropy of the true label (untargeted) or minus that of the target (targeted).
    CrossEntropy,
    /// Carlini-Wagner margin on logits: `max_{j != y} z_j - z_y` (untargeted) or
    /// `z_t - max_{j != t} z_j` (targeted).
    Margin,
    /// Croce and Hein's difference of logits ratio, invariant to shifting and scaling the logits:
    /// `-(z_y - max_{j != y} z_j) / (z_pi1 - z_pi3)` (untargeted) or
    /// `-(z_y - z_t) / (z_pi1 - (z_pi3 + z_pi4) / 2)` (targeted), with `pi` sorting the logits
    /// in decreasing order.
    Dlr,
}

impl AttackLoss {
    pub fn parse(s: &str) -> Result<AttackLoss> {
        match s {
            "ce" | "cross_entropy" => Ok(AttackLoss::CrossEntropy),
            "margin" | "cw" => Ok(AttackLoss::Margin),
            "dlr" => Ok(AttackLoss::Dlr),
            other => Err(Error::arg(
                "attack",
                "loss",
                "'ce', 'margin' or 'dlr'",
                format!("{other:?}"),
            )),
        }
    }
}

/// Per-sample objective `[B]` of `logits` `[B, C]` toward `goal`: the true labels (untargeted)
/// or the target classes (targeted; `labels` then holds the true labels, which DLR needs).
pub fn sample_objective(
    logits: &Tensor,
    goal: &Tensor,
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
            let ce = cross_entropy(logits, goal, None, -100, Reduction::None, 0.0)?;
            if targeted {
                ce.neg()
            } else {
                Ok(ce)
            }
        }
        AttackLoss::Margin => {
            let goal_margin = class_margin(logits, goal)?;
            if targeted {
                Ok(goal_margin)
            } else {
                goal_margin.neg()
            }
        }
        AttackLoss::Dlr => dlr(logits, goal, labels, targeted),
    }
}

/// `z_c - max_{j != c} z_j` per row for the classes `c` in `classes` (differentiably): positive
/// when `c` wins.
pub fn class_margin(logits: &Tensor, classes: &Tensor) -> Result<Tensor> {
    let onehot = classes.one_hot(logits.shape()[1])?;
    let own = logits.mul(&onehot)?.sum(&[1], false)?;
    // Push the given class far down so the max picks the best other class.
    let others = logits.sub(&onehot.mul_scalar(1e9)?)?.max_dim(1, false)?;
    own.sub(&others)
}

/// Takes column `idx[i]` of each row of `logits` (differentiably).
fn pick(logits: &Tensor, idx: &[i64]) -> Result<Tensor> {
    let index = Tensor::from_vec(idx.to_vec(), &[idx.len(), 1])?.to_device(logits.device())?;
    logits.gather(1, &index)?.squeeze(Some(1))
}

/// The DLR loss. The sorting permutation is found on the values, on the host; the selected logits
/// are then gathered, which is how the gradient flows through a sort.
fn dlr(logits: &Tensor, goal: &Tensor, labels: &Tensor, targeted: bool) -> Result<Tensor> {
    let classes = logits.shape()[1];
    let need = if targeted { 4 } else { 3 };
    crate::ensure_shape!(
        classes >= need,
        "attack",
        "the DLR loss needs at least {need} classes, got {classes}",
    );
    let values = host(logits)?.to_vec::<f32>()?;
    let mut ranked: Vec<Vec<i64>> = Vec::new();
    for row in values.chunks(classes) {
        let mut order: Vec<usize> = (0..classes).collect();
        order.sort_by(|&a, &b| row[b].total_cmp(&row[a]));
        ranked.push(order[..need].iter().map(|&i| i as i64).collect());
    }
    let column = |k: usize| ranked.iter().map(|r| r[k]).collect::<Vec<i64>>();
    let first = pick(logits, &column(0))?;
    let third = pick(logits, &column(2))?;
    if targeted {
        let own = pick(logits, &host(labels)?.to_vec::<i64>()?)?;
        let target = pick(logits, &host(goal)?.to_vec::<i64>()?)?;
        let fourth = pick(logits, &column(3))?;
        let den = first
            .sub(&third.add(&fourth)?.mul_scalar(0.5)?)?
            .add_scalar(1e-12)?;
        own.sub(&target)?.div(&den)?.neg()
    } else {
        let den = first.sub(&third)?.add_scalar(1e-12)?;
        class_margin(logits, labels)?.div(&den)?.neg()
    }
}

/// `t`'s values, copied to the host if they live on a GPU.
fn host(t: &Tensor) -> Result<Tensor> {
    t.detach().to_device(Device::Cpu)
}

/// Arg-max class of each row of `logits` `[B, C]`.
pub fn predictions(logits: &Tensor) -> Result<Vec<i64>> {
    host(&logits.argmax(1, false)?)?.to_vec::<i64>()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn objective(loss: AttackLoss, goal: i64, label: i64, targeted: bool) -> f32 {
        let logits = Tensor::from_vec(vec![1.0f32, 4.0, 2.0, 0.5, 3.0], &[1, 5]).unwrap();
        let goal = Tensor::from_vec(vec![goal], &[1]).unwrap();
        let label = Tensor::from_vec(vec![label], &[1]).unwrap();
        sample_objective(&logits, &goal, &label, loss, targeted)
            .unwrap()
            .to_vec::<f32>()
            .unwrap()[0]
    }

    #[test]
    fn margin_and_dlr_follow_their_definitions() {
        // Sorted logits: 4 (class 1), 3 (class 4), 2 (class 2), 1 (class 0), 0.5 (class 3).
        assert_eq!(objective(AttackLoss::Margin, 2, 2, false), 4.0 - 2.0);
        assert_eq!(objective(AttackLoss::Margin, 4, 2, true), 3.0 - 4.0);
        // Untargeted DLR: -(z_y - max_{j != y} z_j) / (z_pi1 - z_pi3).
        let dlr = objective(AttackLoss::Dlr, 1, 1, false);
        assert!((dlr - (-(4.0 - 3.0) / (4.0 - 2.0))).abs() < 1e-6, "{dlr}");
        // Targeted DLR: -(z_y - z_t) / (z_pi1 - (z_pi3 + z_pi4) / 2).
        let dlr_t = objective(AttackLoss::Dlr, 0, 1, true);
        assert!(
            (dlr_t - (-(4.0 - 1.0) / (4.0 - 1.5))).abs() < 1e-6,
            "{dlr_t}"
        );
        let ce = objective(AttackLoss::CrossEntropy, 0, 0, true);
        let lse = [1.0f32, 4.0, 2.0, 0.5, 3.0]
            .iter()
            .map(|v| v.exp())
            .sum::<f32>()
            .ln();
        assert!((ce - (1.0 - lse)).abs() < 1e-5, "{ce}");
    }
}
