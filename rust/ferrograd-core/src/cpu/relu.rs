//! A ReLU fused into the op before it (a convolution or a linear layer): the forward clamp on the
//! op's own output, and the gradient the composed ReLU would pass back, from that output. The
//! expressions are the ReLU op's, so fused and composed ops agree bit for bit.

use rayon::prelude::*;

use super::PAR_THRESHOLD;

/// The gradient the composed ReLU passes back, `g * step(x)`, from the fused output `y` (`y <= 0`
/// exactly where the ReLU's input `x` was, and NaN where it was NaN, whose gradient passes as in
/// PyTorch). `g * 0.0` rather than `0.0` keeps the product's result for NaN and infinite
/// gradients (and the sign of zero); as a select it vectorises, where a multiply by a converted
/// bool did not.
#[inline(always)]
pub(crate) fn relu_grad(g: f32, y: f32) -> f32 {
    if y <= 0.0 {
        g * 0.0
    } else {
        g
    }
}

super::simd::wide_fn! {
    /// `dst = relu_grad(dy, y)` elementwise (slices of one length).
    pub(crate) fn through_relu(dst: &mut [f32], dy: &[f32], y: &[f32]) {
        let n = dst.len();
        let (dy, y) = (&dy[..n], &y[..n]);
        for i in 0..n {
            dst[i] = relu_grad(dy[i], y[i]);
        }
    }
}

/// The ReLU in PyTorch's form: NaN and -0 pass through (`f32::max` would map NaN to 0). The
/// ReLU op and the fused ones all use it, so their values agree bit for bit.
#[inline(always)]
pub(crate) fn relu(x: f32) -> f32 {
    if x < 0.0 {
        0.0
    } else {
        x
    }
}

/// `relu` over `values`.
pub(crate) fn relu_in_place(values: &mut [f32]) {
    values.iter_mut().for_each(|v| *v = relu(*v));
}

/// `relu_in_place` split across threads for long buffers.
pub(crate) fn par_relu_in_place(values: &mut [f32]) {
    if values.len() < PAR_THRESHOLD {
        relu_in_place(values);
    } else {
        values
            .par_chunks_mut(PAR_THRESHOLD / 4)
            .for_each(relu_in_place);
    }
}
