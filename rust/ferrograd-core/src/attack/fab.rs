//! FAB, the fast adaptive boundary attack (Croce and Hein, 2020), under L∞ or L2: a minimal-norm
//! attack. Each iteration linearises the boundary between the true class and the nearest other
//! class (the target, in the targeted version), projects both the current point and the original
//! input onto that hyperplane inside the box, and moves to a mix of the two projections, each
//! stretched by `eta`; the mix leans toward the original input's projection by `a1 / (a1 + a2)`
//! (the two projections' norms), at most `alpha_max`, which keeps the search near the input.
//! Whenever a point is past the boundary it is kept if it is the closest yet, then pulled back
//! toward the input by `beta`, so the search homes in on the boundary from both sides. Restarts
//! after the first begin at random points at half the best distance so far (or ε). A sample is
//! broken when its closest adversarial point lies within ε.
//!
//! The projection sorts each sample's coordinates, so the iterates live on the host (one transfer
//! of the point and its gradient per iteration); a model on a GPU is reached through a `HostView`.

use rayon::prelude::*;

use super::host_view::HostView;
use super::hyperplane_projection::step_onto_hyperplane;
use super::objective::predictions;
use super::pgd::{BatchResult, FrozenParameters, Norm};
use crate::nn::Module;
use crate::rng::RngState;
use crate::{NoGradGuard, Result, Tensor};

/// A FAB run.
#[derive(Clone, Debug)]
pub struct FabConfig {
    /// The budget a sample's closest adversarial point must meet to count (may be infinite).
    pub eps: f32,
    pub steps: usize,
    pub restarts: usize,
    pub norm: Norm,
    /// The largest weight of the original input's projection in each step.
    pub alpha_max: f32,
    /// How far past the linearised boundary each projection is stretched.
    pub eta: f32,
    /// How far back toward the input a point past the boundary is pulled.
    pub beta: f32,
    pub bounds: (f32, f32),
    /// With targets: cross the boundary between the label and the target and count any wrong
    /// class as success (AutoAttack's FAB-T), instead of crossing the target's boundaries with
    /// its rivals until the target wins.
    pub any_wrong_class: bool,
}

/// Per sample, the linearised boundary at the current points: a margin `f = z_r - z_k` and its
/// input gradient. Untargeted, `r` is the label and `k` the class whose linearised boundary is
/// nearest (`|f| / ||∇f||_*`, the dual norm); targeted, `k` is the target and `r` the label
/// (`any_wrong_class`) or a rival: while rivals beat the target, the one whose boundary is
/// farthest (alternating between the nearest ones can circle a corner of the target's region
/// forever), then the nearest.
struct Boundary {
    margin: Vec<f32>,
    gradient: Vec<f32>,
}

/// The model's logits `[B, C]` at host points `x`, their class count, and the input gradients of
/// `Σ weights · logits` for each weight matrix `[B, C]` that `weights(logits, C)` returns.
fn logit_gradients(
    model: &HostView,
    x: &[f32],
    shape: &[usize],
    weights: impl Fn(&[f32], usize) -> Vec<Vec<f32>>,
) -> Result<(Vec<f32>, usize, Vec<Vec<f32>>)> {
    let leaf = Tensor::from_vec(x.to_vec(), shape)?;
    leaf.set_requires_grad(true)?;
    let logits = model.forward(&leaf)?;
    let classes = logits.shape().get(1).copied().unwrap_or(0);
    let values = logits.detach().contiguous()?.to_vec::<f32>()?;
    let mut grads = Vec::new();
    for w in weights(&values, classes) {
        let w = Tensor::from_vec(w, &[shape[0], classes])?;
        let picked = logits.mul(&w)?.sum(&[0, 1], false)?;
        let g = crate::autograd::grad(&picked, std::slice::from_ref(&leaf))?;
        grads.push(match g.into_iter().next().flatten() {
            Some(g) => g.contiguous()?.to_vec::<f32>()?,
            None => vec![0.0; x.len()],
        });
    }
    Ok((values, classes, grads))
}

/// The norm of a sample's step, in f64.
fn size(v: impl Iterator<Item = f64>, norm: Norm) -> f64 {
    match norm {
        Norm::Linf => v.fold(0.0, |m, x| m.max(x.abs())),
        Norm::L2 => v.map(|x| x * x).sum::<f64>().sqrt(),
    }
}

/// The dual norm (the one that measures gradients against steps of `norm`).
fn dual_size(v: impl Iterator<Item = f64>, norm: Norm) -> f64 {
    match norm {
        Norm::Linf => v.map(f64::abs).sum(),
        Norm::L2 => v.map(|x| x * x).sum::<f64>().sqrt(),
    }
}

fn linearise(
    model: &HostView,
    x: &[f32],
    shape: &[usize],
    labels: &[i64],
    targets: Option<&[i64]>,
    cfg: &FabConfig,
) -> Result<Boundary> {
    let batch = labels.len();
    let dim = x.len() / batch.max(1);
    let label = |n: usize| labels[n] as usize;
    if let (Some(t), true) = (targets, cfg.any_wrong_class) {
        // FAB-T: one backward pass through z_y - z_t.
        let (logits, classes, mut grads) = logit_gradients(model, x, shape, |_, classes| {
            let mut w = vec![0.0; batch * classes];
            for n in 0..batch {
                w[n * classes + label(n)] += 1.0;
                w[n * classes + t[n] as usize] -= 1.0;
            }
            vec![w]
        })?;
        let row = |n: usize| &logits[n * classes..(n + 1) * classes];
        return Ok(Boundary {
            margin: (0..batch)
                .map(|n| row(n)[label(n)] - row(n)[t[n] as usize])
                .collect(),
            gradient: grads.remove(0),
        });
    }
    // One backward pass per class logit, then per sample one pair of classes (r, k).
    let (logits, classes, grads) = logit_gradients(model, x, shape, |_, classes| {
        (0..classes)
            .map(|k| {
                (0..batch * classes)
                    .map(|i| (i % classes == k) as u8 as f32)
                    .collect()
            })
            .collect()
    })?;
    let mut margin = vec![0.0; batch];
    let mut gradient = vec![0.0; batch * dim];
    for (n, (m, g)) in margin.iter_mut().zip(gradient.chunks_mut(dim)).enumerate() {
        let row = &logits[n * classes..(n + 1) * classes];
        let rows = |k: usize| grads[k][n * dim..(n + 1) * dim].iter();
        // How far the linearised boundary between classes r and k lies, in `cfg.norm`.
        let distance = |r: usize, k: usize| {
            let slope = rows(r).zip(rows(k)).map(|(&a, &b)| a as f64 - b as f64);
            (row[r] - row[k]).abs() as f64 / (dual_size(slope, cfg.norm) + 1e-12)
        };
        let by_distance = |a: &(usize, f64), b: &(usize, f64)| a.1.total_cmp(&b.1);
        let others = |c: usize| (0..classes).filter(move |&j| j != c);
        let (r, k) = match targets {
            // The label against the class whose boundary is nearest.
            None => {
                let y = label(n);
                let nearest = others(y).map(|k| (k, distance(y, k))).min_by(by_distance);
                (y, nearest.map_or(y, |(k, _)| k))
            }
            // The target against the rival beating it from the farthest boundary, or, once the
            // target wins, against the nearest rival.
            Some(t) => {
                let t = t[n] as usize;
                let beating = others(t)
                    .filter(|&j| row[j] >= row[t])
                    .map(|j| (j, distance(j, t)))
                    .max_by(by_distance);
                let nearest = || others(t).map(|j| (j, distance(j, t))).min_by(by_distance);
                (beating.or_else(nearest).map_or(t, |(j, _)| j), t)
            }
        };
        *m = row[r] - row[k];
        for (g, (&a, &b)) in g.iter_mut().zip(rows(r).zip(rows(k))) {
            *g = a - b;
        }
    }
    Ok(Boundary { margin, gradient })
}

/// FAB on one batch with true `labels` (`targets` for the targeted version: a point counts as
/// adversarial when it is classified as its target, or as anything but its label with
/// `any_wrong_class`).
pub fn fab_batch(
    model: &dyn Module,
    x: &[f32],
    shape: &[usize],
    labels: &[i64],
    targets: Option<&[i64]>,
    cfg: &FabConfig,
    rng: &mut RngState,
) -> Result<BatchResult> {
    let _frozen = FrozenParameters::new(model)?;
    let view = HostView::of(model);
    let batch = labels.len();
    let dim = x.len() / batch.max(1);
    let (lo, hi) = cfg.bounds;
    let is_adversarial = |n: usize, pred: i64| match targets {
        Some(t) if !cfg.any_wrong_class => pred == t[n],
        _ => pred != labels[n],
    };
    let distance = |a: &[f32], b: &[f32]| {
        size(
            a.iter().zip(b).map(|(&a, &b)| a as f64 - b as f64),
            cfg.norm,
        )
    };
    // The closest adversarial point per sample: the input itself where the model already errs.
    let clean = {
        let _guard = NoGradGuard::new();
        predictions(&view.forward(&Tensor::from_vec(x.to_vec(), shape)?)?)?
    };
    let mut best = x.to_vec();
    let mut best_predictions = clean.clone();
    let mut best_distance: Vec<f64> = (0..batch)
        .map(|n| match is_adversarial(n, clean[n]) {
            true => 0.0,
            false => f64::INFINITY,
        })
        .collect();
    for restart in 0..cfg.restarts {
        let mut point = match restart {
            0 => x.to_vec(),
            _ => random_start(x, dim, &best_distance, cfg, rng),
        };
        for _ in 0..cfg.steps {
            let boundary = linearise(&view, &point, shape, labels, targets, cfg)?;
            point
                .par_chunks_mut(dim)
                .zip(x.par_chunks(dim))
                .zip(boundary.gradient.par_chunks(dim))
                .zip(boundary.margin.par_iter())
                .for_each(|(((p, x0), w), &f)| {
                    // The linearised boundary {z : f + w·(z - p) = 0}, i.e. w·z = w·p - f.
                    let offset = p
                        .iter()
                        .zip(w)
                        .map(|(&p, &w)| p as f64 * w as f64)
                        .sum::<f64>();
                    let b = offset - f as f64;
                    let from_point = step_onto_hyperplane(p, w, b, cfg.norm, cfg.bounds);
                    let from_input = step_onto_hyperplane(x0, w, b, cfg.norm, cfg.bounds);
                    let a1 = size(from_point.iter().map(|&v| v as f64), cfg.norm).max(1e-8);
                    let a2 = size(from_input.iter().map(|&v| v as f64), cfg.norm).max(1e-8);
                    let alpha = ((a1 / (a1 + a2)) as f32).clamp(0.0, cfg.alpha_max);
                    for i in 0..p.len() {
                        let toward_point = (p[i] + cfg.eta * from_point[i]) * (1.0 - alpha);
                        let toward_input = (x0[i] + cfg.eta * from_input[i]) * alpha;
                        p[i] = (toward_point + toward_input).clamp(lo, hi);
                    }
                });
            let reached = {
                let _guard = NoGradGuard::new();
                predictions(&view.forward(&Tensor::from_vec(point.clone(), shape)?)?)?
            };
            for n in 0..batch {
                if !is_adversarial(n, reached[n]) {
                    continue;
                }
                let rows = n * dim..(n + 1) * dim;
                let d = distance(&point[rows.clone()], &x[rows.clone()]);
                if d < best_distance[n] {
                    best_distance[n] = d;
                    best[rows.clone()].copy_from_slice(&point[rows.clone()]);
                    best_predictions[n] = reached[n];
                }
                for (p, &x0) in point[rows.clone()].iter_mut().zip(&x[rows]) {
                    *p = x0 + cfg.beta * (*p - x0);
                }
            }
        }
    }
    // Samples whose closest adversarial point lies outside the budget keep their input.
    let mut adversarial = x.to_vec();
    let mut success = vec![false; batch];
    let mut predictions_out = clean;
    for n in 0..batch {
        if best_distance[n].is_finite() && best_distance[n] <= cfg.eps as f64 {
            let rows = n * dim..(n + 1) * dim;
            adversarial[rows.clone()].copy_from_slice(&best[rows]);
            success[n] = true;
            predictions_out[n] = best_predictions[n];
        }
    }
    Ok(BatchResult {
        adversarial,
        success,
        predictions: predictions_out,
    })
}

/// A restart's start: per sample, a random direction (uniform noise scaled to L∞ norm 1, or a
/// Gaussian of L2 norm 1) at half the best distance so far, or of ε, or of the bounds' width when
/// neither is finite, clamped into the bounds.
fn random_start(
    x: &[f32],
    dim: usize,
    best_distance: &[f64],
    cfg: &FabConfig,
    rng: &mut RngState,
) -> Vec<f32> {
    let (lo, hi) = cfg.bounds;
    let noise = match cfg.norm {
        Norm::Linf => rng.uniform(x.len()).iter().map(|u| 2.0 * u - 1.0).collect(),
        Norm::L2 => rng.normal(x.len()),
    };
    let mut point = x.to_vec();
    for (n, (p, u)) in point.chunks_mut(dim).zip(noise.chunks(dim)).enumerate() {
        let radius = match best_distance[n].min(cfg.eps as f64) {
            r if r.is_finite() => r,
            _ => (hi - lo) as f64,
        };
        let length = size(u.iter().map(|&v| v as f64), cfg.norm).max(1e-12);
        let scale = (0.5 * radius / length) as f32;
        for (p, &u) in p.iter_mut().zip(u) {
            *p = (*p + scale * u).clamp(lo, hi);
        }
    }
    point
}
