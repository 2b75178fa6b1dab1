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
    /// Token ids, batched as int64 (no transforms apply).
    I64(Vec<i64>),
}

impl Samples {
    fn len(&self) -> usize {
        match self {
            Samples::U8(v) => v.len(),
            Samples::F32(v) => v.len(),
            Samples::I64(v) => v.len(),
        }
    }

    /// Sample `row` (of `len` values) as floats, u8 scaled by 1/255 (token ids never get here:
    /// [`Dataset::batch`] assembles them as integers).
    fn row_as_f32(&self, row: usize, len: usize) -> Vec<f32> {
        let range = row * len..(row + 1) * len;
        match self {
            Samples::U8(v) => v[range].iter().map(|&b| b as f32 / 255.0).collect(),
            Samples::F32(v) => v[range].to_vec(),
            Samples::I64(v) => v[range].iter().map(|&id| id as f32).collect(),
        }
    }
}

#[derive(Debug)]
struct Store {
    samples: Samples,
    sample_shape: Vec<usize>,
    labels: Vec<i64>,
    /// Shape of one sample's labels: `[]` for one class per sample, `[L]` for one per token.
    label_shape: Vec<usize>,
    classes: Vec<String>,
    /// Token datasets: the padding id. Their batches drop the trailing columns that are padding
    /// in every row (dynamic padding), labels included when there is one per token.
    pad_id: Option<i64>,
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

/// A batch's inputs: float samples, or token ids.
#[derive(Clone, Debug, PartialEq)]
pub enum BatchInputs {
    F32(Vec<f32>),
    I64(Vec<i64>),
}

/// One assembled batch as host vectors, ready to become numpy arrays or tensors without a copy.
#[derive(Clone, Debug, PartialEq)]
pub struct Batch {
    /// Transformed samples (or token ids), row-major with shape `shape`.
    pub inputs: BatchInputs,
    /// `[B, ...sample shape after the transforms]`.
    pub shape: Vec<usize>,
    /// The labels, row-major with shape `label_shape`.
    pub labels: Vec<i64>,
    /// `[B]`, or `[B, L]` for one label per token.
    pub label_shape: Vec<usize>,
}

impl Batch {
    /// Number of samples in the batch.
    pub fn len(&self) -> usize {
        self.shape[0]
    }

    /// True for a batch of no sample.
    pub fn is_empty(&self) -> bool {
        self.shape[0] == 0
    }

    /// The float inputs; `op` (an attack, adversarial training) names what needed them when the
    /// batch holds token ids instead.
    pub fn float_inputs(&self, op: &'static str) -> Result<&[f32]> {
        match &self.inputs {
            BatchInputs::F32(v) => Ok(v),
            BatchInputs::I64(_) => Err(Error::dtype(
                op,
                "float inputs (images or features)",
                "a batch of int64 token ids",
            )),
        }
    }

    /// The batch as an input tensor (float32, or int64 token ids) and an int64 label tensor.
    pub fn into_tensors(self) -> Result<(Tensor, Tensor)> {
        let x = match self.inputs {
            BatchInputs::F32(v) => Tensor::from_vec(v, &self.shape)?,
            BatchInputs::I64(v) => Tensor::from_vec(v, &self.shape)?,
        };
        Ok((x, Tensor::from_vec(self.labels, &self.label_shape)?))
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
                label_shape: vec![],
                classes,
                pad_id: None,
            }),
            rows,
        })
    }

    /// A dataset of token sequences: `ids` holds `N` rows of `seq_len` ids padded with `pad_id`.
    /// `labels` holds one class per sequence (`N` values) or one per token (`N * seq_len`
    /// values, -100 where no label applies). Batches cut the padding columns every row shares.
    pub fn tokens(
        ids: Vec<i64>,
        seq_len: usize,
        labels: Vec<i64>,
        classes: Vec<String>,
        pad_id: i64,
    ) -> Result<Dataset> {
        if seq_len == 0 || !ids.len().is_multiple_of(seq_len) {
            return Err(Error::arg(
                "tokens",
                "ids",
                format!("rows of seq_len={seq_len} ids"),
                format!("{} ids", ids.len()),
            ));
        }
        let n = ids.len() / seq_len;
        let per_token = labels.len() == ids.len() && labels.len() != n;
        if labels.len() != n && !per_token {
            return Err(Error::shape(
                "tokens",
                format!(
                    "{n} sequences need {n} labels or {} token labels, got {}",
                    ids.len(),
                    labels.len()
                ),
            ));
        }
        let labelled: Vec<i64> = match per_token {
            true => labels.iter().copied().filter(|&l| l != -100).collect(),
            false => labels.clone(),
        };
        Self::check_labels(&labelled, classes.len()).map_err(|found| {
            Error::arg(
                "tokens",
                "labels",
                format!(
                    "class indices in 0..{} (or -100 for tokens without a label)",
                    classes.len()
                ),
                found,
            )
        })?;
        Ok(Dataset {
            store: Arc::new(Store {
                samples: Samples::I64(ids),
                sample_shape: vec![seq_len],
                labels,
                label_shape: if per_token { vec![seq_len] } else { vec![] },
                classes,
                pad_id: Some(pad_id),
            }),
            rows: (0..n).collect(),
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

    /// Shape of one sample's labels: `[]` (one class per sample) or `[L]` (one per token).
    pub fn label_shape(&self) -> &[usize] {
        &self.store.label_shape
    }

    /// The labels, in dataset order, row-major `[N, ...label_shape]`.
    pub fn labels(&self) -> Vec<i64> {
        self.rows
            .iter()
            .flat_map(|&r| self.label_row(r).iter().copied())
            .collect()
    }

    fn label_row(&self, row: usize) -> &[i64] {
        let len: usize = self.store.label_shape.iter().product();
        &self.store.labels[row * len..(row + 1) * len]
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

    /// Sample `i` as stored (uint8, float32 or int64 ids, shape
    /// [`sample_shape`](Self::sample_shape)) and its label(s), shaped [`label_shape`](Self::label_shape).
    pub fn get(&self, i: usize) -> Result<(Tensor, Tensor)> {
        let row = self.row("dataset", i)?;
        let shape = &self.store.sample_shape;
        let len: usize = shape.iter().product();
        let range = row * len..(row + 1) * len;
        let sample = match &self.store.samples {
            Samples::U8(v) => Tensor::from_vec(v[range].to_vec(), shape)?,
            Samples::F32(v) => Tensor::from_vec(v[range].to_vec(), shape)?,
            Samples::I64(v) => Tensor::from_vec(v[range].to_vec(), shape)?,
        };
        let label = Tensor::from_vec(self.label_row(row).to_vec(), &self.store.label_shape)?;
        Ok((sample, label))
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
        let mut label_shape = vec![rows.len()];
        label_shape.extend_from_slice(&self.store.label_shape);
        let labels: Vec<i64> = rows
            .iter()
            .flat_map(|&r| self.label_row(r).iter().copied())
            .collect();
        if let Samples::I64(ids) = &self.store.samples {
            if !pipeline.transforms().is_empty() {
                return Err(Error::arg(
                    "batch",
                    "transforms",
                    "no transforms for a dataset of token ids",
                    "image transforms",
                ));
            }
            return Ok(self.token_batch(ids, &rows, labels, label_shape));
        }
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
            inputs: BatchInputs::F32(inputs),
            shape,
            labels,
            label_shape,
        })
    }

    /// The id rows at `rows`; with a padding id, cut to the longest unpadded row of the batch.
    fn token_batch(
        &self,
        ids: &[i64],
        rows: &[usize],
        labels: Vec<i64>,
        label_shape: Vec<usize>,
    ) -> Batch {
        let seq_len = self.store.sample_shape[0];
        let row_ids = |r: usize| &ids[r * seq_len..(r + 1) * seq_len];
        let width = match self.store.pad_id {
            Some(pad) => rows
                .iter()
                .map(|&r| seq_len - row_ids(r).iter().rev().take_while(|&&id| id == pad).count())
                .max()
                .unwrap_or(0)
                .max(1),
            None => seq_len,
        };
        let inputs = rows
            .iter()
            .flat_map(|&r| row_ids(r)[..width].iter().copied())
            .collect();
        let (labels, label_shape) = match label_shape.as_slice() {
            [b, _] => (
                labels
                    .chunks(seq_len)
                    .flat_map(|row| row[..width].iter().copied())
                    .collect(),
                vec![*b, width],
            ),
            _ => (labels, label_shape),
        };
        Batch {
            inputs: BatchInputs::I64(inputs),
            shape: vec![rows.len(), width],
            labels,
            label_shape,
        }
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
        assert_eq!(b.inputs, BatchInputs::F32(expected));
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
            .filter(|batch| batch.float_inputs("test").unwrap()[0] != 0.0)
            .count();
        assert!(
            (5..35).contains(&flipped),
            "{flipped} of 40 batches flipped"
        );
    }

    #[test]
    fn token_batches_trim_shared_padding_and_keep_token_labels() {
        let ids = vec![5, 6, 0, 0, 7, 0, 0, 0, 8, 9, 4, 0];
        let ds = Dataset::tokens(
            ids.clone(),
            4,
            vec![1, 0, 1],
            vec!["n".into(), "p".into()],
            0,
        )
        .unwrap();
        let pipeline = Pipeline::new(vec![], ds.sample_shape()).unwrap();
        let mut rng = RngState { seed: 0, offset: 0 };
        let b = ds.batch(&[1, 0], &pipeline, &mut rng).unwrap();
        assert_eq!(b.inputs, BatchInputs::I64(vec![7, 0, 5, 6]));
        assert_eq!(
            (b.shape.clone(), b.label_shape.clone()),
            (vec![2, 2], vec![2])
        );
        let (x, y) = b.into_tensors().unwrap();
        assert_eq!(x.dtype(), crate::DType::I64);
        assert_eq!(y.to_vec::<i64>().unwrap(), vec![0, 1]);

        let tags = vec![-100, 1, 0, -100, -100, 0, -100, -100, -100, 1, 1, -100];
        let ner = Dataset::tokens(ids.clone(), 4, tags, vec!["O".into(), "B".into()], 0).unwrap();
        assert_eq!(ner.label_shape(), &[4]);
        let b = ner.batch(&[2], &pipeline, &mut rng).unwrap();
        assert_eq!((b.shape, b.label_shape), (vec![1, 3], vec![1, 3]));
        assert_eq!(b.labels, vec![-100, 1, 1]);
        let b = ner.batch(&[1, 0], &pipeline, &mut rng).unwrap();
        assert_eq!(b.labels, vec![-100, 0, -100, 1]);
        let bad = Dataset::tokens(ids, 4, vec![0, 2, 0], vec!["a".into(), "b".into()], 0);
        assert!(matches!(bad, Err(Error::Argument { .. })));
    }

    #[test]
    fn subset_and_split_share_data_and_are_seeded() {
        let ds = tiny();
        let sub = ds.subset(&[2, 2, 1]).unwrap();
        assert_eq!(sub.len(), 3);
        assert_eq!(sub.labels(), vec![0, 0, 1]);
        let (sample, label) = sub.get(2).unwrap();
        assert_eq!(sample.to_vec::<u8>().unwrap(), vec![10, 11, 12, 13]);
        assert_eq!(label.to_vec::<i64>().unwrap(), vec![1]);
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
