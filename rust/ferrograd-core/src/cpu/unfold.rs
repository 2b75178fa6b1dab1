//! Sliding windows as columns `[C * kh * kw, N * oh * ow]` (im2col over the whole batch) and the
//! adjoint, the host twins of `cuda/kernels/unfold.cu`: `F.unfold` on the CPU, and the reference
//! the composed CUDA convolution and pooling are tested against.

use rayon::prelude::*;

use crate::ops::unfold::WindowGeometry;

/// Calls `f(position, pixel)` for every output position (`oy * ow + ox`) whose tap (ki, kj)
/// reads a pixel (`iy * w + ix`) inside the image.
fn for_each_tap(g: &WindowGeometry, (ki, kj): (usize, usize), mut f: impl FnMut(usize, usize)) {
    let [_, _, h, w, _, _, sh, sw, ph, pw, dh, dw, oh, ow] = g.dims();
    for oy in 0..oh {
        let iy = (oy * sh + ki * dh) as isize - ph as isize;
        if iy < 0 || iy >= h as isize {
            continue;
        }
        for ox in 0..ow {
            let ix = (ox * sw + kj * dw) as isize - pw as isize;
            if ix >= 0 && ix < w as isize {
                f(oy * ow + ox, iy as usize * w + ix as usize);
            }
        }
    }
}

/// Columns of contiguous NCHW `x`; out-of-image taps read `pad_value`.
pub fn im2col(x: &[f32], g: &WindowGeometry, pad_value: f32) -> Vec<f32> {
    let [n, c, h, w, kh, kw, .., oh, ow] = g.dims();
    let l = oh * ow;
    let mut cols = vec![pad_value; c * kh * kw * n * l];
    cols.par_chunks_mut((n * l).max(1))
        .enumerate()
        .for_each(|(row, out)| {
            let (ch, tap) = (row / (kh * kw), ((row / kw) % kh, row % kw));
            for img in 0..n {
                let plane = &x[(img * c + ch) * h * w..][..h * w];
                let dst = &mut out[img * l..][..l];
                for_each_tap(g, tap, |pos, pixel| dst[pos] = plane[pixel]);
            }
        });
    cols
}

/// The NCHW image gradient from its columns' gradient: each pixel sums the entries that read it.
pub fn col2im(cols: &[f32], g: &WindowGeometry) -> Vec<f32> {
    let [n, c, h, w, kh, kw, .., oh, ow] = g.dims();
    let l = oh * ow;
    let mut dx = vec![0f32; n * c * h * w];
    dx.par_chunks_mut((h * w).max(1))
        .enumerate()
        .for_each(|(plane, out)| {
            let (img, ch) = (plane / c, plane % c);
            for ki in 0..kh {
                for kj in 0..kw {
                    let row = (ch * kh + ki) * kw + kj;
                    let src = &cols[(row * n + img) * l..][..l];
                    for_each_tap(g, (ki, kj), |pos, pixel| out[pixel] += src[pos]);
                }
            }
        });
    dx
}
