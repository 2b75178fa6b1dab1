//! The patch-wise step of PI-FGSM (Gao et al., 2020; torchattacks' PIFGSM and PIFGSM++), a
//! transfer attack. Steps are amplified (`alpha` is β times ε / steps, so they overshoot the
//! ε-box), the amplified steps accumulate, and the part of the accumulation beyond ε ("cut
//! noise") is spread onto each pixel's neighbours: the step adds `gamma * sign(ring(cut))`, `ring`
//! the depthwise 3×3 mean over the eight neighbours (centre excluded). The projection then clips
//! back to the ε-box, so what one pixel cannot use its neighbours take, growing patches.

use super::batch::image_shape;
use super::iterate::unit_direction;
use super::pgd::Norm;
use crate::{Result, Tensor};

/// PI-FGSM's options: `gamma` is `project_factor * alpha`; PI-FGSM adds the projection to the
/// accumulated steps as well, PI-FGSM++ does not.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Patchwise {
    pub project_factor: f32,
    pub accumulate_projection: bool,
}

/// The ring kernel `[C, 1, 3, 3]`: 1/8 on the eight neighbours, 0 at the centre.
fn ring_kernel(channels: usize) -> Result<Tensor> {
    let mut plane = [1.0f32 / 8.0; 9];
    plane[4] = 0.0;
    Tensor::from_vec(plane.repeat(channels), &[channels, 1, 3, 3])
}

/// The step from `grad` (before projection onto the ball): the amplified signed step plus the
/// spread cut noise; `accumulated` carries the sum of steps from one call to the next.
pub(super) fn patchwise_step(
    grad: &Tensor,
    accumulated: &mut Option<Tensor>,
    (alpha, eps): (f32, f32),
    patchwise: Patchwise,
) -> Result<Tensor> {
    let [_, channels, _, _] = image_shape("PI-FGSM", grad.shape())?;
    let step = unit_direction(grad, Norm::Linf)?.mul_scalar(alpha)?;
    let total = match accumulated.take() {
        Some(a) => a.add(&step)?,
        None => step.clone(),
    };
    let cut = total
        .abs()?
        .add_scalar(-eps)?
        .clamp(0.0, 1e4)?
        .mul(&total.sign()?)?;
    let kernel = ring_kernel(channels)?.to_device(grad.device())?;
    let spread = cut.conv2d(&kernel, None, (1, 1), (1, 1), (1, 1), channels)?;
    let projection = spread
        .sign()?
        .mul_scalar(alpha * patchwise.project_factor)?;
    *accumulated = Some(match patchwise.accumulate_projection {
        true => total.add(&projection)?,
        false => total,
    });
    step.add(&projection)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One pixel's accumulated steps pass ε: its neighbours get a projection step toward its
    /// sign; the pixel itself gets none (the ring excludes the centre).
    #[test]
    fn the_cut_noise_spreads_to_the_neighbours() {
        let mut grad = vec![0.0f32; 9];
        grad[4] = 1.0;
        let grad = Tensor::from_vec(grad, &[1, 1, 3, 3]).unwrap();
        let options = Patchwise {
            project_factor: 1.0,
            accumulate_projection: true,
        };
        let mut accumulated = None;
        // alpha 0.3, eps 0.5: the first step (0.3) is within ε, nothing spreads.
        let first = patchwise_step(&grad, &mut accumulated, (0.3, 0.5), options).unwrap();
        let first = first.to_vec::<f32>().unwrap();
        assert_eq!(first, [0.0, 0.0, 0.0, 0.0, 0.3, 0.0, 0.0, 0.0, 0.0]);
        // The second brings the centre to 0.6: 0.1 beyond ε, spread to the eight neighbours.
        let second = patchwise_step(&grad, &mut accumulated, (0.3, 0.5), options).unwrap();
        let second = second.to_vec::<f32>().unwrap();
        assert_eq!(second, [0.3, 0.3, 0.3, 0.3, 0.3, 0.3, 0.3, 0.3, 0.3]);
        let total = accumulated.unwrap().to_vec::<f32>().unwrap();
        assert!((total[4] - 0.6).abs() < 1e-6 && (total[0] - 0.3).abs() < 1e-6);
    }
}
