//! Gradient attacks with the whole iteration loop in Rust: FGSM, R-FGSM, BIM, PGD (L∞ and L2,
//! random start, restarts), MI-FGSM, APGD, Jitter and PGD against randomized-smoothing classifiers, with cross-entropy, margin (CW) or DLR objectives,
//! targeted or not; the minimal-norm Carlini-Wagner L2, EAD (elastic net), DeepFool and FAB; the L0 attacks JSMA, SparseFool, one-pixel and Pixle (differential evolution); and the gradient-free SPSA and score-based black-box Square attacks. Inputs live in `bounds` (by default [0, 1]); models normalise inside.

mod apgd;
mod batch;
mod black_box;
mod cw;
mod dataset;
mod deepfool;
mod ead;
mod fab;
mod host_view;
mod hyperplane_projection;
mod iterate;
mod jacobian;
mod jitter;
mod jsma;
mod minimal;
mod objective;
mod one_pixel;
mod patchwise;
mod pgd;
mod pixle;
mod smoothed;
mod sparsefool;
mod spsa;
mod square;
mod step_loop;
mod trades;
mod transfer;

pub use apgd::{apgd_batch, ApgdConfig};
pub use cw::{cw_batch, CwConfig};
pub use dataset::{attack_batches, Attack, DatasetResult};
pub use deepfool::{deepfool_batch, DeepFoolConfig};
pub use ead::{ead_batch, DecisionRule, EadConfig};
pub use fab::{fab_batch, FabConfig};
pub use host_view::{model_device, HostView};
pub use jitter::JitterLoss;
pub use jsma::{jsma_batch, JsmaConfig};
pub use objective::{predictions, sample_objective, AttackLoss};
pub use one_pixel::{one_pixel_batch, OnePixelConfig};
pub use patchwise::Patchwise;
pub use pgd::{
    adversarial_batch, attack_batch, AttackConfig, BatchResult, Norm, Start, StepGradient,
};
pub use pixle::{pixle_batch, Extent, PixelMapping, PixleConfig};
pub use smoothed::{NoiseAverage, NoiseKind};
pub use sparsefool::{sparsefool_batch, SparseFoolConfig};
pub use spsa::{spsa_batch, SpsaConfig};
pub use square::{square_batch, SquareConfig};
pub use trades::trades_batch;
pub use transfer::{InputDiversity, KernelProfile, Smoothing, Transfer};
