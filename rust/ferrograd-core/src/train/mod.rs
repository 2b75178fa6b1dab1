//! Whole-epoch loops: training (forward, loss, backward, clipping, accumulation, optimizer step
//! and learning-rate schedule per step) and inference (outputs and loss over a dataset), run
//! without Python so the bindings can release the GIL for an entire epoch.

mod evaluate;
mod fit;
mod free_adversarial;
mod objective;
mod step_graph;
mod weight_perturbation;

pub use evaluate::{predict_epoch, Predictions};
pub use fit::{train_epoch, AdversarialLoss, Adversary, EpochStats, Progress, TrainOptions};
pub use free_adversarial::FreePerturbation;
pub use objective::{count_correct, CrossEntropy, Objective};
