//! Layers with weights: Linear, Conv2d and Embedding.

use super::{join, Module, TensorRole};
use crate::ops::pool::MaxPoolWindow;
use crate::{MemoryFormat, Result, Tensor};

/// Visits a weight and an optional bias as parameters.
fn visit_weight_bias(
    prefix: &str,
    weight: &Tensor,
    bias: Option<&Tensor>,
    f: &mut dyn FnMut(String, &Tensor, TensorRole),
) {
    f(join(prefix, "weight"), weight, TensorRole::Parameter);
    if let Some(b) = bias {
        f(join(prefix, "bias"), b, TensorRole::Parameter);
    }
}

/// y = x @ weight.T + bias with weight `[out_features, in_features]`.
#[derive(Debug)]
pub struct Linear {
    pub weight: Tensor,
    pub bias: Option<Tensor>,
}

impl Module for Linear {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        x.linear(&self.weight, self.bias.as_ref())
    }

    fn forward_relu(&self, x: &Tensor) -> Option<Result<Tensor>> {
        Some(x.linear_relu(&self.weight, self.bias.as_ref()))
    }

    fn visit(&self, prefix: &str, f: &mut dyn FnMut(String, &Tensor, TensorRole)) {
        visit_weight_bias(prefix, &self.weight, self.bias.as_ref(), f);
    }
}

/// 2-D convolution of NCHW inputs.
#[derive(Debug)]
pub struct Conv2d {
    pub weight: Tensor,
    pub bias: Option<Tensor>,
    pub stride: (usize, usize),
    pub padding: (usize, usize),
    pub dilation: (usize, usize),
    pub groups: usize,
    /// The memory format the input is brought to first (`model.to(memory_format=...)`), so the
    /// output takes it too; None takes the input as it comes.
    pub input_format: Option<MemoryFormat>,
}

impl Conv2d {
    /// `x` in the layer's input format.
    fn formatted(&self, x: &Tensor) -> Result<Tensor> {
        match self.input_format {
            Some(format) => x.contiguous_in(format),
            None => Ok(x.clone()),
        }
    }

    /// The convolution, followed by a fused ReLU when `relu`.
    fn apply(&self, x: &Tensor, relu: bool) -> Result<Tensor> {
        self.formatted(x)?.conv2d_then(
            &self.weight,
            self.bias.as_ref(),
            self.stride,
            self.padding,
            self.dilation,
            self.groups,
            relu,
        )
    }
}

impl Module for Conv2d {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        self.apply(x, false)
    }

    fn forward_relu(&self, x: &Tensor) -> Option<Result<Tensor>> {
        Some(self.apply(x, true))
    }

    fn forward_relu_max_pool(&self, x: &Tensor, pool: MaxPoolWindow) -> Option<Result<Tensor>> {
        Some(self.formatted(x).and_then(|x| {
            x.conv2d_relu_max_pool2d(
                &self.weight,
                self.bias.as_ref(),
                self.stride,
                self.padding,
                self.dilation,
                self.groups,
                pool,
            )
        }))
    }

    fn visit(&self, prefix: &str, f: &mut dyn FnMut(String, &Tensor, TensorRole)) {
        visit_weight_bias(prefix, &self.weight, self.bias.as_ref(), f);
    }
}

/// Rows of `weight` looked up by integer ids.
#[derive(Debug)]
pub struct Embedding {
    pub weight: Tensor,
}

impl Module for Embedding {
    fn forward(&self, ids: &Tensor) -> Result<Tensor> {
        self.weight.embedding(ids)
    }

    fn visit(&self, prefix: &str, f: &mut dyn FnMut(String, &Tensor, TensorRole)) {
        visit_weight_bias(prefix, &self.weight, None, f);
    }
}
