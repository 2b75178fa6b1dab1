//! An ordered list of transforms, checked once against the sample shape it will receive, that
//! runs on one float sample with that sample's slice of the random stream.

use super::Transform;
use crate::Result;

/// Transforms applied in order to every sample of a batch.
#[derive(Clone, Debug)]
pub struct Pipeline {
    transforms: Vec<Transform>,
    /// `shapes[k]` is the sample shape entering transform `k`; the last entry is the output shape.
    shapes: Vec<Vec<usize>>,
    draws: usize,
}

impl Pipeline {
    /// Checks `transforms` against samples of `sample_shape`.
    pub fn new(transforms: Vec<Transform>, sample_shape: &[usize]) -> Result<Pipeline> {
        let mut shapes = vec![sample_shape.to_vec()];
        for t in &transforms {
            let next = t.output_shape(&shapes[shapes.len() - 1])?;
            shapes.push(next);
        }
        // Whole Philox blocks per sample keep every sample's stream aligned to a block start.
        let draws = transforms
            .iter()
            .map(Transform::draws)
            .sum::<usize>()
            .div_ceil(4)
            * 4;
        Ok(Pipeline {
            transforms,
            shapes,
            draws,
        })
    }

    /// The transforms, in order.
    pub fn transforms(&self) -> &[Transform] {
        &self.transforms
    }

    /// The sample shape the pipeline was built for.
    pub fn input_shape(&self) -> &[usize] {
        &self.shapes[0]
    }

    /// The sample shape it produces.
    pub fn output_shape(&self) -> &[usize] {
        &self.shapes[self.shapes.len() - 1]
    }

    /// Uniforms read per sample (a multiple of 4).
    pub fn draws_per_sample(&self) -> usize {
        self.draws
    }

    /// Runs every transform on `sample` (of the input shape) with its `uniforms`
    /// ([`draws_per_sample`](Self::draws_per_sample) of them).
    pub fn run(&self, sample: Vec<f32>, uniforms: &[f32]) -> Vec<f32> {
        let mut x = sample;
        let mut rest = uniforms;
        for (t, shape) in self.transforms.iter().zip(&self.shapes) {
            let (mine, tail) = rest.split_at(t.draws());
            x = t.apply(x, shape, mine);
            rest = tail;
        }
        x
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes_and_draws_chain_through_the_transforms() {
        let p = Pipeline::new(
            vec![
                Transform::RandomCrop {
                    size: [4, 4],
                    padding: 2,
                },
                Transform::RandomHorizontalFlip { p: 1.0 },
                Transform::Normalize {
                    mean: vec![0.5],
                    std: vec![0.5],
                },
            ],
            &[1, 2, 2],
        )
        .unwrap();
        assert_eq!(p.output_shape(), &[1, 4, 4]);
        assert_eq!(p.draws_per_sample(), 4);
        // Window at top 2, left 0 of the 6x6 padded image: two rows holding [0, 0, a, b, 0, 0]
        // cut to [0, 0, a, b], flipped to [b, a, 0, 0], then (v - 0.5) / 0.5.
        let y = p.run(vec![0.25, 0.5, 0.75, 1.0], &[0.9, 0.0, 0.5, 0.0]);
        assert_eq!(y[..4], [0.0, -0.5, -1.0, -1.0]);
        assert_eq!(y[4..8], [1.0, 0.5, -1.0, -1.0]);
        assert!(Pipeline::new(vec![Transform::Cutout { size: 1 }], &[3]).is_err());
    }
}
