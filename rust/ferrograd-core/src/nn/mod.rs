//! Layers as Rust values behind one [`Module`] trait, so a whole training epoch can run without
//! Python. Python's `ferrograd.nn` classes build these from their attributes (sharing the same
//! parameter tensors) when `fit`, `evaluate` or `predict` starts; the state-dict names follow
//! PyTorch's conventions (`0.weight`, `bn.running_mean`).

mod layers;
mod norm;
mod sequential;
mod stateless;

pub use layers::{Conv2d, Embedding, Linear};
pub use norm::{BatchNorm, LayerNorm};
pub use sequential::Sequential;
pub use stateless::{
    Activation, AdaptiveAvgPool2d, AvgPool2d, Dropout, Flatten, MaxPool2d, Normalize,
};

use crate::ops::pool::MaxPoolWindow;
use crate::{Result, Tensor};

/// Whether a named tensor is trained or only saved (running statistics, counters).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TensorRole {
    Parameter,
    Buffer,
}

/// A layer or a model.
pub trait Module: Send + Sync + std::fmt::Debug {
    /// The module's output for input `x`.
    fn forward(&self, x: &Tensor) -> Result<Tensor>;

    /// Calls `f` with the state-dict name, tensor and role of every parameter and buffer of this
    /// module and its children, in registration order.
    fn visit(&self, _prefix: &str, _f: &mut dyn FnMut(String, &Tensor, TensorRole)) {}

    /// Switches training mode (batch statistics, dropout) on or off, children included.
    fn set_training(&mut self, _training: bool) {}

    /// `relu(forward(x))` as one fused op, for layers that have one (None for the rest).
    /// `Sequential` calls it for a layer followed by a ReLU.
    fn forward_relu(&self, _x: &Tensor) -> Option<Result<Tensor>> {
        None
    }

    /// Whether this module is a ReLU (which `Sequential` folds into the layer before it).
    fn is_relu(&self) -> bool {
        false
    }

    /// `max_pool(relu(forward(x)))` as one fused op, for layers that have one (None for the
    /// rest). `Sequential` calls it for a layer followed by a ReLU and a max pool.
    fn forward_relu_max_pool(&self, _x: &Tensor, _pool: MaxPoolWindow) -> Option<Result<Tensor>> {
        None
    }

    /// The window of a max pool layer (which `Sequential` folds, with a ReLU before it, into the
    /// layer before that); None for other modules.
    fn max_pool_window(&self) -> Option<MaxPoolWindow> {
        None
    }
}

/// `prefix.name`, or `name` at the top level.
pub fn join(prefix: &str, name: &str) -> String {
    if prefix.is_empty() {
        name.to_string()
    } else {
        format!("{prefix}.{name}")
    }
}

/// The trainable parameters with their state-dict names.
pub fn named_parameters(m: &dyn Module) -> Vec<(String, Tensor)> {
    let mut out = Vec::new();
    m.visit("", &mut |name, t, role| {
        if role == TensorRole::Parameter {
            out.push((name, t.clone()));
        }
    });
    out
}

/// Every parameter and buffer with its state-dict name.
pub fn state_dict(m: &dyn Module) -> Vec<(String, Tensor)> {
    let mut out = Vec::new();
    m.visit("", &mut |name, t, _| out.push((name, t.clone())));
    out
}
