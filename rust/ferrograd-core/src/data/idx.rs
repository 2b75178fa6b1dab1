//! IDX files, the format of MNIST and Fashion-MNIST: a big-endian magic number `0x0000_08DD`
//! (unsigned bytes, `DD` dimensions), the dimensions as big-endian u32, then the bytes.

use std::path::Path;

use super::file::{find_first, format_error, read_bytes};
use super::{Dataset, Samples};
use crate::Result;

/// The magic number of a u8 IDX file with `ndim` dimensions (0x801 labels, 0x803 images).
fn magic(ndim: usize) -> u32 {
    0x0800 | ndim as u32
}

/// The big-endian u32 at byte `at`, if the file is long enough.
fn be_u32(bytes: &[u8], at: usize) -> Option<u32> {
    let word = bytes.get(at..at + 4)?;
    Some(u32::from_be_bytes([word[0], word[1], word[2], word[3]]))
}

/// Parses the IDX file `path` of `ndim` dimensions: its dimensions and its bytes.
pub fn read_idx(path: &Path, ndim: usize) -> Result<(Vec<usize>, Vec<u8>)> {
    let mut bytes = read_bytes(path)?;
    let header_len = 4 + 4 * ndim;
    let expected = magic(ndim);
    let found = be_u32(&bytes, 0).ok_or_else(|| {
        format_error(
            path,
            format!(
                "file of {} bytes is too short for an IDX magic number",
                bytes.len()
            ),
        )
    })?;
    if found != expected {
        return Err(format_error(
            path,
            format!("bad IDX magic number 0x{found:08x}, expected 0x{expected:08x} (u8 data, {ndim} dimensions)"),
        ));
    }
    let dims = (0..ndim)
        .map(|d| be_u32(&bytes, 4 + 4 * d).map(|v| v as usize))
        .collect::<Option<Vec<usize>>>()
        .ok_or_else(|| {
            format_error(
                path,
                format!(
                    "truncated IDX header: {} bytes, expected {header_len}",
                    bytes.len()
                ),
            )
        })?;
    let count = dims.iter().try_fold(1usize, |acc, &d| acc.checked_mul(d));
    let found_len = bytes.len() - header_len;
    if count != Some(found_len) {
        return Err(format_error(
            path,
            format!(
                "dimensions {dims:?} need {} data bytes after the {header_len}-byte header, found {found_len}",
                count.map_or("more than usize::MAX".to_string(), |c| c.to_string())
            ),
        ));
    }
    bytes.drain(..header_len);
    Ok((dims, bytes))
}

/// A dataset from an IDX image file (`[N, H, W]`, 0x803) and an IDX label file (`[N]`, 0x801).
pub fn read_idx_pair(images: &Path, labels: &Path, classes: Vec<String>) -> Result<Dataset> {
    let (dims, pixels) = read_idx(images, 3)?;
    let (label_dims, label_bytes) = read_idx(labels, 1)?;
    if label_dims[0] != dims[0] {
        return Err(format_error(
            images,
            format!(
                "holds {} images but {} holds {} labels",
                dims[0],
                labels.display(),
                label_dims[0]
            ),
        ));
    }
    let labels_i64: Vec<i64> = label_bytes.into_iter().map(i64::from).collect();
    Dataset::check_labels(&labels_i64, classes.len()).map_err(|msg| format_error(labels, msg))?;
    Dataset::new(
        Samples::U8(pixels),
        vec![1, dims[1], dims[2]],
        labels_i64,
        classes,
    )
}

/// Fashion-MNIST's class names.
const FASHION_CLASSES: [&str; 10] = [
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
];

/// One split (`"train"` or `"t10k"`) from `root`, gzipped or raw.
fn mnist_split(root: &Path, prefix: &str, classes: Vec<String>) -> Result<Dataset> {
    let images = format!("{prefix}-images-idx3-ubyte");
    let labels = format!("{prefix}-labels-idx1-ubyte");
    let images = find_first(root, &[&format!("{images}.gz"), &images])?;
    let labels = find_first(root, &[&format!("{labels}.gz"), &labels])?;
    read_idx_pair(&images, &labels, classes)
}

/// MNIST (digit names "0".."9") or Fashion-MNIST from the standard file names in `root`
/// (`train-images-idx3-ubyte[.gz]`, `train-labels-idx1-ubyte[.gz]`, `t10k-...`):
/// `(train, test)` with `[1, 28, 28]` u8 images.
pub fn mnist(root: &Path, fashion: bool) -> Result<(Dataset, Dataset)> {
    let classes: Vec<String> = if fashion {
        FASHION_CLASSES.iter().map(|c| c.to_string()).collect()
    } else {
        (0..10).map(|d| d.to_string()).collect()
    };
    Ok((
        mnist_split(root, "train", classes.clone())?,
        mnist_split(root, "t10k", classes)?,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::test_files::temp_dir;
    use crate::Error;
    use std::io::Write;

    /// An IDX file of three 2x2 images 0..12 and its labels 3 1 4.
    fn idx_images() -> Vec<u8> {
        let mut b = vec![0, 0, 8, 3, 0, 0, 0, 3, 0, 0, 0, 2, 0, 0, 0, 2];
        b.extend(0..12u8);
        b
    }

    fn idx_labels() -> Vec<u8> {
        vec![0, 0, 8, 1, 0, 0, 0, 3, 3, 1, 4]
    }

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        enc.write_all(bytes).unwrap();
        enc.finish().unwrap()
    }

    fn expect_format_error(result: Result<impl std::fmt::Debug>, path_part: &str, msg_part: &str) {
        match result {
            Err(Error::Format { path, msg }) => {
                assert!(path.contains(path_part), "{path}");
                assert!(msg.contains(msg_part), "{msg}");
            }
            other => panic!("expected a format error, got {other:?}"),
        }
    }

    #[test]
    fn reads_gzipped_and_raw_mnist_layouts() {
        let dir = temp_dir("idx_mnist");
        std::fs::write(dir.join("train-images-idx3-ubyte.gz"), gzip(&idx_images())).unwrap();
        std::fs::write(dir.join("train-labels-idx1-ubyte.gz"), gzip(&idx_labels())).unwrap();
        std::fs::write(dir.join("t10k-images-idx3-ubyte"), idx_images()).unwrap();
        std::fs::write(dir.join("t10k-labels-idx1-ubyte"), idx_labels()).unwrap();
        let (train, test) = mnist(&dir, true).unwrap();
        for ds in [&train, &test] {
            assert_eq!(ds.len(), 3);
            assert_eq!(ds.sample_shape(), &[1, 2, 2]);
            assert_eq!(ds.labels(), vec![3, 1, 4]);
            let (image, _) = ds.get(2).unwrap();
            assert_eq!(image.to_vec::<u8>().unwrap(), vec![8, 9, 10, 11]);
        }
        assert_eq!(train.classes()[0], "T-shirt/top");
        let (digits, _) = mnist(&dir, false).unwrap();
        assert_eq!(digits.classes()[9], "9");
    }

    #[test]
    fn rejects_bad_magic_truncation_and_count_mismatch() {
        let dir = temp_dir("idx_errors");
        let mut flipped = idx_images();
        flipped[3] = 0x01;
        std::fs::write(dir.join("flipped"), gzip(&flipped)).unwrap();
        expect_format_error(
            read_idx(&dir.join("flipped"), 3),
            "flipped",
            "magic number 0x00000801, expected 0x00000803",
        );

        let images = idx_images();
        std::fs::write(dir.join("short"), &images[..images.len() - 1]).unwrap();
        expect_format_error(
            read_idx(&dir.join("short"), 3),
            "short",
            "need 12 data bytes after the 16-byte header, found 11",
        );
        std::fs::write(dir.join("header"), &images[..10]).unwrap();
        expect_format_error(
            read_idx(&dir.join("header"), 3),
            "header",
            "truncated IDX header",
        );
        std::fs::write(dir.join("tiny"), [0u8, 0]).unwrap();
        expect_format_error(read_idx(&dir.join("tiny"), 1), "tiny", "too short");

        std::fs::write(dir.join("images"), &images).unwrap();
        std::fs::write(dir.join("two_labels"), [0, 0, 8, 1, 0, 0, 0, 2, 1, 1]).unwrap();
        let classes: Vec<String> = (0..10).map(|d| d.to_string()).collect();
        expect_format_error(
            read_idx_pair(
                &dir.join("images"),
                &dir.join("two_labels"),
                classes.clone(),
            ),
            "images",
            "holds 3 images but",
        );
        std::fs::write(dir.join("big_labels"), [0, 0, 8, 1, 0, 0, 0, 3, 1, 12, 1]).unwrap();
        expect_format_error(
            read_idx_pair(&dir.join("images"), &dir.join("big_labels"), classes),
            "big_labels",
            "label 12 at index 1",
        );
        assert!(matches!(
            mnist(&dir.join("missing"), false),
            Err(Error::FileNotFound(_))
        ));
    }
}
