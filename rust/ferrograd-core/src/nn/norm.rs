//! Normalisation layers: batch norm (any rank from 2) and layer norm.

use super::{join, Module, TensorRole};
use crate::{Result, Tensor};

/// Batch normalisation over dim 1, with PyTorch's running statistics: `momentum: None` is the
/// cumulative average over `num_batches_tracked` batches.
#[derive(Debug)]
pub struct BatchNorm {
    pub weight: Option<Tensor>,
    pub bias: Option<Tensor>,
    /// `(running_mean, running_var, num_batches_tracked)` when statistics are tracked.
    pub running: Option<(Tensor, Tensor, Tensor)>,
    pub momentum: Option<f32>,
    pub eps: f32,
    pub training: bool,
}

impl Module for BatchNorm {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let mut momentum = self.momentum.unwrap_or(0.0);
        if let (true, Some((_, _, count))) = (self.training, &self.running) {
            // Counted on the tensor's device: only the cumulative average reads the count back.
            count.count_up(1)?;
            if self.momentum.is_none() {
                momentum = (1.0 / count.item()?) as f32;
            }
        }
        let (mean, var) = match &self.running {
            Some((m, v, _)) => (Some(m), Some(v)),
            None => (None, None),
        };
        let use_batch = self.training || self.running.is_none();
        crate::ops::norm::batch_norm(
            x,
            mean,
            var,
            self.weight.as_ref(),
            self.bias.as_ref(),
            use_batch,
            momentum,
            self.eps,
        )
    }

    fn visit(&self, prefix: &str, f: &mut dyn FnMut(String, &Tensor, TensorRole)) {
        for (name, t) in [("weight", &self.weight), ("bias", &self.bias)] {
            if let Some(t) = t {
                f(join(prefix, name), t, TensorRole::Parameter);
            }
        }
        if let Some((m, v, n)) = &self.running {
            f(join(prefix, "running_mean"), m, TensorRole::Buffer);
            f(join(prefix, "running_var"), v, TensorRole::Buffer);
            f(join(prefix, "num_batches_tracked"), n, TensorRole::Buffer);
        }
    }

    fn set_training(&mut self, training: bool) {
        self.training = training;
    }
}

/// Layer normalisation over the trailing `normalized_shape` axes.
#[derive(Debug)]
pub struct LayerNorm {
    pub normalized_shape: Vec<usize>,
    pub weight: Option<Tensor>,
    pub bias: Option<Tensor>,
    pub eps: f32,
}

impl Module for LayerNorm {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        crate::ops::norm::layer_norm(
            x,
            &self.normalized_shape,
            self.weight.as_ref(),
            self.bias.as_ref(),
            self.eps,
        )
    }

    fn visit(&self, prefix: &str, f: &mut dyn FnMut(String, &Tensor, TensorRole)) {
        for (name, t) in [("weight", &self.weight), ("bias", &self.bias)] {
            if let Some(t) = t {
                f(join(prefix, name), t, TensorRole::Parameter);
            }
        }
    }
}
