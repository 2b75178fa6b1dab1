//! An attack over every batch of a loader: adversarial inputs, clean and adversarial predictions.

use super::apgd::{apgd_batch, ApgdConfig};
use super::cw::{cw_batch, CwConfig};
use super::deepfool::{deepfool_batch, DeepFoolConfig};
use super::ead::{ead_batch, EadConfig};
use super::fab::{fab_batch, FabConfig};
use super::host_view::HostView;
use super::jsma::{jsma_batch, JsmaConfig};
use super::objective::predictions;
use super::one_pixel::{one_pixel_batch, OnePixelConfig};
use super::pgd::{attack_batch, AttackConfig, BatchResult};
use super::pixle::{pixle_batch, PixleConfig};
use super::sparsefool::{sparsefool_batch, SparseFoolConfig};
use super::spsa::{spsa_batch, SpsaConfig};
use super::square::{square_batch, SquareConfig};
use super::trades::trades_batch;
use crate::data::Batch;
use crate::nn::Module;
use crate::rng::RngState;
use crate::{Error, NoGradGuard, Result, Tensor};

/// Which attack runs over the batches.
#[derive(Clone, Debug)]
pub enum Attack {
    Pgd(AttackConfig),
    Apgd(ApgdConfig),
    Square(SquareConfig),
    Spsa(SpsaConfig),
    Cw(CwConfig),
    Ead(EadConfig),
    DeepFool(DeepFoolConfig),
    SparseFool(SparseFoolConfig),
    Fab(FabConfig),
    Jsma(JsmaConfig),
    OnePixel(OnePixelConfig),
    Pixle(PixleConfig),
    /// TRADES' inner maximisation as an evaluation attack (TPGD).
    Tpgd(AttackConfig),
}

impl Attack {
    /// Runs the attack on one batch. PGD, APGD, SPSA, CW, EAD and DeepFool keep their iterates on the
    /// model's device; Square, FAB, JSMA, SparseFool, one-pixel and Pixle keep theirs on the host and see the model through a
    /// `HostView`.
    pub fn run_batch(
        &self,
        model: &dyn Module,
        x: &[f32],
        shape: &[usize],
        labels: &[i64],
        targets: Option<&[i64]>,
        rng: &mut RngState,
    ) -> Result<BatchResult> {
        let view = HostView::of(model);
        match self {
            Attack::Pgd(cfg) => attack_batch(model, x, shape, labels, targets, cfg, rng),
            Attack::Apgd(cfg) => apgd_batch(model, x, shape, labels, targets, cfg, rng),
            Attack::Square(_) if targets.is_some() => Err(crate::Error::NotImplemented(
                "Square: the targeted version is not implemented".into(),
            )),
            Attack::Square(cfg) => square_batch(&view, x, shape, labels, cfg, rng),
            Attack::Spsa(cfg) => spsa_batch(model, x, shape, labels, targets, cfg, rng),
            Attack::Cw(_) if targets.is_some() => Err(crate::Error::NotImplemented(
                "CW: the targeted version is not implemented".into(),
            )),
            Attack::Cw(cfg) => cw_batch(model, x, shape, labels, cfg),
            Attack::Ead(_) if targets.is_some() => Err(crate::Error::NotImplemented(
                "EAD: the targeted version is not implemented".into(),
            )),
            Attack::Ead(cfg) => ead_batch(model, x, shape, labels, cfg),
            Attack::DeepFool(_) if targets.is_some() => Err(crate::Error::NotImplemented(
                "DeepFool is untargeted".into(),
            )),
            Attack::DeepFool(cfg) => deepfool_batch(model, x, shape, labels, cfg),
            Attack::SparseFool(_) if targets.is_some() => Err(crate::Error::NotImplemented(
                "SparseFool is untargeted".into(),
            )),
            Attack::SparseFool(cfg) => sparsefool_batch(model, x, shape, labels, cfg),
            Attack::Fab(cfg) => fab_batch(model, x, shape, labels, targets, cfg, rng),
            Attack::Jsma(cfg) => jsma_batch(model, x, shape, labels, targets, cfg),
            Attack::OnePixel(cfg) => one_pixel_batch(&view, x, shape, labels, targets, cfg, rng),
            Attack::Pixle(cfg) => pixle_batch(&view, x, shape, labels, targets, cfg, rng),
            Attack::Tpgd(_) if targets.is_some() => Err(crate::Error::NotImplemented(
                "TPGD is untargeted (it moves away from the model's own clean prediction)".into(),
            )),
            Attack::Tpgd(cfg) => {
                let adversarial = trades_batch(model, x, shape, cfg, rng)?;
                let predictions = {
                    let _guard = NoGradGuard::new();
                    predictions(&model.forward(&adversarial)?)?
                };
                Ok(BatchResult {
                    adversarial: adversarial
                        .to_device(crate::Device::Cpu)?
                        .contiguous()?
                        .to_vec::<f32>()?,
                    success: predictions
                        .iter()
                        .zip(labels)
                        .map(|(p, y)| p != y)
                        .collect(),
                    predictions,
                })
            }
        }
    }
}

/// Everything an attack over a dataset produced, in loader order.
#[derive(Clone, Debug, Default)]
pub struct DatasetResult {
    /// Adversarial inputs, row-major `shape`.
    pub adversarial: Vec<f32>,
    pub shape: Vec<usize>,
    pub labels: Vec<i64>,
    pub clean_predictions: Vec<i64>,
    pub adversarial_predictions: Vec<i64>,
    /// Whether each sample met the attack's goal (misclassified, or classified as the target).
    pub success: Vec<bool>,
}

/// Attacks `total` batches; `targets` (one per sample, in loader order) makes the attack targeted.
/// Random starts draw from the Philox stream `seed`; `on_batch(done)` may stop the loop.
pub fn attack_batches(
    model: &dyn Module,
    batches: &mut dyn Iterator<Item = Result<Batch>>,
    total: usize,
    targets: Option<&[i64]>,
    attack: &Attack,
    seed: u64,
    on_batch: &mut dyn FnMut(usize) -> Result<()>,
) -> Result<DatasetResult> {
    let view = HostView::of(model);
    let mut rng = RngState { seed, offset: 0 };
    let mut out = DatasetResult::default();
    for (i, batch) in (&mut *batches).take(total).enumerate() {
        let batch = batch?;
        let n = batch.labels.len();
        let start = out.labels.len();
        let batch_targets = match targets {
            Some(t) => Some(t.get(start..start + n).ok_or_else(|| {
                Error::arg(
                    "attack",
                    "targets",
                    "one target class per sample",
                    format!("{} targets", t.len()),
                )
            })?),
            None => None,
        };
        let inputs = batch.float_inputs("attack")?;
        let clean = {
            let _guard = NoGradGuard::new();
            predictions(&view.forward(&Tensor::from_vec(inputs.to_vec(), &batch.shape)?)?)?
        };
        let result = attack.run_batch(
            model,
            inputs,
            &batch.shape,
            &batch.labels,
            batch_targets,
            &mut rng,
        )?;
        if out.shape.is_empty() {
            out.shape = batch.shape.clone();
            out.shape[0] = 0;
        }
        out.shape[0] += n;
        out.adversarial.extend_from_slice(&result.adversarial);
        out.labels.extend_from_slice(&batch.labels);
        out.clean_predictions.extend(clean);
        out.adversarial_predictions.extend(result.predictions);
        out.success.extend(result.success);
        on_batch(i + 1)?;
    }
    Ok(out)
}
