//! Optimizer updates as fused in-place loops over each parameter's buffer (one pass reads the
//! gradient and state and writes parameter and state), with PyTorch's exact formulas, and the
//! stateful [`Optimizer`] that applies them to parameter groups.

mod adadelta_rprop;
mod adafactor;
mod adagrad;
mod adam_variants;
mod algorithm;
mod arith;
mod asgd;
mod averaging;
mod clip;
pub(crate) mod kernels;
mod muon;
mod nadam;
mod optimizer;

pub use adadelta_rprop::{AdadeltaConfig, RpropConfig};
pub use adafactor::AdafactorConfig;
pub use adagrad::{adagrad_step, AdagradConfig};
pub use adam_variants::AdamaxConfig;
pub use algorithm::{Algorithm, FusedRule};
pub use asgd::AsgdConfig;
pub use averaging::{AverageRule, WeightAverage};
pub use clip::{clip_grad_norm, clip_on_device};
pub use kernels::{adam_step, rmsprop_step, sgd_step, AdamConfig, RmspropConfig, SgdConfig};
pub use muon::{LrAdjustment, MuonConfig};
pub use nadam::NadamConfig;
pub use optimizer::{Optimizer, ParamGroup, ParamState};
