//! Auto-PGD (Croce and Hein, 2020): PGD without a step-size to tune. Each sample starts with
//! step 2ε, moves with momentum 0.75, and at checkpoints (after 22% of the iterations, then at
//! shrinking intervals down to 6%) halves its step and restarts from its best point when the
//! objective rose in fewer than 75% of the last interval's steps, or when neither the step nor the
//! best objective changed since the previous checkpoint. Returns, per sample, a successful point
//! if any was met, else the highest-objective one.

use super::batch::{ascent_direction, project_onto_ball, restart_stream, Best, Goal};
use super::iterate::objective_and_grad;
use super::objective::{predictions, AttackLoss};
use super::pgd::{BatchResult, Norm};
use crate::nn::Module;
use crate::rng::RngState;
use crate::{Device, Result, Tensor};

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

/// Projection of one sample onto the ε-ball around `x` and the bounds.
fn project(v: &mut [f32], x: &[f32], cfg: &ApgdConfig) {
    project_onto_ball(v, x, cfg.eps, cfg.norm, cfg.bounds, v.len());
}

/// The start of a restart: a random point on the boundary region of the ball (L∞: uniform
/// noise rescaled so its largest coordinate is ε; L2: a Gaussian direction of length ε).
fn start(x: &[f32], dim: usize, cfg: &ApgdConfig, rng: &mut RngState) -> Vec<f32> {
    let noise = match cfg.norm {
        Norm::Linf => rng.uniform(x.len()).iter().map(|u| 2.0 * u - 1.0).collect(),
        Norm::L2 => rng.normal(x.len()),
    };
    let mut out = x.to_vec();
    for ((o, n), xi) in out
        .chunks_mut(dim)
        .zip(noise.chunks(dim))
        .zip(x.chunks(dim))
    {
        let scale = match cfg.norm {
            Norm::Linf => n.iter().fold(0f32, |m, v| m.max(v.abs())),
            Norm::L2 => n.iter().map(|v| v * v).sum::<f32>().sqrt(),
        }
        .max(1e-12);
        o.iter_mut()
            .zip(n)
            .for_each(|(o, n)| *o += cfg.eps * n / scale);
        project(o, xi, cfg);
    }
    out
}

/// APGD on one batch with true `labels` (`targets` for the targeted version).
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
    let g = Goal::new(x, shape, labels, targets, Device::Cpu)?;
    let (batch, dim) = (g.batch, g.dim);
    let eval = |p: &[f32]| -> Result<(Vec<f32>, Vec<f32>, Vec<i64>)> {
        let point = Tensor::from_vec(p.to_vec(), shape)?;
        let (f, grad, logits) = objective_and_grad(model, &point, &g, cfg.loss, cfg.eot)?;
        Ok((f.to_vec()?, grad.to_vec()?, predictions(&logits)?))
    };
    let marks = checkpoints(cfg.steps);
    let mut out = Best::new(x, &g);
    let base = *rng;
    for r in 0..cfg.restarts.max(1) as u64 {
        let mut stream = restart_stream(&base, r);
        let mut cur = start(x, dim, cfg, &mut stream);
        rng.offset = stream.offset;
        let (mut f, mut grad, mut pred) = eval(&cur)?;
        let mut prev = cur.clone();
        let (mut best, mut best_f, mut best_grad) = (cur.clone(), f.clone(), grad.clone());
        let mut step = vec![2.0 * cfg.eps; batch];
        out.offer(&cur, &f, &pred, &g);
        let mut increases = vec![0usize; batch];
        let mut last_f = f.clone();
        let mut checkpoint_best = best_f.clone();
        let mut reduced_last = vec![false; batch];
        let mut since = 0usize;
        let mut next_mark = 0usize;
        for k in 0..cfg.steps {
            // z = P(x + step * d); x' = P(x + a (z - x) + (1 - a)(x - x_prev)), a = 1 on the first step.
            let a = if k == 0 { 1.0 } else { 0.75 };
            let mut next = cur.clone();
            for (i, &size) in step.iter().enumerate() {
                let s = i * dim..(i + 1) * dim;
                let d = ascent_direction(&grad[s.clone()], cfg.norm, dim);
                let (c, p) = (&cur[s.clone()], &prev[s.clone()]);
                let mut z: Vec<f32> = c.iter().zip(&d).map(|(c, d)| c + size * d).collect();
                project(&mut z, &x[s.clone()], cfg);
                let n = &mut next[s.clone()];
                for (((n, &z), &c), &p) in n.iter_mut().zip(&z).zip(c).zip(p) {
                    *n = c + a * (z - c) + (1.0 - a) * (c - p);
                }
                project(n, &x[s], cfg);
            }
            prev = std::mem::replace(&mut cur, next);
            (f, grad, pred) = eval(&cur)?;
            out.offer(&cur, &f, &pred, &g);
            for i in 0..batch {
                if f[i] > last_f[i] {
                    increases[i] += 1;
                }
                if f[i] > best_f[i] {
                    best_f[i] = f[i];
                    best[i * dim..(i + 1) * dim].copy_from_slice(&cur[i * dim..(i + 1) * dim]);
                    best_grad[i * dim..(i + 1) * dim]
                        .copy_from_slice(&grad[i * dim..(i + 1) * dim]);
                }
            }
            last_f.clone_from(&f);
            since += 1;
            if next_mark < marks.len() && k + 1 == marks[next_mark] {
                for i in 0..batch {
                    let oscillating = (increases[i] as f32) < 0.75 * since as f32;
                    let stalled = !reduced_last[i] && checkpoint_best[i] >= best_f[i];
                    reduced_last[i] = oscillating || stalled;
                    if reduced_last[i] {
                        step[i] /= 2.0;
                        let s = i * dim..(i + 1) * dim;
                        cur[s.clone()].copy_from_slice(&best[s.clone()]);
                        grad[s.clone()].copy_from_slice(&best_grad[s]);
                    }
                }
                checkpoint_best.clone_from(&best_f);
                increases.iter_mut().for_each(|c| *c = 0);
                since = 0;
                next_mark += 1;
            }
        }
    }
    Ok(out.result)
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
