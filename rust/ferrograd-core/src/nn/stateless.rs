//! Layers without weights: activations, dropout, pooling and flatten.

use super::Module;
use crate::ops::pool::MaxPoolWindow;
use crate::{Result, Tensor};

/// An elementwise activation (or softmax over a dim).
#[derive(Clone, Copy, Debug)]
pub enum Activation {
    Identity,
    Relu,
    LeakyRelu(f32),
    Gelu { tanh: bool },
    Sigmoid,
    Tanh,
    Silu,
    Softplus { beta: f32, threshold: f32 },
    Softmax(isize),
    LogSoftmax(isize),
}

impl Module for Activation {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        match *self {
            Activation::Identity => Ok(x.clone()),
            Activation::Relu => x.relu(),
            Activation::LeakyRelu(slope) => x.leaky_relu(slope),
            Activation::Gelu { tanh } => x.gelu(tanh),
            Activation::Sigmoid => x.sigmoid(),
            Activation::Tanh => x.tanh(),
            Activation::Silu => x.silu(),
            Activation::Softplus { beta, threshold } => x.softplus(beta, threshold),
            Activation::Softmax(dim) => x.softmax(dim),
            Activation::LogSoftmax(dim) => x.log_softmax(dim),
        }
    }

    fn is_relu(&self) -> bool {
        matches!(self, Activation::Relu)
    }
}

/// Inverted dropout while training, the identity in evaluation.
#[derive(Debug)]
pub struct Dropout {
    pub p: f32,
    pub training: bool,
}

impl Module for Dropout {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        crate::ops::dropout::dropout(x, self.p, self.training)
    }

    fn set_training(&mut self, training: bool) {
        self.training = training;
    }
}

/// Flattens dims `start..=end` (negative counts from the end).
#[derive(Debug)]
pub struct Flatten {
    pub start: isize,
    pub end: isize,
}

impl Module for Flatten {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        x.flatten(self.start, self.end)
    }
}

/// Max pooling over the last two dims.
#[derive(Debug)]
pub struct MaxPool2d {
    pub window: MaxPoolWindow,
}

impl Module for MaxPool2d {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let w = self.window;
        x.max_pool2d(w.kernel, w.stride, w.padding, w.dilation, w.ceil_mode)
    }

    fn max_pool_window(&self) -> Option<MaxPoolWindow> {
        Some(self.window)
    }
}

/// Average pooling over the last two dims.
#[derive(Debug)]
pub struct AvgPool2d {
    pub kernel: (usize, usize),
    pub stride: (usize, usize),
    pub padding: (usize, usize),
    pub ceil_mode: bool,
    pub count_include_pad: bool,
}

impl Module for AvgPool2d {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        x.avg_pool2d(
            self.kernel,
            self.stride,
            self.padding,
            self.ceil_mode,
            self.count_include_pad,
        )
    }
}

/// Average pooling to a fixed output size.
#[derive(Debug)]
pub struct AdaptiveAvgPool2d {
    pub output_size: (usize, usize),
}

impl Module for AdaptiveAvgPool2d {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        x.adaptive_avg_pool2d(self.output_size)
    }
}

/// `(x - mean[c]) / std[c]` over dim 1: input normalisation inside the model, so attacks and
/// their ε live in the raw input space.
#[derive(Debug)]
pub struct Normalize {
    pub mean: Vec<f32>,
    pub std: Vec<f32>,
}

impl Module for Normalize {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let c = self.mean.len();
        crate::ensure_shape!(
            x.rank() >= 2 && x.shape()[1] == c,
            "Normalize",
            "expected {c} channels in dim 1, got input of shape {:?}",
            x.shape()
        );
        let mut shape = vec![c];
        shape.resize(x.rank() - 1, 1);
        let mean = Tensor::from_vec(self.mean.clone(), &shape)?.to_device(x.device())?;
        let std = Tensor::from_vec(self.std.clone(), &shape)?.to_device(x.device())?;
        x.sub(&mean)?.div(&std)
    }
}
