//! PNG images (generated samples, image grids), written atomically.

use std::path::Path;

use image::codecs::png::PngEncoder;
use image::{ExtendedColorType, ImageEncoder};

use crate::{Error, Result};

/// Writes 8-bit pixels `[height, width, channels]` (1 grey, 3 RGB, 4 RGBA) as a PNG file.
pub fn save_png(
    path: &Path,
    pixels: &[u8],
    height: usize,
    width: usize,
    channels: usize,
) -> Result<()> {
    let color = match channels {
        1 => ExtendedColorType::L8,
        3 => ExtendedColorType::Rgb8,
        4 => ExtendedColorType::Rgba8,
        other => {
            return Err(Error::arg("save_png", "image", "1, 3 or 4 channels", other));
        }
    };
    if pixels.len() != height * width * channels || height == 0 || width == 0 {
        return Err(Error::shape(
            "save_png",
            format!(
                "{} bytes do not form a non-empty {height}x{width}x{channels} image",
                pixels.len()
            ),
        ));
    }
    let mut data = Vec::new();
    PngEncoder::new(&mut data)
        .write_image(pixels, width as u32, height as u32, color)
        .map_err(|e| Error::arg("save_png", "image", "an encodable image", e.to_string()))?;
    super::atomic::write_atomic(path, &data)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_a_png_that_decodes_to_the_same_pixels() {
        let dir = std::env::temp_dir().join(format!("fg-png-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("grid.png");
        let pixels: Vec<u8> = (0..2 * 3 * 3).map(|i| (i * 13) as u8).collect();
        save_png(&path, &pixels, 2, 3, 3).unwrap();
        let back = image::open(&path).unwrap().to_rgb8();
        assert_eq!((back.height(), back.width()), (2, 3));
        assert_eq!(back.into_raw(), pixels);
        assert!(matches!(
            save_png(&path, &pixels, 2, 3, 2),
            Err(Error::Argument { .. })
        ));
        assert!(matches!(
            save_png(&path, &pixels, 3, 3, 3),
            Err(Error::Shape { .. })
        ));
    }
}
