//! The DataLoader: seeded per-epoch shuffling, batching, per-batch transforms, and a background
//! thread that assembles the next batch while the current one is used.

use std::sync::mpsc::{sync_channel, Receiver};
use std::sync::Arc;
use std::thread::JoinHandle;

use super::{Batch, Dataset, Pipeline, Transform};
use crate::rng::{philox4x32, with_global, RngState};
use crate::{Error, Result};

/// Sub-streams of the Philox key derivations: an epoch's shuffle, its augmentations, and the
/// seed an unseeded loader takes from the global generator.
const SHUFFLE_STREAM: u32 = 0;
const AUGMENT_STREAM: u32 = 1;
const GLOBAL_SEED_STREAM: u32 = 2;

/// How a [`DataLoader`] batches its dataset.
#[derive(Clone, Debug)]
pub struct DataLoaderOptions {
    /// Samples per batch.
    pub batch_size: usize,
    /// Visit the samples in a new seeded random order every epoch (else in dataset order).
    pub shuffle: bool,
    /// Skip the last batch when it is smaller than `batch_size`.
    pub drop_last: bool,
    /// Seed of the shuffles and augmentations; `None` takes a fresh one from the global generator
    /// at the start of every epoch (so [`crate::rng::manual_seed`] governs it).
    pub seed: Option<u64>,
    /// Transforms applied to every sample.
    pub transforms: Vec<Transform>,
}

/// Iterates a dataset in batches, epoch after epoch.
#[derive(Debug)]
pub struct DataLoader {
    dataset: Dataset,
    pipeline: Arc<Pipeline>,
    options: DataLoaderOptions,
    epoch: u64,
}

/// A 64-bit key from `key` and `(a, stream)`, by one Philox block.
fn derive_key(key: u64, a: u64, stream: u32) -> u64 {
    let w = philox4x32(
        [a as u32, (a >> 32) as u32, stream, 0],
        [key as u32, (key >> 32) as u32],
    );
    ((w[0] as u64) << 32) | w[1] as u64
}

impl DataLoader {
    /// A loader over `dataset`; the transforms are checked against its sample shape here.
    pub fn new(dataset: Dataset, options: DataLoaderOptions) -> Result<DataLoader> {
        if options.batch_size == 0 {
            return Err(Error::arg("DataLoader", "batch_size", "a positive size", 0));
        }
        let pipeline = Pipeline::new(options.transforms.clone(), dataset.sample_shape())?;
        Ok(DataLoader {
            dataset,
            pipeline: Arc::new(pipeline),
            options,
            epoch: 0,
        })
    }

    /// The dataset being loaded.
    pub fn dataset(&self) -> &Dataset {
        &self.dataset
    }

    /// The loader's options.
    pub fn options(&self) -> &DataLoaderOptions {
        &self.options
    }

    /// Batches per epoch.
    pub fn len(&self) -> usize {
        let (n, b) = (self.dataset.len(), self.options.batch_size);
        if self.options.drop_last {
            n / b
        } else {
            n.div_ceil(b)
        }
    }

    /// True when an epoch yields no batch.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The epoch the next [`iter`](Self::iter) will run.
    pub fn epoch(&self) -> u64 {
        self.epoch
    }

    /// Sets the epoch the next [`iter`](Self::iter) runs (its shuffle and augmentations).
    pub fn set_epoch(&mut self, epoch: u64) {
        self.epoch = epoch;
    }

    /// Starts the current epoch and moves to the next: the epoch's key comes from the seed and the
    /// epoch number, and a background thread starts assembling its batches one ahead.
    pub fn iter(&mut self) -> Epoch {
        let root = match self.options.seed {
            Some(seed) => seed,
            None => with_global(|g| {
                let key = derive_key(g.seed, g.offset, GLOBAL_SEED_STREAM);
                g.offset += 4;
                key
            }),
        };
        let key = derive_key(root, self.epoch, SHUFFLE_STREAM);
        self.epoch += 1;
        let n = self.dataset.len();
        let order = if self.options.shuffle {
            RngState {
                seed: key,
                offset: 0,
            }
            .permutation(n)
        } else {
            (0..n).collect()
        };
        let batches: Vec<Vec<usize>> = order
            .chunks(self.options.batch_size)
            .take(self.len())
            .map(<[usize]>::to_vec)
            .collect();
        let remaining = batches.len();
        let mut rng = RngState {
            seed: derive_key(key, 0, AUGMENT_STREAM),
            offset: 0,
        };
        let (dataset, pipeline) = (self.dataset.clone(), self.pipeline.clone());
        // One batch waits in the channel while the worker builds the next.
        let (sender, receiver) = sync_channel(1);
        let worker = std::thread::spawn(move || {
            for indices in batches {
                let batch = dataset.batch(&indices, &pipeline, &mut rng);
                let failed = batch.is_err();
                if sender.send(batch).is_err() || failed {
                    return;
                }
            }
        });
        Epoch {
            receiver: Some(receiver),
            worker: Some(worker),
            remaining,
        }
    }
}

/// The batches of one epoch, assembled ahead on a background thread.
#[derive(Debug)]
pub struct Epoch {
    receiver: Option<Receiver<Result<Batch>>>,
    worker: Option<JoinHandle<()>>,
    remaining: usize,
}

impl Epoch {
    /// The next batch, or `None` at the end of the epoch (or after an error was returned).
    pub fn next_batch(&mut self) -> Option<Result<Batch>> {
        if self.remaining == 0 {
            return None;
        }
        let received = self.receiver.as_ref().map(Receiver::recv);
        let batch = match received {
            Some(Ok(batch)) => batch,
            _ => Err(Error::Io {
                context: "DataLoader".into(),
                source: std::io::Error::other("the batch worker thread stopped unexpectedly"),
            }),
        };
        self.remaining = if batch.is_ok() { self.remaining - 1 } else { 0 };
        Some(batch)
    }

    /// Batches not yet returned.
    pub fn remaining(&self) -> usize {
        self.remaining
    }
}

impl Iterator for Epoch {
    type Item = Result<Batch>;

    fn next(&mut self) -> Option<Self::Item> {
        self.next_batch()
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.remaining, Some(self.remaining))
    }
}

impl Drop for Epoch {
    fn drop(&mut self) {
        // Closing the channel first makes a worker blocked on `send` return.
        self.receiver = None;
        if let Some(worker) = self.worker.take() {
            let _ = worker.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::Samples;

    /// Ten 1x1x2 float "images" [i, -i] labelled i % 3.
    fn counting() -> Dataset {
        let x = (0..10).flat_map(|i| [i as f32, -(i as f32)]).collect();
        let labels = (0..10).map(|i| i % 3).collect();
        Dataset::new(
            Samples::F32(x),
            vec![1, 1, 2],
            labels,
            vec!["a".into(), "b".into(), "c".into()],
        )
        .unwrap()
    }

    fn options(
        batch_size: usize,
        shuffle: bool,
        drop_last: bool,
        seed: Option<u64>,
    ) -> DataLoaderOptions {
        DataLoaderOptions {
            batch_size,
            shuffle,
            drop_last,
            seed,
            transforms: vec![],
        }
    }

    /// The first value of every sample of every batch of one epoch.
    fn epoch_ids(loader: &mut DataLoader) -> Vec<Vec<i64>> {
        loader
            .iter()
            .map(|b| {
                let b = b.unwrap();
                b.float_inputs("test")
                    .unwrap()
                    .chunks(2)
                    .map(|s| s[0] as i64)
                    .collect()
            })
            .collect()
    }

    #[test]
    fn batches_cover_the_dataset_in_order_without_shuffle() {
        let mut loader = DataLoader::new(counting(), options(4, false, false, Some(0))).unwrap();
        assert_eq!(loader.len(), 3);
        let ids = epoch_ids(&mut loader);
        assert_eq!(ids, vec![vec![0, 1, 2, 3], vec![4, 5, 6, 7], vec![8, 9]]);
        let mut epoch = loader.iter();
        let first = epoch.next_batch().unwrap().unwrap();
        assert_eq!(first.shape, vec![4, 1, 1, 2]);
        assert_eq!(first.labels, vec![0, 1, 2, 0]);
        assert_eq!(epoch.remaining(), 2);

        let mut dropping = DataLoader::new(counting(), options(4, false, true, Some(0))).unwrap();
        assert_eq!(dropping.len(), 2);
        assert_eq!(epoch_ids(&mut dropping).len(), 2);
        assert!(DataLoader::new(counting(), options(0, false, false, None)).is_err());
    }

    #[test]
    fn shuffles_are_permutations_seeded_by_seed_and_epoch() {
        let mut a = DataLoader::new(counting(), options(3, true, false, Some(42))).unwrap();
        let mut b = DataLoader::new(counting(), options(3, true, false, Some(42))).unwrap();
        let (a0, a1) = (epoch_ids(&mut a), epoch_ids(&mut a));
        assert_eq!(a0, epoch_ids(&mut b));
        assert_ne!(a0, a1, "two epochs should be shuffled differently");
        let mut all: Vec<i64> = a1.concat();
        all.sort_unstable();
        assert_eq!(all, (0..10).collect::<Vec<_>>());
        b.set_epoch(0);
        assert_eq!(epoch_ids(&mut b), a0);
        let mut c = DataLoader::new(counting(), options(3, true, false, Some(43))).unwrap();
        assert_ne!(epoch_ids(&mut c), a0);
    }

    #[test]
    fn dropping_an_epoch_early_stops_its_worker() {
        let mut loader = DataLoader::new(counting(), options(1, true, false, Some(1))).unwrap();
        let mut epoch = loader.iter();
        assert!(epoch.next_batch().is_some());
        drop(epoch);
        assert_eq!(loader.iter().count(), 10);
    }
}
