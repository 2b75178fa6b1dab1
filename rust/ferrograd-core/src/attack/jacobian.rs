//! The rows of a classifier's Jacobian, with which DeepFool and JSMA linearise the model.

use crate::{Result, Tensor};

/// The input gradient of each class logit of `logits` `[B, C]`, summed over the batch and shaped
/// like `leaf` (one backward pass per class). Samples do not interact in an evaluated model, so
/// each sample's slice of row `k` is its own gradient of `z_k`.
pub(super) fn logit_jacobian(logits: &Tensor, leaf: &Tensor) -> Result<Vec<Tensor>> {
    (0..logits.shape()[1])
        .map(|k| {
            let zk = logits.narrow(1, k, 1)?.sum(&[0, 1], false)?;
            let g = crate::autograd::grad(&zk, std::slice::from_ref(leaf))?;
            match g.into_iter().next().flatten() {
                Some(g) => Ok(g),
                None => leaf.zeros_like(),
            }
        })
        .collect()
}
