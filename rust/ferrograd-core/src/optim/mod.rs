//! Optimizer updates as fused in-place loops over each parameter's buffer (one pass reads the
//! gradient and state and writes parameter and state), with PyTorch's exact formulas. The
//! Python optimizers keep the state tensors and call these once per parameter per step.

mod clip;
mod kernels;

pub use clip::clip_grad_norm;
pub use kernels::{adam_step, rmsprop_step, sgd_step, AdamConfig, RmspropConfig, SgdConfig};
