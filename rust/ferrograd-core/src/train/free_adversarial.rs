//! "Free" adversarial training (Shafahi et al., 2019): each batch is replayed `m` times, and every
//! replay is one training step on the batch plus a perturbation `δ` that persists from step to
//! step (and from batch to batch). The backward pass of a step yields the parameters' gradients
//! and, for free, the input gradient, which moves `δ` by one signed step, clipped to the ε-box.
//! Robustness then costs about what `m` clean epochs cost: train for `epochs / m` epochs.

use crate::data::Batch;
use crate::{Result, Tensor};

/// The persistent perturbation and its step size, budget and the inputs' bounds.
#[derive(Clone, Debug)]
pub struct FreePerturbation {
    pub step: f32,
    pub eps: f32,
    pub bounds: (f32, f32),
    /// `δ` for the largest batch seen so far; a smaller batch uses (and updates) its first rows,
    /// as the published code slices its global noise buffer.
    buffer: Option<Tensor>,
}

impl FreePerturbation {
    pub fn new(step: f32, eps: f32, bounds: (f32, f32)) -> FreePerturbation {
        FreePerturbation {
            step,
            eps,
            bounds,
            buffer: None,
        }
    }

    /// The leaf `δ` for `x` (its first rows of the buffer, zeros where the buffer has none yet)
    /// and the input the model sees, `clamp(x + δ)`.
    pub fn perturb(&mut self, x: &Tensor) -> Result<(Tensor, Tensor)> {
        let rows = x.shape().first().copied().unwrap_or(0);
        let buffer = match self.buffer.take() {
            Some(b) if b.shape()[1..] == x.shape()[1..] && b.shape()[0] >= rows => b,
            Some(b) if b.shape()[1..] == x.shape()[1..] => {
                let more = Tensor::zeros(
                    &[&[rows - b.shape()[0]], &x.shape()[1..]].concat(),
                    x.dtype(),
                    x.device(),
                )?;
                Tensor::cat(&[b, more], 0)?
            }
            _ => x.detach().zeros_like()?,
        };
        let delta = buffer.narrow(0, 0, rows)?.detach().contiguous()?;
        self.buffer = Some(buffer);
        delta.set_requires_grad(true)?;
        let seen = x.add(&delta)?.clamp(self.bounds.0, self.bounds.1)?;
        Ok((delta, seen))
    }

    /// After the step's backward pass: `δ ← clip(δ + step sign(∂loss/∂δ), -ε, ε)` on the rows
    /// `delta` covered.
    pub fn update(&mut self, delta: &Tensor) -> Result<()> {
        let _guard = crate::NoGradGuard::new();
        let Some(grad) = delta.grad() else {
            return Ok(());
        };
        let moved = delta
            .detach()
            .add(&grad.sign()?.mul_scalar(self.step)?)?
            .clamp(-self.eps, self.eps)?;
        let Some(buffer) = self.buffer.take() else {
            return Ok(());
        };
        let rows = moved.shape()[0];
        let total = buffer.shape()[0];
        self.buffer = Some(match rows == total {
            true => moved,
            false => Tensor::cat(&[moved, buffer.narrow(0, rows, total - rows)?], 0)?,
        });
        Ok(())
    }
}

/// `batches` with each batch repeated `times` times in a row (an error passes through once).
pub(super) fn replayed<'a>(
    batches: &'a mut dyn Iterator<Item = Result<Batch>>,
    times: usize,
) -> impl Iterator<Item = Result<Batch>> + 'a {
    batches.flat_map(move |batch| -> Vec<Result<Batch>> {
        match batch {
            Ok(b) => std::iter::repeat_n(b, times.max(1)).map(Ok).collect(),
            Err(e) => vec![Err(e)],
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delta_takes_signed_steps_within_the_box_and_keeps_rows_beyond_a_small_batch() {
        let mut free = FreePerturbation::new(0.3, 0.5, (0.0, 1.0));
        let x = Tensor::from_vec(vec![0.5f32, 0.5, 0.5, 0.5], &[2, 2]).unwrap();
        // A loss whose gradient is (+1, -1) per row; returns the δ the step started from.
        let w = Tensor::from_vec(vec![1.0f32, -1.0, 1.0, -1.0], &[2, 2]).unwrap();
        let mut train_step = || {
            let (delta, seen) = free.perturb(&x).unwrap();
            let loss = seen.mul(&w).unwrap().sum(&[0, 1], false).unwrap();
            loss.backward(None).unwrap();
            free.update(&delta).unwrap();
            delta.to_vec::<f32>().unwrap()
        };
        assert_eq!(train_step(), vec![0.0; 4]);
        assert_eq!(train_step(), vec![0.3, -0.3, 0.3, -0.3]);
        // Clipped to ε = 0.5.
        let one = Tensor::from_vec(vec![0.5f32, 0.5], &[1, 2]).unwrap();
        let (delta, _) = free.perturb(&one).unwrap();
        assert_eq!(delta.to_vec::<f32>().unwrap(), vec![0.5, -0.5]);
        // The second row is kept while a one-row batch uses the first.
        let buffer = free.buffer.as_ref().unwrap().to_vec::<f32>().unwrap();
        assert_eq!(buffer, vec![0.5, -0.5, 0.5, -0.5]);
    }
}
