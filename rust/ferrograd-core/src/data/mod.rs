//! Datasets held in memory, the file formats that fill them, per-batch transforms and a
//! prefetching [`DataLoader`].
//!
//! Files are decoded once into a [`Dataset`] (u8 images or f32 features plus i64 labels); batches
//! are assembled on rayon workers, where a [`Pipeline`] of [`Transform`]s scales, augments and
//! normalizes each sample with numbers from the project's seeded Philox generator.

pub mod cifar;
pub mod csv;
pub mod dataset;
pub mod file;
pub mod idx;
pub mod image_folder;
pub mod loader;
pub mod pickle;
pub mod pipeline;
pub mod resize;
pub mod transform;

pub use cifar::{cifar10, cifar100, CifarFiles, CifarLabel};
pub use csv::{from_csv, Column, CsvOptions, Missing};
pub use dataset::{Batch, BatchInputs, Dataset, Samples};
pub use idx::mnist;
pub use image_folder::image_folder;
pub use loader::{DataLoader, DataLoaderOptions, Epoch};
pub use pipeline::Pipeline;
pub use transform::Transform;
#[cfg(test)]
mod test_files;
