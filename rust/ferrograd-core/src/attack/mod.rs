//! Gradient attacks with the whole iteration loop in Rust: FGSM, R-FGSM, BIM, PGD (L∞ and L2,
//! random start, restarts) and MI-FGSM, with cross-entropy or margin (CW) objectives, targeted or
//! not. Inputs live in `bounds` (by default [0, 1]); models normalise inside.

mod dataset;
mod objective;
mod pgd;

pub use dataset::{attack_batches, DatasetResult};
pub use objective::{predictions, sample_objective, AttackLoss};
pub use pgd::{attack_batch, AttackConfig, BatchResult, Norm, Start};
