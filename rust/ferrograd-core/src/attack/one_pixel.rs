//! The one-pixel attack (Su et al., 2019): a black-box L0 attack that sets `pixels` pixels of an
//! image `[C, H, W]` to new values, searched by differential evolution over candidates
//! `(row, column, value per channel)` per pixel. The population holds `popsize` candidates per
//! searched coordinate; each generation builds, for every member, the trial `best + F (a - b)`
//! (two other random members, `F` drawn in [0.5, 1) per generation) clipped to the image and the
//! bounds, and keeps it when it lowers the fitness: the softmax probability of the true class
//! (untargeted) or one minus that of the target. A sample stops at its first successful
//! candidate, which it returns. All samples' trials go through the model together,
//! `batch_limit` images per forward pass.

use super::batch::image_shape;
use super::black_box::{probabilities, top_class, ProbabilityGoal};
use super::pgd::BatchResult;
use crate::nn::Module;
use crate::rng::RngState;
use crate::{NoGradGuard, Result};

/// A one-pixel run.
#[derive(Clone, Debug)]
pub struct OnePixelConfig {
    pub pixels: usize,
    /// Generations of differential evolution.
    pub steps: usize,
    /// Candidates per searched coordinate.
    pub popsize: usize,
    /// Images per forward pass.
    pub batch_limit: usize,
    pub bounds: (f32, f32),
}

/// The image geometry and the search box of one candidate.
struct Layout {
    channels: usize,
    height: usize,
    width: usize,
    bounds: (f32, f32),
}

impl Layout {
    /// Coordinates per pixel: row, column and one value per channel.
    fn per_pixel(&self) -> usize {
        2 + self.channels
    }

    /// Clips coordinate `j` of a candidate into its range.
    fn clip(&self, j: usize, v: f32) -> f32 {
        match j % self.per_pixel() {
            0 => v.clamp(0.0, self.height as f32 - 1e-3),
            1 => v.clamp(0.0, self.width as f32 - 1e-3),
            _ => v.clamp(self.bounds.0, self.bounds.1),
        }
    }

    /// A uniform draw for coordinate `j` from `u` in [0, 1).
    fn draw(&self, j: usize, u: f32) -> f32 {
        let (lo, hi) = self.bounds;
        match j % self.per_pixel() {
            0 => u * self.height as f32,
            1 => u * self.width as f32,
            _ => lo + u * (hi - lo),
        }
    }

    /// `image` with the candidate's pixels written into it.
    fn apply(&self, image: &[f32], candidate: &[f32]) -> Vec<f32> {
        let mut out = image.to_vec();
        let plane = self.height * self.width;
        for pixel in candidate.chunks(self.per_pixel()) {
            let (row, col) = (pixel[0] as usize, pixel[1] as usize);
            for (c, &value) in pixel[2..].iter().enumerate() {
                out[c * plane + row * self.width + col] = value;
            }
        }
        out
    }
}

/// The one-pixel attack on one batch of images `[B, C, H, W]` (`model` sees host tensors).
pub fn one_pixel_batch(
    model: &dyn Module,
    x: &[f32],
    shape: &[usize],
    labels: &[i64],
    targets: Option<&[i64]>,
    cfg: &OnePixelConfig,
    rng: &mut RngState,
) -> Result<BatchResult> {
    let [batch, channels, height, width] = image_shape("OnePixel", shape)?;
    let _guard = NoGradGuard::new();
    let layout = Layout {
        channels,
        height,
        width,
        bounds: cfg.bounds,
    };
    let dim = channels * height * width;
    let coords = cfg.pixels * layout.per_pixel();
    let members = (cfg.popsize * coords).max(4);
    // Lower fitness is better; a member succeeds once the goal class wins.
    let goal = ProbabilityGoal { labels, targets };
    let fitness = |n: usize, p: &[f32]| goal.fitness(n, p);
    let succeeded = |n: usize, p: &[f32]| goal.succeeded(n, p);
    let image = |n: usize| &x[n * dim..(n + 1) * dim];
    let mut population: Vec<Vec<f32>> = (0..batch * members)
        .map(|_| {
            rng.uniform(coords)
                .iter()
                .enumerate()
                .map(|(j, &u)| layout.draw(j, u))
                .collect()
        })
        .collect();
    let evaluate = |candidates: &[Vec<f32>], owners: &[usize]| -> Result<Vec<Vec<f32>>> {
        let images: Vec<f32> = candidates
            .iter()
            .zip(owners)
            .flat_map(|(c, &n)| layout.apply(image(n), c))
            .collect();
        let mut all_shape = shape.to_vec();
        all_shape[0] = candidates.len();
        probabilities(model, &images, &all_shape, cfg.batch_limit)
    };
    let owners: Vec<usize> = (0..batch * members).map(|i| i / members).collect();
    let probs = evaluate(&population, &owners)?;
    let mut scores: Vec<f32> = probs
        .iter()
        .zip(&owners)
        .map(|(p, &n)| fitness(n, p))
        .collect();
    // The first successful candidate of each sample, which ends its search.
    let mut winner: Vec<Option<Vec<f32>>> = (0..batch)
        .map(|n| {
            (0..members)
                .find(|&m| succeeded(n, &probs[n * members + m]))
                .map(|m| population[n * members + m].clone())
        })
        .collect();
    for _ in 0..cfg.steps {
        let active: Vec<usize> = (0..batch).filter(|&n| winner[n].is_none()).collect();
        if active.is_empty() {
            break;
        }
        let scale = 0.5 + 0.5 * rng.uniform(1)[0];
        let picks = rng.uniform(active.len() * members * 2);
        let mut trials = Vec::with_capacity(active.len() * members);
        let mut trial_owners = Vec::with_capacity(active.len() * members);
        for (k, &n) in active.iter().enumerate() {
            let base = n * members;
            let best = (0..members)
                .min_by(|&a, &b| scores[base + a].total_cmp(&scores[base + b]))
                .unwrap_or(0);
            for m in 0..members {
                // Two other members, distinct from each other and from m.
                let draw = |u: f32, skip: &[usize]| {
                    let mut r = ((u * (members - skip.len()) as f32) as usize)
                        .min(members - skip.len() - 1);
                    let mut sorted = skip.to_vec();
                    sorted.sort_unstable();
                    for s in sorted {
                        if r >= s {
                            r += 1;
                        }
                    }
                    r
                };
                let i = (k * members + m) * 2;
                let a = draw(picks[i], &[m]);
                let b = draw(picks[i + 1], &[m, a]);
                let (best, a, b) = (
                    &population[base + best],
                    &population[base + a],
                    &population[base + b],
                );
                trials.push(
                    (0..coords)
                        .map(|j| layout.clip(j, best[j] + scale * (a[j] - b[j])))
                        .collect::<Vec<f32>>(),
                );
                trial_owners.push(n);
            }
        }
        let probs = evaluate(&trials, &trial_owners)?;
        for (i, (trial, p)) in trials.into_iter().zip(&probs).enumerate() {
            let n = trial_owners[i];
            let slot = n * members + i % members;
            if winner[n].is_none() && succeeded(n, p) {
                winner[n] = Some(trial.clone());
            }
            let score = fitness(n, p);
            if score < scores[slot] {
                scores[slot] = score;
                population[slot] = trial;
            }
        }
    }
    // Each sample's winner, or else its fittest member, applied.
    let mut adversarial = Vec::with_capacity(x.len());
    for (n, won) in winner.iter().enumerate() {
        let base = n * members;
        let fittest = (0..members)
            .min_by(|&a, &b| scores[base + a].total_cmp(&scores[base + b]))
            .unwrap_or(0);
        let chosen = won.as_ref().unwrap_or(&population[base + fittest]);
        adversarial.extend(layout.apply(image(n), chosen));
    }
    let probs = probabilities(model, &adversarial, shape, cfg.batch_limit)?;
    let predictions: Vec<i64> = probs.iter().map(|p| top_class(p)).collect();
    Ok(BatchResult {
        success: (0..batch).map(|n| succeeded(n, &probs[n])).collect(),
        adversarial,
        predictions,
    })
}
