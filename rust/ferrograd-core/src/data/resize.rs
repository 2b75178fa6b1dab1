//! Bilinear resizing of a window of a float `[C, H, W]` image, with PyTorch's
//! `align_corners=False` sampling (pixel centres at half-integers, no antialiasing).

/// Source index pairs and the weight of the second, for each of `out` output positions sampling
/// `len` input positions starting at `start`.
fn taps(start: usize, len: usize, out: usize) -> Vec<(usize, usize, f32)> {
    let scale = len as f32 / out as f32;
    (0..out)
        .map(|o| {
            let src = ((o as f32 + 0.5) * scale - 0.5).max(0.0);
            let i0 = (src as usize).min(len - 1);
            let i1 = (i0 + 1).min(len - 1);
            (start + i0, start + i1, src - i0 as f32)
        })
        .collect()
}

/// The `window` = `[top, left, height, width]` of `x` (shape `[c, h, w]`), resized to `size` =
/// `[height, width]`; the result has shape `[c, size[0], size[1]]`.
pub fn resize_bilinear(
    x: &[f32],
    shape: [usize; 3],
    window: [usize; 4],
    size: [usize; 2],
) -> Vec<f32> {
    let [c, h, w] = shape;
    let [top, left, wh, ww] = window;
    let rows = taps(top, wh, size[0]);
    let cols = taps(left, ww, size[1]);
    let mut out = Vec::with_capacity(c * size[0] * size[1]);
    for plane in x.chunks(h * w).take(c) {
        for &(y0, y1, fy) in &rows {
            let (r0, r1) = (&plane[y0 * w..(y0 + 1) * w], &plane[y1 * w..(y1 + 1) * w]);
            for &(x0, x1, fx) in &cols {
                let top = r0[x0] + (r0[x1] - r0[x0]) * fx;
                let bottom = r1[x0] + (r1[x1] - r1[x0]) * fx;
                out.push(top + (bottom - top) * fy);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_size_is_the_identity_and_windows_are_cut() {
        let x: Vec<f32> = (0..2 * 3 * 4).map(|v| v as f32).collect();
        assert_eq!(resize_bilinear(&x, [2, 3, 4], [0, 0, 3, 4], [3, 4]), x);
        let y = resize_bilinear(&x, [2, 3, 4], [1, 2, 2, 2], [2, 2]);
        assert_eq!(y, vec![6.0, 7.0, 10.0, 11.0, 18.0, 19.0, 22.0, 23.0]);
    }

    #[test]
    fn upsampling_matches_torch_half_pixel_interpolation() {
        // torch.nn.functional.interpolate([[0, 1]], size=4, mode="linear", align_corners=False)
        // gives [0, 0.25, 0.75, 1]: source positions -0.25 (clamped), 0.25, 0.75, 1.25 (clamped).
        let y = resize_bilinear(&[0.0, 1.0], [1, 1, 2], [0, 0, 1, 2], [1, 4]);
        assert_eq!(y, vec![0.0, 0.25, 0.75, 1.0]);
        // Halving averages neighbour pairs.
        let y = resize_bilinear(&[0.0, 2.0, 4.0, 6.0], [1, 1, 4], [0, 0, 1, 4], [1, 2]);
        assert_eq!(y, vec![1.0, 5.0]);
    }
}
