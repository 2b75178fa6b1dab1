//! What the score-based black-box attacks (one-pixel, Pixle) share: the model's softmax
//! probabilities of host images in bounded passes, and the goal they score candidates against.

use crate::nn::Module;
use crate::{Result, Tensor};

/// Softmax probabilities, one row per image of `images` (shape `shape` with any batch size),
/// `limit` images per forward pass.
pub(super) fn probabilities(
    model: &dyn Module,
    images: &[f32],
    shape: &[usize],
    limit: usize,
) -> Result<Vec<Vec<f32>>> {
    let dim: usize = shape[1..].iter().product();
    let mut out = Vec::new();
    for chunk in images.chunks(limit.max(1) * dim.max(1)) {
        let mut chunk_shape = shape.to_vec();
        chunk_shape[0] = chunk.len() / dim.max(1);
        let logits = model.forward(&Tensor::from_vec(chunk.to_vec(), &chunk_shape)?)?;
        let p = logits.softmax(1)?.contiguous()?;
        let classes = p.shape()[1];
        out.extend(p.to_vec::<f32>()?.chunks(classes).map(<[f32]>::to_vec));
    }
    Ok(out)
}

/// The class a probability row ranks first.
pub(super) fn top_class(p: &[f32]) -> i64 {
    (0..p.len())
        .max_by(|&a, &b| p[a].total_cmp(&p[b]))
        .unwrap_or(0) as i64
}

/// Each sample's goal: away from its label, or toward its target.
pub(super) struct ProbabilityGoal<'a> {
    pub labels: &'a [i64],
    pub targets: Option<&'a [i64]>,
}

impl ProbabilityGoal<'_> {
    /// Lower is better: the label's probability (untargeted) or one minus the target's.
    pub fn fitness(&self, n: usize, p: &[f32]) -> f32 {
        match self.targets {
            Some(t) => 1.0 - p[t[n] as usize],
            None => p[self.labels[n] as usize],
        }
    }

    /// Whether sample `n` with probabilities `p` meets its goal.
    pub fn succeeded(&self, n: usize, p: &[f32]) -> bool {
        let top = top_class(p);
        match self.targets {
            Some(t) => top == t[n],
            None => top != self.labels[n],
        }
    }
}
