//! ImageFolder: one sub-folder per class (class names sorted), PNG and JPEG files decoded in
//! parallel to RGB, resized so the shorter side is `size` and center-cropped to `size` x `size`.

use std::path::{Path, PathBuf};

use image::imageops::FilterType;
use rayon::prelude::*;

use super::file::{format_error, sorted_entries};
use super::{Dataset, Samples};
use crate::{Error, Result};

/// File extensions read as images (compared case-insensitively).
const IMAGE_EXTENSIONS: [&str; 3] = ["png", "jpg", "jpeg"];

fn is_image(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| IMAGE_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
}

/// Decodes `path` to an RGB `[3, size, size]` image: the shorter side scaled to `size`
/// (bilinear, the longer side truncated as torchvision's `Resize(size)` does), then the center.
fn load_image(path: &Path, size: usize) -> Result<Vec<u8>> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path.display(), e))?;
    let img = image::load_from_memory(&bytes)
        .map_err(|e| format_error(path, format!("cannot decode the image: {e}")))?;
    let (w, h) = (img.width() as usize, img.height() as usize);
    let (rw, rh) = if w <= h {
        (size, size * h / w)
    } else {
        (size * w / h, size)
    };
    let resized = if (rw, rh) == (w, h) {
        img
    } else {
        img.resize_exact(rw as u32, rh as u32, FilterType::Triangle)
    };
    let (left, top) = ((rw - size) / 2, (rh - size) / 2);
    let rgb = resized
        .crop_imm(left as u32, top as u32, size as u32, size as u32)
        .to_rgb8();
    let mut chw = vec![0u8; 3 * size * size];
    for (i, pixel) in rgb.pixels().enumerate() {
        for c in 0..3 {
            chw[c * size * size + i] = pixel.0[c];
        }
    }
    Ok(chw)
}

/// A dataset of `[3, size, size]` u8 images from `root`, whose sub-folders (sorted by name) are
/// the classes; their `.png`, `.jpg` and `.jpeg` files (sorted by name) are the samples, other
/// files are skipped.
pub fn image_folder(root: &Path, size: usize) -> Result<Dataset> {
    if size == 0 {
        return Err(Error::arg("image_folder", "size", "a positive size", 0));
    }
    let mut classes = Vec::new();
    let mut files: Vec<(PathBuf, i64)> = Vec::new();
    for name in sorted_entries(root)? {
        let dir = root.join(&name);
        if !dir.is_dir() {
            continue;
        }
        let label = classes.len() as i64;
        files.extend(
            sorted_entries(&dir)?
                .into_iter()
                .map(|f| dir.join(f))
                .filter(|p| p.is_file() && is_image(p))
                .map(|p| (p, label)),
        );
        classes.push(name);
    }
    if files.is_empty() {
        return Err(Error::FileNotFound(format!(
            "{} (no .png/.jpg/.jpeg file in any class sub-folder)",
            root.display()
        )));
    }
    let images = files
        .par_iter()
        .map(|(path, _)| load_image(path, size))
        .collect::<Result<Vec<_>>>()?;
    let labels = files.iter().map(|&(_, l)| l).collect();
    Dataset::new(
        Samples::U8(images.concat()),
        vec![3, size, size],
        labels,
        classes,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::test_files::temp_dir;
    use image::{GrayImage, Luma, Rgb, RgbImage};

    #[test]
    fn reads_sorted_classes_resizes_and_center_crops() {
        let root = temp_dir("image_folder");
        std::fs::create_dir_all(root.join("dog")).unwrap();
        std::fs::create_dir_all(root.join("cat")).unwrap();
        // A 4x2 (w x h) image: left half red, right half blue; center crop at size 2 keeps the
        // middle columns 1 and 2, one red and one blue.
        let wide = RgbImage::from_fn(4, 2, |x, _| {
            if x < 2 {
                Rgb([255, 0, 0])
            } else {
                Rgb([0, 0, 255])
            }
        });
        wide.save(root.join("cat").join("b.png")).unwrap();
        let grey = GrayImage::from_pixel(6, 6, Luma([100]));
        grey.save(root.join("cat").join("a.PNG")).unwrap();
        RgbImage::from_pixel(8, 8, Rgb([10, 200, 30]))
            .save(root.join("dog").join("x.jpg"))
            .unwrap();
        std::fs::write(root.join("dog").join("notes.txt"), "not an image").unwrap();
        std::fs::write(root.join("README"), "a file at the root is not a class").unwrap();

        let ds = image_folder(&root, 2).unwrap();
        assert_eq!(ds.classes(), &["cat".to_string(), "dog".to_string()]);
        assert_eq!(ds.labels(), vec![0, 0, 1]);
        assert_eq!(ds.sample_shape(), &[3, 2, 2]);
        assert_eq!(ds.get(0).unwrap().0.to_vec::<u8>().unwrap(), vec![100; 12]);
        let wide = ds.get(1).unwrap().0.to_vec::<u8>().unwrap();
        assert_eq!(wide, vec![255, 0, 255, 0, 0, 0, 0, 0, 0, 255, 0, 255]);
        // JPEG is lossy: a flat colour comes back within a few levels.
        let jpeg = ds.get(2).unwrap().0.to_vec::<u8>().unwrap();
        for (c, want) in [10i32, 200, 30].into_iter().enumerate() {
            assert!(
                jpeg[c * 4..c * 4 + 4]
                    .iter()
                    .all(|&v| (v as i32 - want).abs() <= 4),
                "{jpeg:?}"
            );
        }
    }

    #[test]
    fn rejects_undecodable_files_and_empty_folders() {
        let root = temp_dir("image_folder_bad");
        assert!(matches!(
            image_folder(&root, 4),
            Err(Error::FileNotFound(_))
        ));
        std::fs::create_dir_all(root.join("a")).unwrap();
        std::fs::write(
            root.join("a").join("broken.png"),
            b"\x89PNG\r\n\x1a\n truncated",
        )
        .unwrap();
        match image_folder(&root, 4) {
            Err(Error::Format { path, msg }) => {
                assert!(path.ends_with("broken.png"), "{path}");
                assert!(msg.contains("decode"), "{msg}");
            }
            other => panic!("expected a format error, got {other:?}"),
        }
        assert!(matches!(
            image_folder(&root, 0),
            Err(Error::Argument { .. })
        ));
    }
}
