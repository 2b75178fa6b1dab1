//! The update rules an optimizer group can use: the fused rules, which update a whole list of
//! parameters in one pass (`kernels.rs`); Adafactor, whose factored moments are tensor ops
//! (`adafactor.rs`); and Muon, whose orthogonalization is matrix products (`muon.rs`).

use super::adadelta_rprop::{AdadeltaConfig, RpropConfig};
use super::adafactor::AdafactorConfig;
use super::adagrad::AdagradConfig;
use super::adam_variants::AdamaxConfig;
use super::asgd::AsgdConfig;
use super::kernels::{AdamConfig, RmspropConfig, SgdConfig};
use super::muon::MuonConfig;
use super::nadam::NadamConfig;
use crate::{Error, Result};

/// A rule whose state buffers are shaped as the parameter, applied to every parameter of a group
/// in one parallel pass on the CPU or in fused list launches on a GPU.
#[derive(Clone, Copy, Debug)]
pub enum FusedRule {
    Sgd(SgdConfig),
    Adam(AdamConfig),
    Rmsprop(RmspropConfig),
    Adagrad(AdagradConfig),
    Adamax(AdamaxConfig),
    /// RAdam with Adam's options (amsgrad unused).
    Radam(AdamConfig),
    Nadam(NadamConfig),
    Adadelta(AdadeltaConfig),
    Rprop(RpropConfig),
    Asgd(AsgdConfig),
}

/// The update rule of a parameter group, with its options.
#[derive(Clone, Copy, Debug)]
pub enum Algorithm {
    Fused(FusedRule),
    /// Factored second moments applied as tensor ops, parameter by parameter.
    Adafactor(AdafactorConfig),
    /// Orthogonalized momentum for matrix parameters, as tensor ops (`muon.rs`).
    Muon(MuonConfig),
}

impl FusedRule {
    fn lr_mut(&mut self) -> &mut f64 {
        match self {
            FusedRule::Sgd(c) => &mut c.lr,
            FusedRule::Adam(c) | FusedRule::Radam(c) => &mut c.lr,
            FusedRule::Rmsprop(c) => &mut c.lr,
            FusedRule::Adagrad(c) => &mut c.lr,
            FusedRule::Adamax(c) => &mut c.lr,
            FusedRule::Nadam(c) => &mut c.adam.lr,
            FusedRule::Adadelta(c) => &mut c.lr,
            FusedRule::Rprop(c) => &mut c.lr,
            FusedRule::Asgd(c) => &mut c.lr,
        }
    }

    /// The momentum a cyclic schedule varies: SGD's and RMSprop's momentum, the Adam family's
    /// beta1; `None` for rules without one.
    fn momentum_mut(&mut self) -> Option<&mut f64> {
        match self {
            FusedRule::Sgd(c) => Some(&mut c.momentum),
            FusedRule::Rmsprop(c) => Some(&mut c.momentum),
            FusedRule::Adam(c) | FusedRule::Radam(c) => Some(&mut c.beta1),
            FusedRule::Adamax(c) => Some(&mut c.beta1),
            FusedRule::Nadam(c) => Some(&mut c.adam.beta1),
            FusedRule::Adagrad(_)
            | FusedRule::Adadelta(_)
            | FusedRule::Rprop(_)
            | FusedRule::Asgd(_) => None,
        }
    }
}

impl Algorithm {
    /// The group's learning rate.
    pub fn lr(&self) -> f64 {
        let mut copy = *self;
        *copy.lr_mut()
    }

    /// Sets the group's learning rate (schedules do this).
    pub fn set_lr(&mut self, lr: f64) {
        *self.lr_mut() = lr;
    }

    fn lr_mut(&mut self) -> &mut f64 {
        match self {
            Algorithm::Fused(rule) => rule.lr_mut(),
            Algorithm::Adafactor(c) => &mut c.lr,
            Algorithm::Muon(c) => &mut c.lr,
        }
    }

    /// Sets the momentum that cyclic schedules vary: SGD's and RMSprop's momentum, the Adam
    /// family's beta1. Errors for rules without one.
    pub fn set_momentum(&mut self, m: f64) -> Result<()> {
        let slot = match self {
            Algorithm::Fused(rule) => rule.momentum_mut(),
            Algorithm::Muon(c) => Some(&mut c.momentum),
            Algorithm::Adafactor(_) => None,
        };
        match slot {
            Some(slot) => {
                *slot = m;
                Ok(())
            }
            None => Err(Error::arg(
                "fit",
                "schedule",
                "an optimizer with a momentum or beta1 to cycle",
                "one without (Adagrad, Adadelta, Rprop, ASGD or Adafactor)",
            )),
        }
    }
}
