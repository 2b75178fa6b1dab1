//! CIFAR-10 and CIFAR-100 in either distribution: the binary version (`*.bin` files of records
//! holding the label byte(s) then 3072 pixels, planes R, G, B) or the python version (pickled
//! dicts with a uint8 `data` array `[N, 3072]` and a label list), plus their class-name files.

use std::path::{Path, PathBuf};

use rayon::prelude::*;

use super::file::{find_first, format_error, read_bytes, sorted_entries};
use super::{pickle, Dataset, Samples};
use crate::{Error, Result};

/// Bytes of one 3x32x32 image.
pub const IMAGE_BYTES: usize = 3 * 32 * 32;

/// The dataset and the label kept.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CifarLabel {
    /// CIFAR-10: one label byte, 10 classes.
    Cifar10,
    /// CIFAR-100's 100 fine classes (the second label byte).
    Cifar100Fine,
    /// CIFAR-100's 20 coarse classes (the first label byte).
    Cifar100Coarse,
}

impl CifarLabel {
    fn num_classes(self) -> usize {
        match self {
            CifarLabel::Cifar10 => 10,
            CifarLabel::Cifar100Fine => 100,
            CifarLabel::Cifar100Coarse => 20,
        }
    }

    /// Label bytes before each binary record's pixels.
    fn label_bytes(self) -> usize {
        match self {
            CifarLabel::Cifar10 => 1,
            _ => 2,
        }
    }

    /// Which of the label bytes is kept.
    fn label_offset(self) -> usize {
        match self {
            CifarLabel::Cifar100Fine => 1,
            _ => 0,
        }
    }

    /// The label list's key in a python batch.
    fn labels_key(self) -> &'static str {
        match self {
            CifarLabel::Cifar10 => "labels",
            CifarLabel::Cifar100Fine => "fine_labels",
            CifarLabel::Cifar100Coarse => "coarse_labels",
        }
    }

    /// The class-name list's key in the pickled meta file.
    fn names_key(self) -> &'static str {
        match self {
            CifarLabel::Cifar10 => "label_names",
            CifarLabel::Cifar100Fine => "fine_label_names",
            CifarLabel::Cifar100Coarse => "coarse_label_names",
        }
    }

    /// The class-name files: the binary version's text file, then the python version's pickle.
    fn names_files(self) -> [&'static str; 2] {
        match self {
            CifarLabel::Cifar10 => ["batches.meta.txt", "batches.meta"],
            CifarLabel::Cifar100Fine => ["fine_label_names.txt", "meta"],
            CifarLabel::Cifar100Coarse => ["coarse_label_names.txt", "meta"],
        }
    }
}

/// The images (`[N, 3, 32, 32]` u8) and labels of one batch file: binary records when its name
/// ends in `.bin`, a python-version pickle otherwise.
pub fn read_batch(path: &Path, label: CifarLabel) -> Result<(Vec<u8>, Vec<i64>)> {
    let (pixels, labels) = if path.extension().is_some_and(|e| e == "bin") {
        read_records(&read_bytes(path)?, path, label)?
    } else {
        read_pickled_batch(path, label)?
    };
    Dataset::check_labels(&labels, label.num_classes()).map_err(|msg| format_error(path, msg))?;
    Ok((pixels, labels))
}

fn read_records(bytes: &[u8], path: &Path, label: CifarLabel) -> Result<(Vec<u8>, Vec<i64>)> {
    let record = label.label_bytes() + IMAGE_BYTES;
    if bytes.is_empty() || !bytes.len().is_multiple_of(record) {
        return Err(format_error(
            path,
            format!(
                "{} bytes is not a whole number of {record}-byte records ({} label byte(s) + {IMAGE_BYTES} pixels): {} records and {} bytes left over",
                bytes.len(),
                label.label_bytes(),
                bytes.len() / record,
                bytes.len() % record
            ),
        ));
    }
    let n = bytes.len() / record;
    let mut pixels = Vec::with_capacity(n * IMAGE_BYTES);
    let mut labels = Vec::with_capacity(n);
    for rec in bytes.chunks_exact(record) {
        let (head, image) = rec.split_at(label.label_bytes());
        labels.push(i64::from(head[label.label_offset()]));
        pixels.extend_from_slice(image);
    }
    Ok((pixels, labels))
}

fn read_pickled_batch(path: &Path, label: CifarLabel) -> Result<(Vec<u8>, Vec<i64>)> {
    let mut p = pickle::load(path)?;
    let labels_id = p.item(label.labels_key())?;
    let labels = p.int_list(labels_id, label.labels_key())?;
    let data_id = p.item("data")?;
    let (shape, pixels) = p.take_u8_array(data_id, "data")?;
    let per_image: usize = shape.iter().skip(1).product();
    if shape.first() != Some(&labels.len()) || per_image != IMAGE_BYTES {
        return Err(format_error(
            path,
            format!(
                "data has shape {shape:?}, expected [{}, {IMAGE_BYTES}] for {} labels",
                labels.len(),
                labels.len()
            ),
        ));
    }
    Ok((pixels, labels))
}

/// Class names from a text file (one per line) or a pickled meta file.
pub fn read_class_names(path: &Path, label: CifarLabel) -> Result<Vec<String>> {
    let names = if path.extension().is_some_and(|e| e == "txt") {
        let text = String::from_utf8(read_bytes(path)?)
            .map_err(|_| format_error(path, "class names are not UTF-8 text"))?;
        text.lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(String::from)
            .collect()
    } else {
        let p = pickle::load(path)?;
        p.str_list(p.item(label.names_key())?, label.names_key())?
    };
    if names.len() != label.num_classes() {
        return Err(format_error(
            path,
            format!(
                "{} class names, expected {}",
                names.len(),
                label.num_classes()
            ),
        ));
    }
    Ok(names)
}

/// The batch files of each split; `None` finds the standard names (see [`cifar10`], [`cifar100`]).
/// Relative paths are taken from the dataset's root folder.
#[derive(Clone, Debug, Default)]
pub struct CifarFiles {
    /// The training batches, concatenated in this order.
    pub train: Option<Vec<PathBuf>>,
    /// The test batches, concatenated in this order.
    pub test: Option<Vec<PathBuf>>,
}

/// One dataset from the batch `files` (read in parallel, concatenated in order).
pub fn read_batches(files: &[PathBuf], label: CifarLabel, classes: Vec<String>) -> Result<Dataset> {
    if files.is_empty() {
        return Err(Error::arg(
            "cifar",
            "files",
            "at least one batch file",
            "an empty list",
        ));
    }
    let parts = files
        .par_iter()
        .map(|f| read_batch(f, label))
        .collect::<Result<Vec<_>>>()?;
    let (mut pixels, mut labels) = (Vec::new(), Vec::new());
    for (p, l) in parts {
        pixels.extend(p);
        labels.extend(l);
    }
    Dataset::new(Samples::U8(pixels), vec![3, 32, 32], labels, classes)
}

/// The files of `root` whose names start with `prefix` and either have no extension (python
/// version) or end in `.bin` (binary version), sorted; an error when there are none or both kinds.
fn find_batches(root: &Path, prefix: &str) -> Result<Vec<PathBuf>> {
    let names: Vec<String> = sorted_entries(root)?
        .into_iter()
        .filter(|n| n.starts_with(prefix) && (!n.contains('.') || n.ends_with(".bin")))
        .collect();
    if names.is_empty() {
        return Err(Error::FileNotFound(format!(
            "{} (no CIFAR batch named {prefix}*[.bin])",
            root.display()
        )));
    }
    let binary = names.iter().filter(|n| n.ends_with(".bin")).count();
    if binary != 0 && binary != names.len() {
        return Err(Error::arg(
            "cifar",
            "train_files/test_files",
            "explicit files when a folder holds both versions",
            format!("python and binary batches in {}: {names:?}", root.display()),
        ));
    }
    Ok(names.into_iter().map(|n| root.join(n)).collect())
}

fn resolve(
    root: &Path,
    files: &Option<Vec<PathBuf>>,
    default: impl FnOnce() -> Result<Vec<PathBuf>>,
) -> Result<Vec<PathBuf>> {
    match files {
        Some(list) => Ok(list.iter().map(|f| root.join(f)).collect()),
        None => default(),
    }
}

/// CIFAR-10 from `root`: `(train, test)`. By default the training batches are the files named
/// `data_batch_*` and the test batches those named `test_batch*`, either without extension
/// (python version) or ending in `.bin` (binary version), in name order, so both the standard
/// names and subsets such as `data_batch_1_first4000.bin` are found; `files` overrides either
/// list. Class names come from `batches.meta.txt` or the pickled `batches.meta`.
pub fn cifar10(root: &Path, files: &CifarFiles) -> Result<(Dataset, Dataset)> {
    let label = CifarLabel::Cifar10;
    let classes = read_class_names(&find_first(root, &label.names_files())?, label)?;
    let train = resolve(root, &files.train, || find_batches(root, "data_batch_"))?;
    let test = resolve(root, &files.test, || find_batches(root, "test_batch"))?;
    Ok((
        read_batches(&train, label, classes.clone())?,
        read_batches(&test, label, classes)?,
    ))
}

/// CIFAR-100 from `root`: `(train, test)` with the 100 fine labels, or the 20 coarse ones when
/// `coarse`. By default the batches are `train.bin`/`test.bin` (binary version) or
/// `train`/`test` (python version); names come from `fine_label_names.txt` /
/// `coarse_label_names.txt` or the pickled `meta`.
pub fn cifar100(root: &Path, coarse: bool, files: &CifarFiles) -> Result<(Dataset, Dataset)> {
    let label = if coarse {
        CifarLabel::Cifar100Coarse
    } else {
        CifarLabel::Cifar100Fine
    };
    let classes = read_class_names(&find_first(root, &label.names_files())?, label)?;
    let train = resolve(root, &files.train, || {
        Ok(vec![find_first(root, &["train.bin", "train"])?])
    })?;
    let test = resolve(root, &files.test, || {
        Ok(vec![find_first(root, &["test.bin", "test"])?])
    })?;
    Ok((
        read_batches(&train, label, classes.clone())?,
        read_batches(&test, label, classes)?,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::test_files::temp_dir;

    /// `n` binary records whose label bytes are `labels(i)` and whose pixels are all `i`.
    fn records(n: usize, labels: impl Fn(usize) -> Vec<u8>) -> Vec<u8> {
        (0..n)
            .flat_map(|i| {
                let mut r = labels(i);
                r.extend(std::iter::repeat_n(i as u8, IMAGE_BYTES));
                r
            })
            .collect()
    }

    fn names(n: usize) -> String {
        (0..n).map(|i| format!("class{i}\n")).collect()
    }

    fn expect_format_error<T: std::fmt::Debug>(result: Result<T>, msg_part: &str) {
        match result {
            Err(Error::Format { msg, .. }) => assert!(msg.contains(msg_part), "{msg}"),
            other => panic!("expected a format error containing {msg_part:?}, got {other:?}"),
        }
    }

    #[test]
    fn reads_binary_cifar10_with_default_and_explicit_files() {
        let dir = temp_dir("cifar10_bin");
        std::fs::write(dir.join("batches.meta.txt"), names(10)).unwrap();
        std::fs::write(dir.join("data_batch_1.bin"), records(3, |i| vec![i as u8])).unwrap();
        std::fs::write(
            dir.join("data_batch_2.bin"),
            records(2, |i| vec![9 - i as u8]),
        )
        .unwrap();
        std::fs::write(dir.join("data_batch_1_labels.txt"), "ignored").unwrap();
        std::fs::write(dir.join("test_batch_small.bin"), records(1, |_| vec![4])).unwrap();
        let (train, test) = cifar10(&dir, &CifarFiles::default()).unwrap();
        assert_eq!(train.len(), 5);
        assert_eq!(train.labels(), vec![0, 1, 2, 9, 8]);
        assert_eq!(train.sample_shape(), &[3, 32, 32]);
        assert_eq!(
            train.get(2).unwrap().0.to_vec::<u8>().unwrap(),
            vec![2; IMAGE_BYTES]
        );
        assert_eq!(test.labels(), vec![4]);
        assert_eq!(test.classes()[3], "class3");

        let only_second = CifarFiles {
            train: Some(vec!["data_batch_2.bin".into()]),
            test: None,
        };
        assert_eq!(cifar10(&dir, &only_second).unwrap().0.labels(), vec![9, 8]);
        std::fs::write(dir.join("data_batch_3"), b"").unwrap();
        assert!(matches!(
            cifar10(&dir, &CifarFiles::default()),
            Err(Error::Argument { .. })
        ));
    }

    #[test]
    fn reads_cifar100_fine_and_coarse_labels() {
        let dir = temp_dir("cifar100_bin");
        std::fs::write(dir.join("fine_label_names.txt"), names(100)).unwrap();
        std::fs::write(dir.join("coarse_label_names.txt"), names(20)).unwrap();
        std::fs::write(
            dir.join("train.bin"),
            records(2, |i| vec![i as u8 + 10, i as u8 + 50]),
        )
        .unwrap();
        std::fs::write(dir.join("test.bin"), records(1, |_| vec![19, 99])).unwrap();
        let (fine, fine_test) = cifar100(&dir, false, &CifarFiles::default()).unwrap();
        assert_eq!(fine.labels(), vec![50, 51]);
        assert_eq!(fine_test.labels(), vec![99]);
        assert_eq!(fine.num_classes(), 100);
        let (coarse, _) = cifar100(&dir, true, &CifarFiles::default()).unwrap();
        assert_eq!(coarse.labels(), vec![10, 11]);
        assert_eq!(coarse.num_classes(), 20);
    }

    #[test]
    fn rejects_partial_records_bad_labels_and_missing_files() {
        let dir = temp_dir("cifar_errors");
        let mut cut = records(2, |i| vec![i as u8]);
        cut.truncate(cut.len() - 10);
        std::fs::write(dir.join("cut.bin"), cut).unwrap();
        expect_format_error(
            read_batch(&dir.join("cut.bin"), CifarLabel::Cifar10),
            "3073-byte records",
        );
        std::fs::write(dir.join("label.bin"), records(2, |i| vec![10 * i as u8])).unwrap();
        expect_format_error(
            read_batch(&dir.join("label.bin"), CifarLabel::Cifar10),
            "label 10 at index 1",
        );
        std::fs::write(dir.join("names.txt"), names(9)).unwrap();
        expect_format_error(
            read_class_names(&dir.join("names.txt"), CifarLabel::Cifar10),
            "9 class names, expected 10",
        );
        match cifar10(&dir, &CifarFiles::default()) {
            Err(Error::FileNotFound(msg)) => assert!(msg.contains("batches.meta"), "{msg}"),
            other => panic!("expected FileNotFound, got {other:?}"),
        }
        std::fs::write(dir.join("batches.meta.txt"), names(10)).unwrap();
        match cifar10(&dir, &CifarFiles::default()) {
            Err(Error::FileNotFound(msg)) => assert!(msg.contains("data_batch_"), "{msg}"),
            other => panic!("expected FileNotFound, got {other:?}"),
        }
    }
}
