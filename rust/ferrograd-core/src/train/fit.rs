//! One training epoch.

use std::time::Instant;

use super::free_adversarial::{replayed, FreePerturbation};
use super::objective::{count_correct, count_correct_on_device, Objective};
use super::step_graph::StepGraphs;
use super::weight_perturbation::{perturb_weights, perturbed_weights, restore_weights};
use crate::attack::{adversarial_batch, trades_batch, AttackConfig};
use crate::data::Batch;
use crate::nn::Module;
use crate::ops::loss::{kl_div, KlReduction};
use crate::optim::{clip_grad_norm, clip_on_device, Optimizer, WeightAverage};
use crate::rng::RngState;
use crate::{Device, Error, Result, Tensor};

/// Adversarial training. The attack runs on `model`, the same parameters in evaluation mode, and
/// draws from `rng`.
pub struct Adversary<'a> {
    pub model: &'a dyn Module,
    pub config: AttackConfig,
    pub rng: RngState,
    pub loss: AdversarialLoss,
    /// AWP's relative size `gamma`: perturb the weights before each step (see
    /// `weight_perturbation`).
    pub weight_perturbation: Option<f32>,
}

/// What adversarial training minimises.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum AdversarialLoss {
    /// The objective on the attacked batch, which replaces the clean one (PGD-AT; with one
    /// uniform-start step of 1.25 ε, Fast-AT).
    Replace,
    /// TRADES: `objective(f(x), y) + β KL(f(x) || f(x'))`, `x'` from TRADES' inner maximisation.
    Trades(f32),
    /// MART (Wang et al., 2020): on the attacked batch `x'`, the objective plus the boosting term
    /// `-log(1 - p'_k)` for the most likely wrong class `k`, plus
    /// `β KL(p || p') (1 - p_y)`, the divergence from the clean prediction weighted by how
    /// poorly the clean input is classified.
    Mart(f32),
    /// Free adversarial training: each batch replayed `replays` times, every replay a step on
    /// the batch plus the persistent perturbation, which the step's input gradient moves by the
    /// attack's `alpha` within its `eps` (see `free_adversarial`; the perturbation starts at zero
    /// each epoch). No separate attack runs.
    Free { replays: usize },
}

/// How an epoch trains.
#[derive(Clone, Debug, Default)]
pub struct TrainOptions {
    /// Clip the global gradient norm to this value before each optimizer step.
    pub grad_clip: Option<f32>,
    /// Batches whose gradients add up before one optimizer step (1: every batch). The loss of
    /// each is divided by this, so an accumulated step equals one step on the larger batch. A
    /// final partial group still steps.
    pub accumulate: usize,
    /// Learning rate of each parameter group for each optimizer step of the epoch (a per-step
    /// schedule, evaluated in advance); `None` keeps the groups' rates.
    pub step_lrs: Option<Vec<Vec<f64>>>,
    /// Momentum (SGD, RMSprop) or beta1 (the Adam family) of each group for each optimizer step,
    /// for schedules that cycle it (OneCycleLR, CyclicLR); `None` keeps the groups' values.
    pub step_momenta: Option<Vec<Vec<f64>>>,
    /// Where the model lives: each batch is moved there before the forward pass.
    pub device: Device,
    /// A running average of the weights (SWA or EMA) folded in after every optimizer step.
    pub average: Option<WeightAverage>,
    /// On a GPU, replay the forward and backward passes of batches whose shapes repeat as CUDA
    /// graphs (see `step_graph`); steps that accumulate gradients or train adversarially run
    /// eagerly.
    pub cuda_graphs: bool,
}

/// Where an epoch stands, after each batch.
#[derive(Clone, Debug, Default)]
pub struct Progress {
    /// Batches done and in the epoch.
    pub batch: usize,
    pub batches: usize,
    /// Optimizer steps taken.
    pub steps: usize,
    pub samples: usize,
    /// Mean loss and accuracy over the samples so far.
    pub loss: f64,
    pub accuracy: f64,
    /// Seconds since the epoch started.
    pub elapsed: f64,
    /// Batches whose forward and backward passes ran as a CUDA graph.
    pub graphed: usize,
    /// Why the epoch stopped capturing CUDA graphs, when a capture failed.
    pub graphs_off: Option<String>,
}

/// An epoch's summary.
pub type EpochStats = Progress;

/// Trains `model` for one pass over `batches` (of which there are `total`). `on_batch` runs after
/// every batch, at a step boundary when no gradients are pending; an error from it (e.g.
/// [`Error::Interrupted`]) stops the epoch with the model and optimizer consistent.
#[allow(clippy::too_many_arguments)] // each argument is a distinct role of the loop
pub fn train_epoch(
    model: &dyn Module,
    batches: &mut dyn Iterator<Item = Result<Batch>>,
    total: usize,
    objective: &dyn Objective,
    optimizer: &mut Optimizer,
    options: &TrainOptions,
    mut adversary: Option<&mut Adversary<'_>>,
    on_batch: &mut dyn FnMut(&Progress) -> Result<()>,
) -> Result<EpochStats> {
    let accumulate = options.accumulate.max(1);
    let (replays, mut free) = match adversary.as_deref() {
        Some(Adversary {
            loss: AdversarialLoss::Free { replays },
            config,
            ..
        }) => (
            (*replays).max(1),
            Some(FreePerturbation::new(
                config.alpha,
                config.eps,
                config.bounds,
            )),
        ),
        _ => (1, None),
    };
    let total = total * replays;
    let batches = &mut replayed(batches, replays);
    let schedules = [
        ("step_lrs", "learning rates", &options.step_lrs),
        ("step_momenta", "momenta", &options.step_momenta),
    ];
    for (name, what, rows) in schedules {
        let Some(rows) = rows else { continue };
        let needed = total.div_ceil(accumulate);
        if rows.len() < needed || rows.iter().any(|r| r.len() != optimizer.groups.len()) {
            return Err(Error::arg(
                "fit",
                name,
                format!("{needed} rows of {} {what}", optimizer.groups.len()),
                format!("{} rows", rows.len()),
            ));
        }
    }
    let start = Instant::now();
    let mut p = Progress {
        batches: total,
        ..Progress::default()
    };
    let mut tally = Tally::default();
    let mut on_device = Vec::new();
    let deferred = options.device != Device::Cpu;
    let mut graphs = (deferred && options.cuda_graphs && accumulate == 1 && adversary.is_none())
        .then(StepGraphs::default);
    let params: Vec<Tensor> = optimizer.params().cloned().collect();
    let awp = adversary.as_deref().and_then(|a| a.weight_perturbation);
    let awp_weights = match awp {
        Some(_) => perturbed_weights(&params),
        None => Vec::new(),
    };
    optimizer.zero_grad();
    let result = (|| {
        for batch in (&mut *batches).take(total) {
            let batch = batch?;
            let n = batch.len();
            let labels = batch.labels.clone();
            let mut regulariser = None;
            let mut adversarial = None;
            if let Some(adv) = adversary.as_deref_mut() {
                let (attacker, config, rng) = (adv.model, &adv.config, &mut adv.rng);
                let (inputs, shape) = (batch.float_inputs("fit(adversarial=...)")?, &batch.shape);
                match adv.loss {
                    AdversarialLoss::Replace => {
                        adversarial = Some(adversarial_batch(
                            attacker, inputs, shape, &labels, config, rng,
                        )?);
                    }
                    // TRADES and MART keep the clean batch and add their terms below.
                    AdversarialLoss::Trades(beta) => {
                        let x_adv = trades_batch(attacker, inputs, shape, config, rng)?;
                        regulariser = Some(Regulariser::Trades(x_adv, beta));
                    }
                    AdversarialLoss::Mart(beta) => {
                        let x_adv =
                            adversarial_batch(attacker, inputs, shape, &labels, config, rng)?;
                        regulariser = Some(Regulariser::Mart(x_adv, beta));
                    }
                    // The perturbation is added to the batch below, on its device.
                    AdversarialLoss::Free { .. } => {}
                }
            }
            let (x, y) = batch.into_tensors()?;
            let x = match adversarial {
                Some(x_adv) => x_adv,
                None => x.to_device(options.device)?,
            };
            let (x, free_delta) = match free.as_mut() {
                Some(free) => {
                    let (delta, seen) = free.perturb(&x)?;
                    (seen, Some(delta))
                }
                None => (x, None),
            };
            let y = y.to_device(options.device)?;
            let graphed = match graphs.as_mut() {
                Some(graphs) => graphs.run(model, objective, &params, &x, &y)?,
                None => None,
            };
            // AWP's weight perturbations of this batch, taken back after its step.
            let mut moved = Vec::new();
            let outcome = match graphed {
                Some(out) => {
                    p.graphed += 1;
                    Outcome::Device {
                        loss: out.loss,
                        correct: out.correct,
                    }
                }
                None => {
                    let pass = EagerPass {
                        model,
                        objective,
                        accumulate,
                        deferred,
                        batch: p.batch + 1,
                    };
                    if let Some(gamma) = awp {
                        moved = perturb_weights(model, &awp_weights, gamma, || {
                            Ok(pass.loss(&x, &y, regulariser.as_ref())?.0)
                        })?;
                    }
                    pass.run(&x, &y, regulariser.as_ref())?
                }
            };
            if let (Some(free), Some(delta)) = (free.as_mut(), free_delta.as_ref()) {
                free.update(delta)?;
            }
            p.graphs_off = graphs.as_ref().and_then(|g| g.off.clone());
            p.batch += 1;
            let step_boundary = p.batch.is_multiple_of(accumulate) || p.batch == total;
            if step_boundary {
                step(optimizer, options, p.steps, &moved)?;
                p.steps += 1;
            } else {
                // Accumulating: the gradient is taken, the weights go back before the next batch.
                restore_weights(&moved)?;
            }
            let record = BatchRecord {
                samples: n,
                labelled: 0,
                batch: p.batch,
                steps: p.steps,
                report: step_boundary,
            };
            match outcome {
                Outcome::Host { value, output } => {
                    let (right, labelled) = count_correct(&output.detach(), &labels)?;
                    let record = BatchRecord { labelled, ..record };
                    tally.add(&mut p, &record, value, right as f64, start);
                    if record.report {
                        on_batch(&p)?;
                    }
                }
                Outcome::Device { loss, correct } => {
                    let labelled = match correct {
                        Some(_) => labels.iter().filter(|&&l| l >= 0).count(),
                        None => 0,
                    };
                    on_device.push(DeviceBatch {
                        loss: loss.detach(),
                        correct,
                        record: BatchRecord { labelled, ..record },
                    });
                    if step_boundary && (on_device.len() >= DEVICE_READ_EVERY || p.batch == total) {
                        read_device_batches(&mut on_device, &mut tally, &mut p, start, on_batch)?;
                    }
                }
            }
        }
        Ok(())
    })();
    if result.is_err() {
        // Leave no half-accumulated gradient behind.
        optimizer.zero_grad();
    }
    // The average's count covers the steps taken, also when the epoch stopped early.
    let counted = match &options.average {
        Some(average) => average.finish(p.steps),
        None => Ok(()),
    };
    result.and(counted).map(|_| p)
}

/// A batch's loss and accuracy count, as its backward pass left them.
enum Outcome {
    /// On the CPU: the loss, checked to be finite, and the output to count from.
    Host { value: f64, output: Tensor },
    /// On a GPU: the loss and the correct count, still on the device.
    Device {
        loss: Tensor,
        correct: Option<Tensor>,
    },
}

/// The forward pass, the loss and the backward pass of one batch, op by op.
struct EagerPass<'a> {
    model: &'a dyn Module,
    objective: &'a dyn Objective,
    accumulate: usize,
    /// On a GPU: the loss stays on the device.
    deferred: bool,
    /// The batch's 1-based number, for the error naming a non-finite loss.
    batch: usize,
}

impl EagerPass<'_> {
    /// The batch's loss and the model's output; a `regulariser` replaces the loss with TRADES'
    /// or MART's.
    fn loss(
        &self,
        x: &Tensor,
        y: &Tensor,
        regulariser: Option<&Regulariser>,
    ) -> Result<(Tensor, Tensor)> {
        let output = self.model.forward(x)?;
        let loss = match regulariser {
            None => self.objective.loss(&output, y)?,
            Some(Regulariser::Trades(x_adv, beta)) => {
                let divergence = kl_div(
                    &self.model.forward(x_adv)?.log_softmax(1)?,
                    &output.softmax(1)?,
                    KlReduction::BatchMean,
                    false,
                )?;
                self.objective
                    .loss(&output, y)?
                    .add(&divergence.mul_scalar(*beta)?)?
            }
            Some(Regulariser::Mart(x_adv, beta)) => mart_loss(
                self.objective,
                &output,
                &self.model.forward(x_adv)?,
                y,
                *beta,
            )?,
        };
        Ok((loss, output))
    }

    /// Runs the batch: its loss (see `loss`) and backward pass.
    fn run(&self, x: &Tensor, y: &Tensor, regulariser: Option<&Regulariser>) -> Result<Outcome> {
        let (loss, output) = self.loss(x, y, regulariser)?;
        // On the CPU the loss is checked before the step; on a GPU it stays on the device (see
        // `DeviceBatch`) and is checked when read.
        let outcome = match self.deferred {
            false => Outcome::Host {
                value: finite_loss(loss.item()?, self.batch)?,
                output: output.clone(),
            },
            true => Outcome::Device {
                loss: loss.clone(),
                correct: count_correct_on_device(&output.detach(), y)?,
            },
        };
        let scaled = match self.accumulate {
            1 => loss,
            k => loss.affine(1.0 / k as f32, 0.0)?,
        };
        scaled.backward(None)?;
        Ok(outcome)
    }
}

/// The attacked batch of TRADES or MART and their weight β.
enum Regulariser {
    Trades(Tensor, f32),
    Mart(Tensor, f32),
}

/// MART's loss from the clean and attacked outputs: `objective(f(x'), y) - mean log(1.0001 -
/// p'_k + 1e-12)` with `k` the most likely wrong class at `x'`, plus `β mean_i KL(p_i || p'_i)
/// (1.0000001 - p_{i,y})`, the divergence `Σ_c p_c (log p_c - log(p'_c + 1e-12))` (the constants
/// keep logs finite, as in the authors' code).
fn mart_loss(
    objective: &dyn Objective,
    clean: &Tensor,
    attacked: &Tensor,
    y: &Tensor,
    beta: f32,
) -> Result<Tensor> {
    let classes = attacked.shape()[1];
    let p_adv = attacked.softmax(1)?;
    let p_clean = clean.softmax(1)?;
    let rows = y.reshape(&[y.numel(), 1])?;
    let rival = {
        let _guard = crate::NoGradGuard::new();
        // The label pushed out of the running, then the most likely remaining class.
        p_adv
            .sub(&y.one_hot(classes)?.mul_scalar(2.0)?)?
            .argmax(1, true)?
    };
    let boost = p_adv
        .gather(1, &rival)?
        .affine(-1.0, 1.0001 + 1e-12)?
        .log()?
        .mean(&[0, 1], false)?
        .neg()?;
    let log_ratio = clean
        .log_softmax(1)?
        .sub(&p_adv.add_scalar(1e-12)?.log()?)?;
    let divergence = p_clean.mul(&log_ratio)?.sum(&[1], false)?;
    let weight = p_clean
        .gather(1, &rows)?
        .squeeze(Some(1))?
        .affine(-1.0, 1.000_000_1)?;
    let robust = divergence.mul(&weight)?.mean(&[0], false)?;
    objective
        .loss(attacked, y)?
        .add(&boost)?
        .add(&robust.mul_scalar(beta)?)
}

/// On a GPU, each batch's loss and correct count stay on the device and are read every this many
/// batches (at a step boundary) and at the end of the epoch, so a step never waits for the one
/// before it to finish. The non-finite-loss check and `on_batch` then run for each batch in order,
/// with the progress it had: a bad loss stops the epoch up to this many batches late.
const DEVICE_READ_EVERY: usize = 16;

/// What a batch adds to the epoch's progress.
struct BatchRecord {
    samples: usize,
    labelled: usize,
    /// `Progress::batch` and `Progress::steps` after this batch.
    batch: usize,
    steps: usize,
    /// Whether `on_batch` runs after it (a step boundary).
    report: bool,
}

/// A batch whose loss and correct count are still on the device.
struct DeviceBatch {
    loss: Tensor,
    correct: Option<Tensor>,
    record: BatchRecord,
}

/// The epoch's running sums behind `Progress::loss` and `Progress::accuracy`.
#[derive(Default)]
struct Tally {
    loss_sum: f64,
    correct: f64,
    counted: usize,
}

impl Tally {
    fn add(&mut self, p: &mut Progress, r: &BatchRecord, loss: f64, correct: f64, start: Instant) {
        self.loss_sum += loss * r.samples as f64;
        self.correct += correct;
        self.counted += r.labelled;
        p.batch = r.batch;
        p.steps = r.steps;
        p.samples += r.samples;
        p.loss = self.loss_sum / p.samples as f64;
        p.accuracy = self.correct / self.counted.max(1) as f64;
        p.elapsed = start.elapsed().as_secs_f64();
    }
}

/// `value`, or the error that the loss diverged at `batch` (1-based).
fn finite_loss(value: f64, batch: usize) -> Result<f64> {
    if value.is_finite() {
        return Ok(value);
    }
    Err(Error::Autograd(format!(
        "fit: the loss became {value} at batch {batch} of the epoch; lower the learning rate or clip gradients"
    )))
}

/// Reads the pending device batches (one copy for the losses, one for the counts) and accounts
/// for each in order, as the CPU loop does right after its batch.
fn read_device_batches(
    pending: &mut Vec<DeviceBatch>,
    tally: &mut Tally,
    p: &mut Progress,
    start: Instant,
    on_batch: &mut dyn FnMut(&Progress) -> Result<()>,
) -> Result<()> {
    let batches = std::mem::take(pending);
    let losses: Vec<Tensor> = batches
        .iter()
        .map(|b| b.loss.reshape(&[1]))
        .collect::<Result<_>>()?;
    let losses = Tensor::cat(&losses, 0)?
        .to_device(Device::Cpu)?
        .to_vec::<f32>()?;
    let counts: Vec<Tensor> = batches
        .iter()
        .filter_map(|b| b.correct.as_ref().map(|c| c.reshape(&[1])))
        .collect::<Result<_>>()?;
    let counts = match counts.is_empty() {
        true => Vec::new(),
        false => Tensor::cat(&counts, 0)?
            .to_device(Device::Cpu)?
            .to_vec::<f32>()?,
    };
    let mut counts = counts.into_iter();
    for (b, &loss) in batches.iter().zip(&losses) {
        let value = finite_loss(loss as f64, b.record.batch)?;
        let correct = match b.correct {
            Some(_) => counts.next().unwrap_or(0.0) as f64,
            None => 0.0,
        };
        tally.add(p, &b.record, value, correct, start);
        if b.record.report {
            on_batch(p)?;
        }
    }
    Ok(())
}

/// One optimizer step: the scheduled learning rates, clipping, the update, cleared gradients.
/// One optimizer step (with the per-step schedule and clipping); AWP's perturbations `moved` are
/// taken back right after it, before the weight average sees the weights.
fn step(
    optimizer: &mut Optimizer,
    options: &TrainOptions,
    index: usize,
    moved: &[(Tensor, Tensor)],
) -> Result<()> {
    if let Some(lrs) = &options.step_lrs {
        for (group, &lr) in optimizer.groups.iter_mut().zip(&lrs[index]) {
            group.algorithm.set_lr(lr);
        }
    }
    if let Some(momenta) = &options.step_momenta {
        for (group, &m) in optimizer.groups.iter_mut().zip(&momenta[index]) {
            group.algorithm.set_momentum(m)?;
        }
    }
    if let Some(max_norm) = options.grad_clip {
        let params: Vec<Tensor> = optimizer.params().cloned().collect();
        match options.device {
            Device::Cpu => {
                clip_grad_norm(&params, max_norm, 2.0)?;
            }
            // On a GPU the norm is never read, so clipping does not wait for the device.
            _ => {
                let grads: Vec<Tensor> = params.iter().filter_map(|p| p.grad()).collect();
                clip_on_device(&grads, max_norm, 2.0)?;
            }
        }
    }
    optimizer.step()?;
    restore_weights(moved)?;
    optimizer.zero_grad();
    if let Some(average) = &options.average {
        average.update(index)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::{DataLoader, DataLoaderOptions, Dataset, Samples};
    use crate::nn::{Activation, Linear, Sequential};
    use crate::optim::{Algorithm, FusedRule, ParamGroup, SgdConfig};
    use crate::train::CrossEntropy;

    /// Two Gaussian blobs per class corner: class = quadrant sign of x0 * x1 > 0.
    fn xor_like(n: usize) -> Dataset {
        let u = crate::rng::RngState { seed: 7, offset: 0 }.normal(2 * n);
        let labels: Vec<i64> = u.chunks(2).map(|p| (p[0] * p[1] > 0.0) as i64).collect();
        Dataset::new(
            Samples::F32(u),
            vec![2],
            labels,
            vec!["a".into(), "b".into()],
        )
        .unwrap()
    }

    /// A 2-16-2 tanh MLP with weights from a local generator (tests run in parallel, so the
    /// global one would race).
    fn mlp(seed: u64) -> (Sequential, Vec<Tensor>) {
        let mut rng = crate::rng::RngState { seed, offset: 0 };
        let scaled = |v: Vec<f32>, s: f32| v.into_iter().map(|x| x * s).collect::<Vec<_>>();
        let w1 = Tensor::from_vec(scaled(rng.normal(32), 0.7), &[16, 2]).unwrap();
        let w2 = Tensor::from_vec(scaled(rng.normal(32), 0.25), &[2, 16]).unwrap();
        let b1 = Tensor::zeros(&[16], crate::DType::F32, crate::Device::Cpu).unwrap();
        let params = vec![w1.clone(), b1.clone(), w2.clone()];
        for p in &params {
            p.set_requires_grad(true).unwrap();
        }
        let model = Sequential::new(vec![
            Box::new(Linear {
                weight: w1,
                bias: Some(b1),
            }),
            Box::new(Activation::Tanh),
            Box::new(Linear {
                weight: w2,
                bias: None,
            }),
        ]);
        (model, params)
    }

    fn sgd(params: Vec<Tensor>, lr: f64) -> Optimizer {
        Optimizer::new(vec![ParamGroup {
            params,
            algorithm: Algorithm::Fused(FusedRule::Sgd(SgdConfig {
                lr,
                momentum: 0.9,
                dampening: 0.0,
                weight_decay: 0.0,
                nesterov: false,
                maximize: false,
            })),
        }])
    }

    fn run(
        model: &Sequential,
        opt: &mut Optimizer,
        ds: &Dataset,
        bs: usize,
        acc: usize,
    ) -> Progress {
        let mut loader = DataLoader::new(
            ds.clone(),
            DataLoaderOptions {
                batch_size: bs,
                shuffle: false,
                drop_last: false,
                seed: Some(0),
                transforms: vec![],
            },
        )
        .unwrap();
        let total = loader.len();
        let options = TrainOptions {
            accumulate: acc,
            ..TrainOptions::default()
        };
        let objective = CrossEntropy::default();
        train_epoch(
            model,
            &mut loader.iter(),
            total,
            &objective,
            opt,
            &options,
            None,
            &mut |_| Ok(()),
        )
        .unwrap()
    }

    #[test]
    fn a_small_mlp_learns_a_nonlinear_boundary() {
        let ds = xor_like(512);
        let (model, params) = mlp(1);
        let mut opt = sgd(params, 0.1);
        let first = run(&model, &mut opt, &ds, 32, 1);
        let mut last = first.clone();
        for _ in 0..30 {
            last = run(&model, &mut opt, &ds, 32, 1);
        }
        assert!(
            last.loss < 0.5 * first.loss,
            "{} -> {}",
            first.loss,
            last.loss
        );
        assert!(last.accuracy > 0.93, "accuracy {}", last.accuracy);
        assert_eq!((last.batch, last.steps, last.samples), (16, 16, 512));
    }

    #[test]
    fn accumulating_two_half_batches_equals_one_full_batch() {
        let ds = xor_like(64);
        let (a, pa) = mlp(2);
        let (b, pb) = mlp(2);
        let (mut oa, mut ob) = (sgd(pa.clone(), 0.05), sgd(pb.clone(), 0.05));
        for _ in 0..3 {
            run(&a, &mut oa, &ds, 16, 1);
            let p = run(&b, &mut ob, &ds, 8, 2);
            assert_eq!(p.steps, 4);
        }
        for (x, y) in pa.iter().zip(&pb) {
            let (x, y) = (x.to_vec::<f32>().unwrap(), y.to_vec::<f32>().unwrap());
            let diff = x
                .iter()
                .zip(&y)
                .map(|(u, v)| (u - v).abs())
                .fold(0.0, f32::max);
            assert!(diff < 1e-5, "max difference {diff}");
        }
    }

    #[test]
    fn an_error_from_the_callback_stops_the_epoch_without_pending_gradients() {
        let ds = xor_like(64);
        let (model, params) = mlp(3);
        let mut opt = sgd(params.clone(), 0.05);
        let mut loader = DataLoader::new(
            ds,
            DataLoaderOptions {
                batch_size: 8,
                shuffle: true,
                drop_last: false,
                seed: Some(0),
                transforms: vec![],
            },
        )
        .unwrap();
        let mut calls = 0;
        let opts = TrainOptions {
            accumulate: 1,
            ..TrainOptions::default()
        };
        let r = train_epoch(
            &model,
            &mut loader.iter(),
            8,
            &CrossEntropy::default(),
            &mut opt,
            &opts,
            None,
            &mut |_| {
                calls += 1;
                if calls == 3 {
                    Err(Error::Interrupted)
                } else {
                    Ok(())
                }
            },
        );
        assert!(matches!(r, Err(Error::Interrupted)));
        assert_eq!(calls, 3);
        assert!(params.iter().all(|p| p.grad().is_none()));
        assert_eq!(opt.state(&params[0]).unwrap().step, 3);
    }
}
