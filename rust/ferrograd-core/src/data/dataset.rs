//! The in-memory labelled dataset: decoded samples and labels shared behind an `Arc`, so that
//! subsets, splits and loaders never copy the data; batches are assembled on rayon workers.

use std::sync::Arc;

use rayon::prelude::*;

use super::{Pipeline, Transform};
use crate::rng::RngState;
use crate::{Error, Result, Tensor};

/// Every sample of a dataset, row-major `[N, ...sample_shape]`.
#[derive(Debug)]
pub enum Samples {
    /// 8-bit images, scaled to [0, 1] when batched.
    U8(Vec<u8>),
    /// Float images or table features, batched as they are.
    F32(Vec<f32>),
}

impl Samples {
    fn len(&self) -> usize {
        match self {
            Samples::U8(v) => v.len(),
            Samples::F32(v) => v.len(),
        }
    }

    /// Sample `row` (of `len` values) as floats, u8 scaled by 1/255.
    fn row_as_f32(&self, row: usize, len: usize) -> Vec<f32> {
        let range = row * len..(row + 1) * len;
        match self {
            Samples::U8(v) => v[range].iter().map(|&b| b as f32 / 255.0).collect(),
            Samples::F32(v) => v[range].to_vec(),
        }
    }
}

#[derive(Debug)]
struct Store {
    samples: Samples,
    sample_shape: Vec<usize>,
    labels: Vec<i64>,
    classes: Vec<String>,
}

/// A labelled dataset in memory: images `[C, H, W]` or feature rows `[F]`, i64 labels in
/// `0..num_classes`, and class names. Cloning, [`subset`](Self::subset) and
/// [`split`](Self::split) share the decoded samples.
#[derive(Clone, Debug)]
pub struct Dataset {
    store: Arc<Store>,
    /// The store rows this dataset exposes, in order.
    rows: Arc<[usize]>,
}

/// One assembled batch as host vectors, ready to become numpy arrays or tensors without a copy.
#[derive(Clone, Debug, PartialEq)]
pub struct Batch {
    /// Transformed samples, row-major with shape `shape`.
    pub inputs: Vec<f32>,
    /// `[B, ...sample shape after the transforms]`.
    pub shape: Vec<usize>,
    /// The `B` labels.
    pub labels: Vec<i64>,
}

impl Batch {
    /// The batch as a float32 input tensor and an int64 label tensor.
    pub fn into_tensors(self) -> Result<(Tensor, Tensor)> {
        let n = self.labels.len();
        Ok((
            Tensor::from_vec(self.inputs, &self.shape)?,
            Tensor::from_vec(self.labels, &[n])?,
        ))
    }
}

impl Dataset {
    /// A dataset of `labels.len()` samples of `sample_shape`, taking ownership of the buffers.
    pub fn new(
        samples: Samples,
        sample_shape: Vec<usize>,
        labels: Vec<i64>,
        classes: Vec<String>,
    ) -> Result<Dataset> {
        let sample_len: usize = sample_shape.iter().product();
        if sample_shape.is_empty() || sample_len == 0 {
            return Err(Error::arg(
                "dataset",
                "sample_shape",
                "a non-empty shape with at least one element",
                format!("{sample_shape:?}"),
            ));
        }
        if samples.len() != labels.len() * sample_len {
            return Err(Error::shape(
                "dataset",
                format!(
                    "{} labels need {} values of samples shaped {sample_shape:?}, got {}",
                    labels.len(),
                    labels.len() * sample_len,
                    samples.len()
                ),
            ));
        }
        Self::check_labels(&labels, classes.len()).map_err(|found| {
            Error::arg(
                "dataset",
                "labels",
                format!("class indices in 0..{}", classes.len()),
                found,
            )
        })?;
        let rows: Arc<[usize]> = (0..labels.len()).collect();
        Ok(Dataset {
            store: Arc::new(Store {
                samples,
                sample_shape,
                labels,
                classes,
            }),
            rows,
        })
    }

    /// Checks that every label indexes one of `num_classes` classes; the error describes the
    /// first offending label (loaders wrap it in a format error naming their file).
    pub fn check_labels(labels: &[i64], num_classes: usize) -> std::result::Result<(), String> {
        match labels
            .iter()
            .position(|&l| l < 0 || l as u64 >= num_classes as u64)
        {
            Some(i) => Err(format!(
                "label {} at index {i} is outside 0..{num_classes}",
                labels[i]
            )),
            None => Ok(()),
        }
    }

    /// Number of samples.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// True when the dataset holds no sample.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Shape of one sample: `[C, H, W]` for images, `[F]` for tables.
    pub fn sample_shape(&self) -> &[usize] {
        &self.store.sample_shape
    }

    /// Class names; label `k` is `classes()[k]`.
    pub fn classes(&self) -> &[String] {
        &self.store.classes
    }

    /// Number of classes.
    pub fn num_classes(&self) -> usize {
        self.store.classes.len()
    }

    /// The labels, in dataset order.
    pub fn labels(&self) -> Vec<i64> {
        self.rows.iter().map(|&r| self.store.labels[r]).collect()
    }

    fn row(&self, op: &'static str, i: usize) -> Result<usize> {
        self.rows.get(i).copied().ok_or_else(|| {
            Error::arg(
                op,
                "index",
                format!("a position below the dataset length {}", self.len()),
                i,
            )
        })
    }

    /// Sample `i` as stored (uint8 or float32, shape [`sample_shape`](Self::sample_shape)) and its label.
    pub fn get(&self, i: usize) -> Result<(Tensor, i64)> {
        let row = self.row("dataset", i)?;
        let shape = &self.store.sample_shape;
        let len: usize = shape.iter().product();
        let range = row * len..(row + 1) * len;
        let sample = match &self.store.samples {
            Samples::U8(v) => Tensor::from_vec(v[range].to_vec(), shape)?,
            Samples::F32(v) => Tensor::from_vec(v[range].to_vec(), shape)?,
        };
        Ok((sample, self.store.labels[row]))
    }

    /// The samples at positions `indices` (in that order, repeats allowed), sharing this dataset's data.
    pub fn subset(&self, indices: &[usize]) -> Result<Dataset> {
        let rows = indices
            .iter()
            .map(|&i| self.row("subset", i))
            .collect::<Result<Arc<[usize]>>>()?;
        Ok(Dataset {
            store: self.store.clone(),
            rows,
        })
    }

    /// A seeded random split into `round(fraction * len)` samples and the rest (e.g. train and
    /// validation); each part keeps the dataset's order. The same seed gives the same split.
    pub fn split(&self, fraction: f64, seed: u64) -> Result<(Dataset, Dataset)> {
        if !(0.0..=1.0).contains(&fraction) {
            return Err(Error::arg(
                "split",
                "fraction",
                "a value in [0, 1]",
                fraction,
            ));
        }
        let n = self.len();
        let first_len = ((n as f64) * fraction).round() as usize;
        let order = RngState { seed, offset: 0 }.permutation(n);
        let (mut first, mut second) = (order[..first_len].to_vec(), order[first_len..].to_vec());
        first.sort_unstable();
        second.sort_unstable();
        Ok((self.subset(&first)?, self.subset(&second)?))
    }

    /// Assembles the samples at `indices` through `pipeline` (u8 samples are first scaled to
    /// [0, 1]), in parallel. Sample `k` of the batch draws its random numbers from the stream of
    /// `rng` at `rng.offset + k * pipeline.draws_per_sample()`; `rng` advances past the batch, so
    /// the same state gives the same batch.
    pub fn batch(
        &self,
        indices: &[usize],
        pipeline: &Pipeline,
        rng: &mut RngState,
    ) -> Result<Batch> {
        crate::ensure_shape!(
            pipeline.input_shape() == self.sample_shape(),
            "batch",
            "the transforms were built for samples of shape {:?}, the dataset's are {:?}",
            pipeline.input_shape(),
            self.sample_shape()
        );
        let rows = indices
            .iter()
            .map(|&i| self.row("batch", i))
            .collect::<Result<Vec<usize>>>()?;
        let stride = pipeline.draws_per_sample();
        let base = *rng;
        rng.offset += (rows.len() * stride) as u64;
        let in_len: usize = self.sample_shape().iter().product();
        let out_len: usize = pipeline.output_shape().iter().product();
        let mut inputs = vec![0f32; rows.len() * out_len];
        inputs
            .par_chunks_mut(out_len)
            .zip(rows.par_iter())
            .enumerate()
            .for_each(|(k, (out, &row))| {
                let mut stream = RngState {
                    seed: base.seed,
                    offset: base.offset + (k * stride) as u64,
                };
                let sample = self.store.samples.row_as_f32(row, in_len);
                out.copy_from_slice(&pipeline.run(sample, &stream.uniform(stride)));
            });
        let mut shape = vec![rows.len()];
        shape.extend_from_slice(pipeline.output_shape());
        Ok(Batch {
            inputs,
            shape,
            labels: rows.iter().map(|&r| self.store.labels[r]).collect(),
        })
    }

    /// [`batch`](Self::batch) drawing from the global generator, which advances past the batch.
    pub fn batch_from_global(&self, indices: &[usize], pipeline: &Pipeline) -> Result<Batch> {
        let draws = (indices.len() * pipeline.draws_per_sample()) as u64;
        let mut rng = crate::rng::with_global(|g| {
            let start = *g;
            g.offset += draws;
            start
        });
        self.batch(indices, pipeline, &mut rng)
    }

    /// [`batch`](Self::batch) with a pipeline built from `transforms`, as tensors
    /// (float32 `[B, ...]` inputs, int64 `[B]` labels).
    pub fn get_batch(
        &self,
        indices: &[usize],
        transforms: &[Transform],
        rng: &mut RngState,
    ) -> Result<(Tensor, Tensor)> {
        let pipeline = Pipeline::new(transforms.to_vec(), self.sample_shape())?;
        self.batch(indices, &pipeline, rng)?.into_tensors()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Four 1x2x2 images whose pixels are 10*i + j, labels 0 1 0 1.
    fn tiny() -> Dataset {
        let pixels = (0..4u8)
            .flat_map(|i| (0..4u8).map(move |j| 10 * i + j))
            .collect();
        Dataset::new(
            Samples::U8(pixels),
            vec![1, 2, 2],
            vec![0, 1, 0, 1],
            vec!["even".into(), "odd".into()],
        )
        .unwrap()
    }

    #[test]
    fn construction_checks_sizes_and_labels() {
        let bad_len = Dataset::new(
            Samples::F32(vec![0.0; 5]),
            vec![2],
            vec![0, 0],
            vec!["a".into()],
        );
        assert!(matches!(bad_len, Err(Error::Shape { .. })));
        let bad_label = Dataset::new(
            Samples::F32(vec![0.0; 4]),
            vec![2],
            vec![0, 3],
            vec!["a".into()],
        );
        match bad_label {
            Err(Error::Argument { got, .. }) => {
                assert!(got.contains("label 3 at index 1"), "{got}")
            }
            other => panic!("expected an argument error, got {other:?}"),
        }
        let empty_shape = Dataset::new(Samples::F32(vec![]), vec![0], vec![], vec![]);
        assert!(matches!(empty_shape, Err(Error::Argument { .. })));
    }

    #[test]
    fn batches_scale_u8_and_keep_labels() {
        let ds = tiny();
        let pipeline = Pipeline::new(vec![], ds.sample_shape()).unwrap();
        let mut rng = RngState { seed: 1, offset: 0 };
        let b = ds.batch(&[3, 0], &pipeline, &mut rng).unwrap();
        assert_eq!(b.shape, vec![2, 1, 2, 2]);
        assert_eq!(b.labels, vec![1, 0]);
        let expected: Vec<f32> = [30u8, 31, 32, 33, 0, 1, 2, 3]
            .iter()
            .map(|&v| v as f32 / 255.0)
            .collect();
        assert_eq!(b.inputs, expected);
        assert!(ds.batch(&[4], &pipeline, &mut rng).is_err());
        let (x, y) = ds.get_batch(&[1], &[], &mut rng).unwrap();
        assert_eq!(x.shape(), &[1, 1, 2, 2]);
        assert_eq!(y.to_vec::<i64>().unwrap(), vec![1]);
    }

    #[test]
    fn random_batches_depend_only_on_the_rng_state() {
        let ds = tiny();
        let flip = Pipeline::new(
            vec![Transform::RandomHorizontalFlip { p: 0.5 }],
            ds.sample_shape(),
        )
        .unwrap();
        let all: Vec<usize> = (0..4).collect();
        let mut a = RngState { seed: 9, offset: 0 };
        let mut b = RngState { seed: 9, offset: 0 };
        let first = ds.batch(&all, &flip, &mut a).unwrap();
        assert_eq!(first, ds.batch(&all, &flip, &mut b).unwrap());
        assert_eq!(a, b);
        assert_eq!(a.offset, 4 * flip.draws_per_sample() as u64);
        let flipped = (0..40)
            .map(|_| ds.batch(&all, &flip, &mut a).unwrap())
            .filter(|batch| batch.inputs[0] != 0.0)
            .count();
        assert!(
            (5..35).contains(&flipped),
            "{flipped} of 40 batches flipped"
        );
    }

    #[test]
    fn subset_and_split_share_data_and_are_seeded() {
        let ds = tiny();
        let sub = ds.subset(&[2, 2, 1]).unwrap();
        assert_eq!(sub.len(), 3);
        assert_eq!(sub.labels(), vec![0, 0, 1]);
        let (sample, label) = sub.get(2).unwrap();
        assert_eq!(sample.to_vec::<u8>().unwrap(), vec![10, 11, 12, 13]);
        assert_eq!(label, 1);
        assert!(sub.get(3).is_err());
        assert!(ds.subset(&[4]).is_err());

        let (a, b) = ds.split(0.75, 5).unwrap();
        assert_eq!((a.len(), b.len()), (3, 1));
        let (a2, _) = ds.split(0.75, 5).unwrap();
        let firsts = |d: &Dataset| -> Vec<u8> {
            (0..d.len())
                .map(|i| d.get(i).unwrap().0.to_vec::<u8>().unwrap()[0])
                .collect()
        };
        assert_eq!(firsts(&a), firsts(&a2));
        let mut union = firsts(&a);
        union.extend(firsts(&b));
        union.sort_unstable();
        assert_eq!(union, vec![0, 10, 20, 30]);
        assert!(ds.split(1.5, 0).is_err());
    }
}
