//! Adversarial weight perturbation (AWP, Wu et al., 2020). Before each training step the weights
//! of rank ≥ 2 (not biases or normalisation scales) move along the gradient of the step's own
//! adversarial loss, each by `gamma` times its own norm; the step's gradients are taken there, and
//! the perturbation is taken back after the optimizer step. The published code finds the
//! direction with one plain SGD step of a proxy copy of the model, whose size cancels in the
//! normalisation; here the gradient is taken on the model itself, with its buffers (batch
//! norm's running statistics) restored afterwards so that they see the batch once, as there.

use crate::nn::{Module, TensorRole};
use crate::{NoGradGuard, Result, Tensor};

/// The weights AWP perturbs: the trained parameters of rank ≥ 2.
pub(super) fn perturbed_weights(params: &[Tensor]) -> Vec<Tensor> {
    params.iter().filter(|p| p.rank() >= 2).cloned().collect()
}

/// Adds to each of `weights` its perturbation `gamma ||w|| g / (||g|| + 1e-20)`, `g` the gradient
/// of `loss_of()`'s loss; returns the perturbations to take back with [`restore_weights`].
pub(super) fn perturb_weights(
    model: &dyn Module,
    weights: &[Tensor],
    gamma: f32,
    loss_of: impl FnOnce() -> Result<Tensor>,
) -> Result<Vec<(Tensor, Tensor)>> {
    let mut buffers = Vec::new();
    model.visit("", &mut |_, t, role| {
        if role == TensorRole::Buffer {
            buffers.push(t.clone());
        }
    });
    let saved = buffers
        .iter()
        .map(|b| b.deep_clone())
        .collect::<Result<Vec<_>>>()?;
    let grads = crate::autograd::grad(&loss_of()?, weights)?;
    for (buffer, value) in buffers.iter().zip(&saved) {
        buffer.assign(value)?;
    }
    let _guard = NoGradGuard::new();
    let norm = |t: &Tensor| -> Result<Tensor> {
        let axes: Vec<isize> = (0..t.rank() as isize).collect();
        t.square()?.sum(&axes, false)?.sqrt()
    };
    let mut moved = Vec::new();
    for (w, g) in weights.iter().zip(grads) {
        let Some(g) = g else { continue };
        let scale = norm(w)?
            .mul_scalar(gamma)?
            .div(&norm(&g)?.add_scalar(1e-20)?)?;
        let v = g.mul(&scale)?;
        w.assign(&w.detach().add(&v)?)?;
        moved.push((w.clone(), v));
    }
    Ok(moved)
}

/// Takes back the perturbations [`perturb_weights`] added.
pub(super) fn restore_weights(moved: &[(Tensor, Tensor)]) -> Result<()> {
    let _guard = NoGradGuard::new();
    for (w, v) in moved {
        w.assign(&w.detach().sub(v)?)?;
    }
    Ok(())
}
