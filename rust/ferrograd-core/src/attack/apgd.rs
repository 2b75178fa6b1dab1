//! Auto-PGD (Croce and Hein, 2020): PGD without a step-size to tune. Each sample starts with
//! step 2ε, moves with momentum 0.75, and at checkpoints (after 22% of the iterations, then at
//! shrinking intervals down to 6%) halves its step and restarts from its best point when the
//! objective rose in fewer than 75% of the last interval's steps, or when neither the step nor the
//! best objective changed since the previous checkpoint. Returns, per sample, a successful point
//! if any was met, else the highest-objective one.

use super::batch::{per_sample, restart_stream, Best, Goal};
use super::host_view::model_device;
use super::iterate::{floored, objective_and_grad, project_onto_ball, sample_sums, unit_direction};
use super::objective::AttackLoss;
use super::pgd::{BatchResult, Norm};
use crate::nn::Module;
use crate::rng::RngState;
use crate::{DType, NoGradGuard, Result, Tensor};

/// An APGD run.
#[derive(Clone, Debug)]
pub struct ApgdConfig {
    pub eps: f32,
    pub steps: usize,
    pub norm: Norm,
    pub loss: AttackLoss,
    pub restarts: usize,
    /// Passes averaged per gradient (EOT).
    pub eot: usize,
    pub bounds: (f32, f32),
}

/// Iterations at which the step size is reconsidered.
fn checkpoints(steps: usize) -> Vec<usize> {
    let first = ((0.22 * steps as f64) as usize).max(1);
    let min_gap = ((0.06 * steps as f64) as usize).max(1);
    let shrink = ((0.03 * steps as f64) as usize).max(1);
    let (mut out, mut at, mut gap) = (Vec::new(), first, first);
    while at <= steps {
        out.push(at);
        gap = gap.saturating_sub(shrink).max(min_gap);
        at += gap;
    }
    out
}

/// The start of a restart: a random point on the boundary region of the ball around `x` (L∞:
/// uniform noise rescaled so its largest coordinate is ε; L2: a Gaussian direction of length ε),
/// projected into the bounds.
fn start(x: &Tensor, cfg: &ApgdConfig, rng: &mut RngState) -> Result<Tensor> {
    let n = x.numel();
    let noise = match cfg.norm {
        Norm::Linf => rng.uniform(n).iter().map(|u| 2.0 * u - 1.0).collect(),
        Norm::L2 => rng.normal(n),
    };
    let noise = Tensor::from_vec(noise, x.shape())?.to_device(x.device())?;
    let batch = x.shape().first().copied().unwrap_or(1);
    let scale = match cfg.norm {
        Norm::Linf => per_sample(
            &noise
                .abs()?
                .reshape(&[batch, n / batch.max(1)])?
                .max_dim(1, false)?,
            x.rank(),
        )?,
        Norm::L2 => sample_sums(&noise.square()?)?.sqrt()?,
    };
    let point = x.add(&noise.mul_scalar(cfg.eps)?.div(&floored(scale)?)?)?;
    project_onto_ball(&point, x, cfg.eps, cfg.norm, cfg.bounds)
}

/// Where each sample's `mask` (`[B]` of 0 and 1) is set, `then`, else `otherwise`.
fn choose(mask: &Tensor, then: &Tensor, otherwise: &Tensor) -> Result<Tensor> {
    per_sample(&mask.gt_scalar(0.5)?, then.rank())?.where_cond(then, otherwise)
}

/// `a > b` as 0 and 1.
fn above(a: &Tensor, b: &Tensor) -> Result<Tensor> {
    a.gt(b)?.to_dtype(DType::F32)
}

/// APGD on one batch with true `labels` (`targets` for the targeted version). The iterates, the
/// per-sample step sizes and the bookkeeping of the checkpoints live on the model's device, so a
/// step waits for nothing; only the best points come back to the host, once.
pub fn apgd_batch(
    model: &dyn Module,
    x: &[f32],
    shape: &[usize],
    labels: &[i64],
    targets: Option<&[i64]>,
    cfg: &ApgdConfig,
    rng: &mut RngState,
) -> Result<BatchResult> {
    let _frozen = super::pgd::FrozenParameters::new(model)?;
    let device = model_device(model);
    let g = Goal::new(x, shape, labels, targets, device)?;
    let x = Tensor::from_vec(x.to_vec(), shape)?.to_device(device)?;
    let eval = |p: &Tensor| objective_and_grad(model, p, &g, cfg.loss, cfg.eot);
    let marks = checkpoints(cfg.steps);
    let per_batch = |v: f64| Tensor::full(&[g.batch], v, DType::F32, device);
    let mut out = Best::new(&x, &g)?;
    let base = *rng;
    for r in 0..cfg.restarts.max(1) as u64 {
        let mut stream = restart_stream(&base, r);
        let mut cur = start(&x, cfg, &mut stream)?;
        rng.offset = stream.offset;
        let (mut f, mut grad, logits) = eval(&cur)?;
        out.offer(&cur, &f, &logits)?;
        let mut prev = cur.clone();
        let (mut best, mut best_f, mut best_grad) = (cur.clone(), f.clone(), grad.clone());
        let mut step = per_batch(2.0 * cfg.eps as f64)?;
        let mut increases = per_batch(0.0)?;
        let mut last_f = f.clone();
        let mut checkpoint_best = best_f.clone();
        let mut reduced_last = per_batch(0.0)?;
        let mut since = 0usize;
        let mut next_mark = 0usize;
        for k in 0..cfg.steps {
            let next = {
                let _guard = NoGradGuard::new();
                // z = P(x + step * d); x' = P(x + a (z - x) + (1 - a)(x - x_prev)), a = 1 on the
                // first step.
                let a = if k == 0 { 1.0 } else { 0.75 };
                let d = unit_direction(&grad, cfg.norm)?.mul(&per_sample(&step, cur.rank())?)?;
                let z = project_onto_ball(&cur.add(&d)?, &x, cfg.eps, cfg.norm, cfg.bounds)?;
                let moved = cur
                    .add(&z.sub(&cur)?.mul_scalar(a)?)?
                    .add(&cur.sub(&prev)?.mul_scalar(1.0 - a)?)?;
                project_onto_ball(&moved, &x, cfg.eps, cfg.norm, cfg.bounds)?
            };
            prev = std::mem::replace(&mut cur, next);
            let logits;
            (f, grad, logits) = eval(&cur)?;
            out.offer(&cur, &f, &logits)?;
            let _guard = NoGradGuard::new();
            increases = increases.add(&above(&f, &last_f)?)?;
            let improved = above(&f, &best_f)?;
            best_f = choose(&improved, &f, &best_f)?;
            best = choose(&improved, &cur, &best)?;
            best_grad = choose(&improved, &grad, &best_grad)?;
            last_f = f.clone();
            since += 1;
            if next_mark < marks.len() && k + 1 == marks[next_mark] {
                // Halve the step and restart from the best point where the objective rose in
                // fewer than 75% of the interval's steps, or where neither the step nor the best
                // objective changed since the previous checkpoint.
                let oscillating = per_batch(0.75 * since as f64)?.gt(&increases)?;
                let stalled = reduced_last
                    .affine(-1.0, 1.0)?
                    .mul(&checkpoint_best.ge(&best_f)?.to_dtype(DType::F32)?)?;
                let reduced = oscillating.to_dtype(DType::F32)?.maximum(&stalled)?;
                step = choose(&reduced, &step.mul_scalar(0.5)?, &step)?;
                cur = choose(&reduced, &best, &cur)?;
                grad = choose(&reduced, &best_grad, &grad)?;
                reduced_last = reduced;
                checkpoint_best = best_f.clone();
                increases = per_batch(0.0)?;
                since = 0;
                next_mark += 1;
            }
        }
    }
    out.result()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checkpoints_follow_the_papers_schedule() {
        // p = 0, 0.22, 0.41, 0.57, 0.70, 0.80, 0.87, 0.93, 0.99 of 100 iterations.
        assert_eq!(checkpoints(100), vec![22, 41, 57, 70, 80, 87, 93, 99]);
    }
}
