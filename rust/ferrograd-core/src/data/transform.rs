//! Per-sample transforms: normalize, random crop with padding, horizontal flip, random resized
//! crop and cutout. Each transform reads a fixed number of uniforms per sample (its
//! [`draws`](Transform::draws)), so a sample's result depends only on its slice of the random stream.

use super::resize::resize_bilinear;
use crate::{Error, Result};

/// Tries of torchvision's RandomResizedCrop before it falls back to a center crop.
const RESIZED_CROP_TRIES: usize = 10;

/// One step of a transform pipeline. Images are float `[C, H, W]` (u8 images arrive scaled to
/// [0, 1]); table rows are `[F]`, for which only `Normalize` applies.
#[derive(Clone, Debug, PartialEq)]
pub enum Transform {
    /// `(x - mean[c]) / std[c]` along the sample's first axis (channels, or the features of a
    /// table row); `mean` and `std` hold one value per channel, or one for all.
    Normalize { mean: Vec<f32>, std: Vec<f32> },
    /// Pads every border with `padding` zeros, then keeps a random `size` = `[height, width]` window.
    RandomCrop { size: [usize; 2], padding: usize },
    /// Mirrors the image left-right with probability `p`.
    RandomHorizontalFlip { p: f32 },
    /// torchvision's RandomResizedCrop: a window covering a uniform `scale` fraction of the area,
    /// with a log-uniform aspect `ratio` (10 tries, then a center crop), resized bilinearly to
    /// `size` = `[height, width]`.
    RandomResizedCrop {
        size: [usize; 2],
        scale: [f32; 2],
        ratio: [f32; 2],
    },
    /// Zeroes a `size` x `size` square centred at a uniform random pixel, clipped at the borders.
    Cutout { size: usize },
}

impl Transform {
    /// The transform's name, as in Python.
    pub fn name(&self) -> &'static str {
        match self {
            Transform::Normalize { .. } => "Normalize",
            Transform::RandomCrop { .. } => "RandomCrop",
            Transform::RandomHorizontalFlip { .. } => "RandomHorizontalFlip",
            Transform::RandomResizedCrop { .. } => "RandomResizedCrop",
            Transform::Cutout { .. } => "Cutout",
        }
    }

    /// Checks the parameters that do not depend on the sample shape.
    pub fn validate(&self) -> Result<()> {
        let op = self.name();
        let positive_size = |size: [usize; 2]| {
            if size.contains(&0) {
                return Err(Error::arg(
                    op,
                    "size",
                    "positive sizes",
                    format!("{size:?}"),
                ));
            }
            Ok(())
        };
        let range = |name: &str, r: [f32; 2]| {
            if !(r[0] > 0.0 && r[0] <= r[1] && r[1].is_finite()) {
                return Err(Error::arg(op, name, "0 < low <= high", format!("{r:?}")));
            }
            Ok(())
        };
        match self {
            Transform::Normalize { mean, std } => {
                if mean.is_empty() || std.is_empty() {
                    return Err(Error::arg(
                        op,
                        "mean/std",
                        "at least one value each",
                        "an empty list",
                    ));
                }
                if mean.iter().any(|m| !m.is_finite()) {
                    return Err(Error::arg(op, "mean", "finite values", format!("{mean:?}")));
                }
                if std.iter().any(|s| !(s.is_finite() && *s > 0.0)) {
                    return Err(Error::arg(
                        op,
                        "std",
                        "positive finite values",
                        format!("{std:?}"),
                    ));
                }
            }
            Transform::RandomCrop { size, .. } => positive_size(*size)?,
            Transform::RandomHorizontalFlip { p } => crate::ops::expect_probability(op, "p", *p)?,
            Transform::RandomResizedCrop { size, scale, ratio } => {
                positive_size(*size)?;
                range("scale", *scale)?;
                range("ratio", *ratio)?;
            }
            Transform::Cutout { size } => positive_size([*size, *size])?,
        }
        Ok(())
    }

    /// The shape of a sample after this transform, or an error when it cannot take `input`.
    pub fn output_shape(&self, input: &[usize]) -> Result<Vec<usize>> {
        self.validate()?;
        let op = self.name();
        if let Transform::Normalize { mean, std } = self {
            let channels = input.first().copied().unwrap_or(0);
            for (name, v) in [("mean", mean), ("std", std)] {
                if v.len() != 1 && v.len() != channels {
                    return Err(Error::arg(
                        op,
                        name,
                        format!("1 or {channels} values (the sample's first axis)"),
                        v.len(),
                    ));
                }
            }
            return Ok(input.to_vec());
        }
        let &[c, h, w] = input else {
            return Err(Error::shape(
                op,
                format!("needs image samples [C, H, W], got samples of shape {input:?}"),
            ));
        };
        Ok(match self {
            Transform::RandomCrop { size, padding } => {
                let (ph, pw) = (h + 2 * padding, w + 2 * padding);
                if size[0] > ph || size[1] > pw {
                    return Err(Error::shape(
                        op,
                        format!("a {size:?} crop does not fit a {h}x{w} image padded to {ph}x{pw}"),
                    ));
                }
                vec![c, size[0], size[1]]
            }
            Transform::RandomResizedCrop { size, .. } => vec![c, size[0], size[1]],
            _ => input.to_vec(),
        })
    }

    /// How many uniforms this transform reads per sample.
    pub fn draws(&self) -> usize {
        match self {
            Transform::Normalize { .. } => 0,
            Transform::RandomCrop { .. } | Transform::Cutout { .. } => 2,
            Transform::RandomHorizontalFlip { .. } => 1,
            Transform::RandomResizedCrop { .. } => 4 * RESIZED_CROP_TRIES,
        }
    }

    /// Applies the transform to sample `x` of shape `shape` (accepted by
    /// [`output_shape`](Self::output_shape)) with its [`draws`](Self::draws) uniforms `u`.
    pub fn apply(&self, mut x: Vec<f32>, shape: &[usize], u: &[f32]) -> Vec<f32> {
        match self {
            Transform::Normalize { mean, std } => {
                let channels = shape[0];
                let inner = x.len() / channels;
                for (c, plane) in x.chunks_mut(inner).enumerate() {
                    let m = mean[c.min(mean.len() - 1)];
                    let s = std[c.min(std.len() - 1)];
                    plane.iter_mut().for_each(|v| *v = (*v - m) / s);
                }
                x
            }
            Transform::RandomCrop { size, padding } => random_crop(&x, shape, *size, *padding, u),
            Transform::RandomHorizontalFlip { p } => {
                if u[0] < *p {
                    x.chunks_mut(shape[2]).for_each(|row| row.reverse());
                }
                x
            }
            Transform::RandomResizedCrop { size, scale, ratio } => {
                let window = resized_crop_window(shape[1], shape[2], *scale, *ratio, u);
                resize_bilinear(&x, [shape[0], shape[1], shape[2]], window, *size)
            }
            Transform::Cutout { size } => {
                cutout(&mut x, shape, *size, u);
                x
            }
        }
    }
}

/// `floor(u * n)` as an index in `0..n` (n >= 1).
fn pick(u: f32, n: usize) -> usize {
    ((u as f64 * n as f64) as usize).min(n - 1)
}

fn random_crop(
    x: &[f32],
    shape: &[usize],
    size: [usize; 2],
    padding: usize,
    u: &[f32],
) -> Vec<f32> {
    let (c, h, w) = (shape[0], shape[1], shape[2]);
    let top = pick(u[0], h + 2 * padding - size[0] + 1);
    let left = pick(u[1], w + 2 * padding - size[1] + 1);
    let mut out = vec![0f32; c * size[0] * size[1]];
    for (ch, plane) in out.chunks_mut(size[0] * size[1]).enumerate() {
        for (y, row) in plane.chunks_mut(size[1]).enumerate() {
            let Some(sy) = (top + y).checked_sub(padding).filter(|&sy| sy < h) else {
                continue;
            };
            for (xo, v) in row.iter_mut().enumerate() {
                if let Some(sx) = (left + xo).checked_sub(padding).filter(|&sx| sx < w) {
                    *v = x[(ch * h + sy) * w + sx];
                }
            }
        }
    }
    out
}

/// torchvision's `RandomResizedCrop.get_params` for an `h` x `w` image: `(top, left, height, width)`.
/// Each try reads four uniforms (area, log-ratio, top, left); Python's round-half-even is kept.
fn resized_crop_window(
    h: usize,
    w: usize,
    scale: [f32; 2],
    ratio: [f32; 2],
    u: &[f32],
) -> [usize; 4] {
    let area = (h * w) as f64;
    let (log_lo, log_hi) = ((ratio[0] as f64).ln(), (ratio[1] as f64).ln());
    for t in u.chunks_exact(4).take(RESIZED_CROP_TRIES) {
        let target = area * (scale[0] as f64 + (scale[1] - scale[0]) as f64 * t[0] as f64);
        let aspect = (log_lo + (log_hi - log_lo) * t[1] as f64).exp();
        let cw = (target * aspect).sqrt().round_ties_even() as usize;
        let ch = (target / aspect).sqrt().round_ties_even() as usize;
        if 0 < cw && cw <= w && 0 < ch && ch <= h {
            return [pick(t[2], h - ch + 1), pick(t[3], w - cw + 1), ch, cw];
        }
    }
    let in_ratio = w as f64 / h as f64;
    let (lo, hi) = (ratio[0] as f64, ratio[1] as f64);
    // At least one pixel: a 1-pixel-wide strip with an extreme ratio would otherwise round to 0.
    let (ch, cw) = if in_ratio < lo {
        ((((w as f64) / lo).round_ties_even() as usize).max(1), w)
    } else if in_ratio > hi {
        (h, (((h as f64) * hi).round_ties_even() as usize).max(1))
    } else {
        (h, w)
    };
    [(h - ch) / 2, (w - cw) / 2, ch, cw]
}

fn cutout(x: &mut [f32], shape: &[usize], size: usize, u: &[f32]) {
    let (h, w) = (shape[1], shape[2]);
    let (cy, cx) = (pick(u[0], h), pick(u[1], w));
    let (y0, x0) = (cy.saturating_sub(size / 2), cx.saturating_sub(size / 2));
    let (y1, x1) = ((cy + size - size / 2).min(h), (cx + size - size / 2).min(w));
    for plane in x.chunks_mut(h * w) {
        for row in plane.chunks_mut(w).take(y1).skip(y0) {
            row[x0..x1].fill(0.0);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 2x3x4 image with distinct values 0..24.
    fn image() -> (Vec<f32>, Vec<usize>) {
        ((0..24).map(|v| v as f32).collect(), vec![2, 3, 4])
    }

    #[test]
    fn validation_rejects_bad_parameters_and_shapes() {
        let bad = [
            Transform::Normalize {
                mean: vec![0.5],
                std: vec![0.0],
            },
            Transform::Normalize {
                mean: vec![],
                std: vec![1.0],
            },
            Transform::RandomCrop {
                size: [0, 2],
                padding: 0,
            },
            Transform::RandomHorizontalFlip { p: 1.5 },
            Transform::RandomResizedCrop {
                size: [2, 2],
                scale: [0.9, 0.1],
                ratio: [1.0, 1.0],
            },
            Transform::Cutout { size: 0 },
        ];
        for t in bad {
            assert!(t.validate().is_err(), "{t:?} should be rejected");
        }
        let norm3 = Transform::Normalize {
            mean: vec![0.0; 3],
            std: vec![1.0; 3],
        };
        assert!(norm3.output_shape(&[2, 3, 4]).is_err());
        assert!(norm3.output_shape(&[3]).is_ok());
        let crop = Transform::RandomCrop {
            size: [6, 6],
            padding: 1,
        };
        assert!(crop.output_shape(&[1, 3, 4]).is_err());
        assert_eq!(crop.output_shape(&[1, 4, 4]).unwrap(), vec![1, 6, 6]);
        assert!(Transform::Cutout { size: 2 }.output_shape(&[5]).is_err());
    }

    #[test]
    fn normalize_uses_per_channel_statistics() {
        let (x, shape) = image();
        let t = Transform::Normalize {
            mean: vec![1.0, 2.0],
            std: vec![2.0, 4.0],
        };
        let y = t.apply(x, &shape, &[]);
        assert_eq!(y[0], -0.5);
        assert_eq!(y[11], 5.0);
        assert_eq!(y[12], 2.5);
        assert_eq!(y[23], 5.25);
    }

    #[test]
    fn random_crop_picks_a_window_of_the_padded_image() {
        let (x, shape) = image();
        let t = Transform::RandomCrop {
            size: [2, 2],
            padding: 1,
        };
        // u = 0 picks the top-left corner of the padded image: a zero border then pixel 0.
        assert_eq!(
            t.apply(x.clone(), &shape, &[0.0, 0.0])[..4],
            [0.0, 0.0, 0.0, 0.0]
        );
        // The last window (top 3, left 4 of the 5x6 padded image) ends with padding.
        let y = t.apply(x.clone(), &shape, &[0.999, 0.999]);
        assert_eq!(y[..4], [11.0, 0.0, 0.0, 0.0]);
        // The centre window without padding.
        let y = Transform::RandomCrop {
            size: [3, 4],
            padding: 0,
        }
        .apply(x.clone(), &shape, &[0.3, 0.7]);
        assert_eq!(y, x);
    }

    #[test]
    fn flip_mirrors_rows_when_the_draw_is_below_p() {
        let (x, shape) = image();
        let t = Transform::RandomHorizontalFlip { p: 0.5 };
        assert_eq!(t.apply(x.clone(), &shape, &[0.7]), x);
        let y = t.apply(x.clone(), &shape, &[0.2]);
        assert_eq!(y[..4], [3.0, 2.0, 1.0, 0.0]);
        assert_eq!(y[20..], [23.0, 22.0, 21.0, 20.0]);
    }

    #[test]
    fn cutout_zeroes_a_clipped_square_in_every_channel() {
        let x = vec![1.0f32; 2 * 6 * 6];
        let t = Transform::Cutout { size: 2 };
        let y = t.apply(x.clone(), &[2, 6, 6], &[0.5, 0.5]);
        assert_eq!(y.iter().filter(|&&v| v == 0.0).count(), 2 * 4);
        assert_eq!(y[2 * 6 + 2..2 * 6 + 4], [0.0, 0.0]);
        // At a corner only one pixel of the square lies inside the image.
        let y = t.apply(x, &[2, 6, 6], &[0.0, 0.0]);
        assert_eq!(y.iter().filter(|&&v| v == 0.0).count(), 2);
    }

    #[test]
    fn resized_crop_follows_torchvision_sampling() {
        // Full scale and unit ratio on a square image: the whole image, whatever the offsets.
        let u = [0.3f32; 40];
        assert_eq!(
            resized_crop_window(8, 8, [1.0, 1.0], [1.0, 1.0], &u),
            [0, 0, 8, 8]
        );
        // Quarter area, unit ratio: a 4x4 window whose offset comes from the last two draws.
        let mut u = [0.0f32; 40];
        u[2] = 0.99;
        u[3] = 0.5;
        assert_eq!(
            resized_crop_window(8, 8, [0.25, 0.25], [1.0, 1.0], &u),
            [4, 2, 4, 4]
        );
        // No window of 4x the area fits, so the fallback keeps the center of the 2x8 strip,
        // narrowed to the widest allowed ratio (2): 2x4 at left 2.
        assert_eq!(
            resized_crop_window(2, 8, [4.0, 4.0], [1.0, 2.0], &u),
            [0, 2, 2, 4]
        );
        let t = Transform::RandomResizedCrop {
            size: [3, 4],
            scale: [1.0, 1.0],
            ratio: [4.0 / 3.0, 4.0 / 3.0],
        };
        let (x, shape) = image();
        assert_eq!(t.apply(x.clone(), &shape, &[0.5; 40]), x);
    }
}
