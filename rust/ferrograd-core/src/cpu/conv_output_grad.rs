//! Where a convolution's backward pass reads the gradient of its output: the gradient itself, or
//! the gradient of the ops fused after it (a ReLU; a ReLU and a max pool) passed back through
//! them one image or one channel plane at a time, while the plane is in cache. The fused ops
//! then need no full-size gradient of the convolution's output, nor a pass of their own over it.

use rayon::prelude::*;

use super::norm::{blocked_sums, sum};
use super::relu::{relu_grad, through_relu};

/// The ops fused after a convolution, with what their backward passes read.
#[derive(Clone, Copy)]
pub enum Fused<'a> {
    /// None: the convolution's own output.
    Nothing,
    /// A ReLU, whose output `y` [N, C_out, plane] is the op's output.
    Relu { y: &'a [f32] },
    /// A ReLU and a max pool, whose output `pooled` [N, C_out, pool_plane] took each value from
    /// in-plane position `argmax` of the ReLU's output. `disjoint`: no two windows share an
    /// input position (stride at least the kernel, no dilation).
    ReluMaxPool {
        pooled: &'a [f32],
        argmax: &'a [u32],
        pool_plane: usize,
        disjoint: bool,
    },
}

/// The gradient reaching a convolution's output [N, C_out, plane]: `dy`, the gradient of the
/// op's output, passed back through the ops fused `after` the convolution.
#[derive(Clone, Copy)]
pub struct OutputGrad<'a> {
    pub dy: &'a [f32],
    pub after: Fused<'a>,
}

impl<'a> OutputGrad<'a> {
    /// `dy` as the gradient of the convolution's own output.
    pub fn direct(dy: &'a [f32]) -> OutputGrad<'a> {
        OutputGrad {
            dy,
            after: Fused::Nothing,
        }
    }
}

impl OutputGrad<'_> {
    /// Writes the gradient of channel plane `index` (image * C_out + channel) into `dst` (one
    /// plane long).
    pub fn plane_into(&self, index: usize, dst: &mut [f32]) {
        let plane = dst.len();
        let at = index * plane..(index + 1) * plane;
        let dy = self.dy;
        match self.after {
            Fused::Nothing => dst.copy_from_slice(&dy[at]),
            Fused::Relu { y } => through_relu(dst, &dy[at.clone()], &y[at]),
            Fused::ReluMaxPool {
                pooled,
                argmax,
                pool_plane,
                disjoint,
            } => {
                let at = index * pool_plane..(index + 1) * pool_plane;
                let (dy, pooled, argmax) = (&dy[at.clone()], &pooled[at.clone()], &argmax[at]);
                // The max pool's backward (each window's gradient added at its winner, onto
                // zeros), then the ReLU's at the winners: a pooled value is the ReLU's output
                // there. Elsewhere the gradient is zero, which the ReLU passes as zero.
                dst.fill(0.0);
                if disjoint {
                    // Each position wins at most one window: one pass, the ReLU's mask a select.
                    for ((&g, &v), &i) in dy.iter().zip(pooled).zip(argmax) {
                        if let Some(slot) = dst.get_mut(i as usize) {
                            *slot = relu_grad(0.0 + g, v);
                        }
                    }
                    return;
                }
                for (&g, &i) in dy.iter().zip(argmax) {
                    if let Some(slot) = dst.get_mut(i as usize) {
                        *slot += g;
                    }
                }
                // A position that wins several windows is masked once per window, which gives
                // the same value as masking the sum once.
                for (&v, &i) in pooled.iter().zip(argmax) {
                    if let Some(slot) = dst.get_mut(i as usize) {
                        *slot = relu_grad(*slot, v);
                    }
                }
            }
        }
    }

    /// The gradient of image `n` ([C_out, plane], `channels` planes): borrowed when it is
    /// stored as is, else written into `scratch`.
    pub fn image<'s>(
        &'s self,
        n: usize,
        channels: usize,
        plane: usize,
        scratch: &'s mut Vec<f32>,
    ) -> &'s [f32] {
        let image = n * channels * plane..(n + 1) * channels * plane;
        let dy = self.dy;
        match self.after {
            Fused::Nothing => &dy[image],
            Fused::Relu { y } => {
                scratch.resize(image.len(), 0.0);
                through_relu(scratch, &dy[image.clone()], &y[image]);
                scratch
            }
            Fused::ReluMaxPool { .. } => {
                scratch.resize(image.len(), 0.0);
                for (c, dst) in scratch.chunks_mut(plane.max(1)).enumerate() {
                    self.plane_into(n * channels + c, dst);
                }
                scratch
            }
        }
    }

    /// The bias gradient: the gradient summed over images and positions per channel, for
    /// `images` images. Channels run in parallel, images in order, so the sums do not depend on
    /// the thread count.
    pub fn channel_sums(&self, images: usize, channels: usize, plane: usize) -> Vec<f32> {
        (0..channels)
            .into_par_iter()
            .map_init(Vec::new, |scratch, c| {
                let total: f64 = (0..images)
                    .map(|n| {
                        let index = n * channels + c;
                        let at = index * plane..(index + 1) * plane;
                        match self.after {
                            Fused::Nothing => sum(&self.dy[at]),
                            Fused::Relu { y } => {
                                blocked_sums(&self.dy[at.clone()], &y[at], |g, v| {
                                    (relu_grad(g, v), 0.0)
                                })
                                .0
                            }
                            Fused::ReluMaxPool { .. } => {
                                scratch.resize(plane, 0.0);
                                self.plane_into(index, scratch);
                                sum(scratch)
                            }
                        }
                    })
                    .sum();
                total as f32
            })
            .collect()
    }
}
