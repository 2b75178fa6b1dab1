//! Pixle (Pomponi et al., 2022; torchattacks' Pixle): a black-box L0 attack that rearranges
//! pixels. Each proposal copies a random patch of the clean image (top-left corner uniform in
//! `[0, W-1) x [0, H-1)`, sides drawn from the configured ranges and cut at the border) onto
//! destination pixels of the current best image, chosen per source pixel by the mapping; a
//! proposal is kept when it lowers the goal's softmax score (the label's probability, or one
//! minus the target's), and a sample stops at its first successful proposal. In restart mode
//! each restart runs `iterations` proposals on the best image so far, and a restart without any
//! improvement continues from its last proposal, as the published code does; in iterative mode
//! the best image is updated after every improving proposal. Every sample's proposal goes
//! through the model in one forward pass per iteration.

use super::batch::image_shape;
use super::black_box::{probabilities, top_class, ProbabilityGoal};
use super::pgd::BatchResult;
use crate::nn::Module;
use crate::rng::RngState;
use crate::{NoGradGuard, Result};

/// How a source pixel picks its destination.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PixelMapping {
    /// Uniform over the image.
    Random,
    /// The pixel of the current image most like the source (mean absolute difference over
    /// channels, turned into `1 / (1 + d)`), or drawn with softmax weights over those
    /// similarities (`sampled`).
    Similarity { sampled: bool },
    /// As `Similarity`, ranking by the difference itself (the most different pixel first).
    Distance { sampled: bool },
}

/// A side range: pixels, or fractions of the image's side (rounded, at least 1).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Extent {
    Pixels(usize),
    Fraction(f32),
}

impl Extent {
    fn resolve(self, side: usize) -> usize {
        match self {
            Extent::Pixels(n) => n.max(1),
            Extent::Fraction(f) => ((side as f32 * f).round() as usize).max(1),
        }
    }
}

/// A Pixle run.
#[derive(Clone, Debug)]
pub struct PixleConfig {
    /// Patch width range (inclusive) and height range.
    pub x_dimensions: (Extent, Extent),
    pub y_dimensions: (Extent, Extent),
    pub mapping: PixelMapping,
    pub restarts: usize,
    pub iterations: usize,
    /// Update the best image after every improving proposal (no restarts) instead of after
    /// each restart.
    pub update_each_iteration: bool,
    /// Images per forward pass.
    pub batch_limit: usize,
}

/// The geometry of one image `[C, H, W]`.
#[derive(Clone, Copy)]
struct Image {
    channels: usize,
    height: usize,
    width: usize,
}

impl Image {
    fn plane(&self) -> usize {
        self.height * self.width
    }

    /// Mean absolute difference over channels between pixel `at` of `source` and every pixel of
    /// `destination`.
    fn differences(&self, source: &[f32], at: usize, destination: &[f32]) -> Vec<f32> {
        let plane = self.plane();
        (0..plane)
            .map(|q| {
                (0..self.channels)
                    .map(|c| (destination[c * plane + q] - source[c * plane + at]).abs())
                    .sum::<f32>()
                    / self.channels as f32
            })
            .collect()
    }
}

/// A destination for source pixel `at` under a similarity or distance ranking of `scores`
/// (higher first), never `at` itself: the best one, or one drawn with softmax weights.
fn ranked_destination(scores: &[f32], at: usize, sampled: bool, rng: &mut RngState) -> usize {
    if !sampled || scores.len() < 2 {
        return (0..scores.len())
            .filter(|&q| q != at)
            .max_by(|&a, &b| scores[a].total_cmp(&scores[b]).then(b.cmp(&a)))
            .unwrap_or(at);
    }
    let top = scores.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let weights: Vec<f64> = scores
        .iter()
        .enumerate()
        .map(|(q, &s)| match q == at {
            true => 0.0,
            false => ((s - top) as f64).exp(),
        })
        .collect();
    let total: f64 = weights.iter().sum();
    let mut target = rng.uniform(1)[0] as f64 * total;
    for (q, w) in weights.iter().enumerate() {
        if target < *w {
            return q;
        }
        target -= w;
    }
    (0..scores.len()).rev().find(|&q| q != at).unwrap_or(at)
}

/// One proposal: `best` with a random patch of `clean` copied onto its mapped destinations.
fn propose(
    clean: &[f32],
    best: &[f32],
    image: Image,
    (widths, heights): ((usize, usize), (usize, usize)),
    mapping: PixelMapping,
    rng: &mut RngState,
) -> Vec<f32> {
    let (h, w, plane) = (image.height, image.width, image.plane());
    let draws = rng.uniform(4);
    let x = (draws[0] * w.saturating_sub(1) as f32) as usize;
    let y = (draws[1] * h.saturating_sub(1) as f32) as usize;
    let pick =
        |u: f32, (lo, hi): (usize, usize)| lo + ((u * (hi - lo + 1) as f32) as usize).min(hi - lo);
    let width = pick(draws[2], widths).min(w - x);
    let height = pick(draws[3], heights).min(h - y);
    let mut out = best.to_vec();
    for row in y..y + height {
        for col in x..x + width {
            let at = row * w + col;
            let destination = match mapping {
                PixelMapping::Random => {
                    let u = rng.uniform(2);
                    let r = ((u[0] * h as f32) as usize).min(h - 1);
                    let c = ((u[1] * w as f32) as usize).min(w - 1);
                    r * w + c
                }
                PixelMapping::Similarity { sampled } => {
                    let scores: Vec<f32> = image
                        .differences(clean, at, best)
                        .into_iter()
                        .map(|d| if d == 0.0 { 0.0 } else { 1.0 / (1.0 + d) })
                        .collect();
                    ranked_destination(&scores, at, sampled, rng)
                }
                PixelMapping::Distance { sampled } => {
                    let scores = image.differences(clean, at, best);
                    ranked_destination(&scores, at, sampled, rng)
                }
            };
            for c in 0..image.channels {
                out[c * plane + destination] = clean[c * plane + at];
            }
        }
    }
    out
}

/// Pixle on one batch of images `[B, C, H, W]` (`model` sees host tensors).
pub fn pixle_batch(
    model: &dyn Module,
    x: &[f32],
    shape: &[usize],
    labels: &[i64],
    targets: Option<&[i64]>,
    cfg: &PixleConfig,
    rng: &mut RngState,
) -> Result<BatchResult> {
    let [batch, channels, height, width] = image_shape("Pixle", shape)?;
    let _guard = NoGradGuard::new();
    let image = Image {
        channels,
        height,
        width,
    };
    let dim = channels * height * width;
    let range = |(lo, hi): (Extent, Extent), side: usize| {
        let (lo, hi) = (lo.resolve(side), hi.resolve(side));
        (lo.min(hi), lo.max(hi))
    };
    let sides = (
        range(cfg.x_dimensions, width),
        range(cfg.y_dimensions, height),
    );
    let goal = ProbabilityGoal { labels, targets };
    let clean = |n: usize| &x[n * dim..(n + 1) * dim];
    let mut best: Vec<Vec<f32>> = (0..batch).map(|n| clean(n).to_vec()).collect();
    let clean_probs = probabilities(model, x, shape, cfg.batch_limit)?;
    let mut best_score: Vec<f32> = (0..batch)
        .map(|n| goal.fitness(n, &clean_probs[n]))
        .collect();
    // Restart mode: the best proposal so far (`None` until one improves) and the last proposal.
    let mut best_proposal: Vec<Option<Vec<f32>>> = vec![None; batch];
    let mut last: Vec<Vec<f32>> = best.clone();
    let mut done = vec![false; batch];
    let rounds = match cfg.update_each_iteration {
        true => 1,
        false => cfg.restarts,
    };
    for _ in 0..rounds {
        let running: Vec<usize> = (0..batch).filter(|&n| !done[n]).collect();
        if running.is_empty() {
            break;
        }
        for _ in 0..cfg.iterations {
            let active: Vec<usize> = running.iter().copied().filter(|&n| !done[n]).collect();
            if active.is_empty() {
                break;
            }
            let proposals: Vec<Vec<f32>> = active
                .iter()
                .map(|&n| propose(clean(n), &best[n], image, sides, cfg.mapping, rng))
                .collect();
            let flat: Vec<f32> = proposals.iter().flatten().copied().collect();
            let mut active_shape = shape.to_vec();
            active_shape[0] = active.len();
            let probs = probabilities(model, &flat, &active_shape, cfg.batch_limit)?;
            for ((&n, proposal), p) in active.iter().zip(proposals).zip(&probs) {
                let score = goal.fitness(n, p);
                let improved = score < best_score[n];
                let won = goal.succeeded(n, p);
                if improved {
                    best_score[n] = score;
                }
                if cfg.update_each_iteration {
                    if improved || won {
                        best[n] = proposal;
                    }
                } else {
                    if improved || won {
                        best_proposal[n] = Some(proposal.clone());
                    }
                    last[n] = proposal;
                }
                done[n] = won;
            }
        }
        if !cfg.update_each_iteration {
            for &n in &running {
                best[n] = best_proposal[n].clone().unwrap_or_else(|| last[n].clone());
            }
        }
    }
    let adversarial: Vec<f32> = best.into_iter().flatten().collect();
    let probs = probabilities(model, &adversarial, shape, cfg.batch_limit)?;
    Ok(BatchResult {
        success: (0..batch).map(|n| goal.succeeded(n, &probs[n])).collect(),
        predictions: probs.iter().map(|p| top_class(p)).collect(),
        adversarial,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proposals_move_clean_pixels_onto_the_best_image() {
        let image = Image {
            channels: 2,
            height: 4,
            width: 5,
        };
        let clean: Vec<f32> = (0..40).map(|v| v as f32).collect();
        let best = vec![-1.0f32; 40];
        let mut rng = RngState { seed: 5, offset: 0 };
        for mapping in [
            PixelMapping::Random,
            PixelMapping::Similarity { sampled: true },
            PixelMapping::Distance { sampled: false },
        ] {
            let out = propose(&clean, &best, image, ((1, 3), (2, 2)), mapping, &mut rng);
            let moved: Vec<usize> = (0..20).filter(|&q| out[q] != -1.0).collect();
            assert!(
                !moved.is_empty() && moved.len() <= 6,
                "{mapping:?}: {moved:?}"
            );
            for q in moved {
                // Both channels come from the same clean pixel.
                assert_eq!(out[20 + q], out[q] + 20.0);
            }
        }
    }

    #[test]
    fn the_ranked_mapping_skips_the_source_pixel() {
        let mut rng = RngState { seed: 1, offset: 0 };
        assert_eq!(ranked_destination(&[5.0, 9.0, 7.0], 1, false, &mut rng), 2);
        assert_eq!(ranked_destination(&[5.0, 9.0, 7.0], 0, false, &mut rng), 1);
        for _ in 0..50 {
            assert_ne!(ranked_destination(&[5.0, 9.0, 7.0], 1, true, &mut rng), 1);
        }
    }
}
