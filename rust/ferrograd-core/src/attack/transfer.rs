//! The gradient transfer attacks take, for adversarial examples that also fool other models:
//! - input diversity (DI-FGSM, Xie et al. 2019): each forward pass sees, with probability `p`, the
//!   image shrunk by nearest-neighbour resampling to a random side in `[rate * H, H)` and padded
//!   back to `H` with zeros at a random offset (a rate above 1 enlarges the canvas instead);
//! - scale invariance (SI-NI-FGSM, Lin et al. 2020): the gradient averaged over copies
//!   `x / 2^i`, i < m;
//! - translation invariance (TI-FGSM, Dong et al. 2019): the gradient smoothed per channel by a
//!   normalised Gaussian, linear (tent) or uniform kernel (a depthwise convolution);
//! - variance tuning (VMI-/VNI-FGSM, Wang and He 2021): each step's gradient plus the previous
//!   step's variance, the mean gradient over `N` points drawn uniformly within `beta * eps` of
//!   the iterate minus the gradient at the iterate.
//!
//! Each is differentiated through: the input gradient is that of the objective at the transformed
//! input with respect to the untransformed one.

use super::batch::{image_shape, Goal};
use super::iterate::objective_and_grad_through;
use super::objective::AttackLoss;
use crate::rng::RngState;
use crate::{nn::Module, Result, Tensor};

/// DI-FGSM's random resize and pad.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct InputDiversity {
    /// The resized side's bound relative to the image's (0.9: sides in [0.9 H, H)).
    pub resize_rate: f32,
    /// The chance that a pass sees the transformed image rather than the image itself.
    pub probability: f32,
}

/// The profile of TI's smoothing kernel along each axis (the kernel is its outer product with
/// itself, normalised to sum 1).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum KernelProfile {
    /// A Gaussian density spanning this many standard deviations each way.
    Gaussian { nsig: f32 },
    /// A tent: `1 - |2 t / (side + 1)|` at the offsets `t` from the centre.
    Linear,
    /// Constant: a box filter.
    Uniform,
}

/// TI's smoothing kernel: its profile and side (odd).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Smoothing {
    pub profile: KernelProfile,
    pub side: usize,
}

/// What a transfer attack does to its gradients (all off by default).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Transfer {
    pub diversity: Option<InputDiversity>,
    /// Gradients averaged over `x / 2^i` for i below this (1: the input only).
    pub scales: usize,
    /// TI's kernel.
    pub smoothing: Option<Smoothing>,
    /// Variance tuning: neighbours per step and their radius relative to ε.
    pub variance: Option<(usize, f32)>,
}

impl Default for Transfer {
    fn default() -> Transfer {
        Transfer {
            diversity: None,
            scales: 1,
            smoothing: None,
            variance: None,
        }
    }
}

impl Transfer {
    /// Whether the steps draw random numbers on the host or carry state between steps (then they
    /// run eagerly rather than as a replayed CUDA graph).
    pub(super) fn needs_eager_steps(&self) -> bool {
        self.diversity.is_some() || self.variance.is_some()
    }
}

/// The nearest-neighbour source index of each of `n_out` positions resampled from `n_in`
/// (PyTorch's 'nearest': `floor(i * n_in / n_out)`).
fn nearest_sources(n_in: usize, n_out: usize) -> Vec<i64> {
    let scale = n_in as f32 / n_out as f32;
    (0..n_out)
        .map(|i| ((i as f32 * scale) as usize).min(n_in - 1) as i64)
        .collect()
}

/// DI's transform of a batch of images `[B, C, H, W]` (one draw for the whole batch).
fn diversify(x: &Tensor, di: InputDiversity, rng: &mut RngState) -> Result<Tensor> {
    let [_, _, h, w] = image_shape("DI-FGSM", x.shape())?;
    let draws = rng.uniform(4);
    if draws[0] >= di.probability {
        return Ok(x.clone());
    }
    let side = h.max(w);
    let scaled = (side as f32 * di.resize_rate) as usize;
    let (low, canvas) = (scaled.min(side), scaled.max(side));
    if low == canvas || low == 0 {
        return Ok(x.clone());
    }
    let pick = |u: f32, n: usize| ((u * n as f32) as usize).min(n - 1);
    let resized = low + pick(draws[1], canvas - low);
    let index = |n_in: usize| -> Result<Tensor> {
        Tensor::from_vec(nearest_sources(n_in, resized), &[resized])?.to_device(x.device())
    };
    let small = x.index_select(2, &index(h)?)?.index_select(3, &index(w)?)?;
    let room = canvas - resized;
    let (top, left) = (pick(draws[2], room + 1), pick(draws[3], room + 1));
    small.pad(&[(left, room - left), (top, room - top)], 0.0)
}

/// TI's kernel `[C, 1, k, k]`: the outer product of the profile sampled at `k` points, normalised
/// to sum 1, once per channel. Gaussian samples are evenly spread over `[-nsig, nsig]`; the
/// linear profile's are at offsets `-(k-1)/2 ..= (k-1)/2` from the centre.
fn smoothing_kernel(channels: usize, smoothing: Smoothing) -> Result<Tensor> {
    let side = smoothing.side;
    let centred = |i: usize| i as f64 - (side as f64 - 1.0) / 2.0;
    let profile: Vec<f64> = (0..side)
        .map(|i| match smoothing.profile {
            KernelProfile::Gaussian { nsig } => {
                let z = match side {
                    1 => 0.0,
                    _ => centred(i) * 2.0 * nsig as f64 / (side - 1) as f64,
                };
                (-0.5 * z * z).exp()
            }
            KernelProfile::Linear => 1.0 - (centred(i) * 2.0 / (side as f64 + 1.0)).abs(),
            KernelProfile::Uniform => 1.0,
        })
        .collect();
    let total: f64 = profile.iter().sum::<f64>().powi(2);
    let plane: Vec<f32> = profile
        .iter()
        .flat_map(|a| profile.iter().map(move |b| (a * b / total) as f32))
        .collect();
    Tensor::from_vec(plane.repeat(channels), &[channels, 1, side, side])
}

/// What an attack's gradient is taken of: the objective toward the goal, averaged over `eot`
/// passes, with the transfer transforms.
pub(super) struct GradientOf<'a> {
    pub goal: &'a Goal,
    pub loss: AttackLoss,
    pub eot: usize,
    pub transfer: &'a Transfer,
}

/// The gradient a transfer attack steps along at `x`: averaged over the scale copies and EOT
/// passes (each pass through a fresh DI draw), then smoothed by TI's kernel.
pub(super) fn transfer_gradient(
    model: &dyn Module,
    x: &Tensor,
    of: &GradientOf,
    rng: &mut RngState,
) -> Result<Tensor> {
    let transfer = of.transfer;
    let copies = transfer.scales.max(1);
    // The input gradient through scale copy `i` (`x / 2^i`, then DI when asked).
    let mut copy_gradient = |i: usize| -> Result<Tensor> {
        let shrink = 0.5f32.powi(i as i32);
        let mut through = |t: &Tensor| -> Result<Tensor> {
            let t = match i {
                0 => t.clone(),
                _ => t.mul_scalar(shrink)?,
            };
            match transfer.diversity {
                Some(di) => diversify(&t, di, rng),
                None => Ok(t),
            }
        };
        let (_, grad, _) =
            objective_and_grad_through(model, x, of.goal, of.loss, of.eot, &mut through)?;
        Ok(grad)
    };
    let mut grad = copy_gradient(0)?;
    for i in 1..copies {
        grad = grad.add(&copy_gradient(i)?)?;
    }
    if copies > 1 {
        grad = grad.mul_scalar(1.0 / copies as f32)?;
    }
    if let Some(smoothing) = transfer.smoothing {
        let side = smoothing.side;
        let [_, channels, _, _] = image_shape("TI-FGSM", grad.shape())?;
        let kernel = smoothing_kernel(channels, smoothing)?.to_device(grad.device())?;
        grad = grad.conv2d(
            &kernel,
            None,
            (1, 1),
            (side / 2, side / 2),
            (1, 1),
            channels,
        )?;
    }
    Ok(grad)
}

/// Variance tuning's next variance: the mean `transfer_gradient` over `neighbours` points drawn
/// uniformly within `radius` of `adv` (each coordinate independently), minus `grad`, the gradient
/// at the step's own point.
pub(super) fn gradient_variance(
    model: &dyn Module,
    adv: &Tensor,
    grad: &Tensor,
    of: &GradientOf,
    (neighbours, radius): (usize, f32),
    rng: &mut RngState,
) -> Result<Tensor> {
    let mut total = grad.zeros_like()?;
    for _ in 0..neighbours {
        let offsets: Vec<f32> = rng
            .uniform(adv.numel())
            .into_iter()
            .map(|u| radius * (2.0 * u - 1.0))
            .collect();
        let offsets = Tensor::from_vec(offsets, adv.shape())?.to_device(adv.device())?;
        let near = adv.add(&offsets)?;
        total = total.add(&transfer_gradient(model, &near, of, rng)?)?;
    }
    total.mul_scalar(1.0 / neighbours.max(1) as f32)?.sub(grad)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kernel(profile: KernelProfile, side: usize) -> Vec<f32> {
        smoothing_kernel(2, Smoothing { profile, side })
            .unwrap()
            .to_vec::<f32>()
            .unwrap()
    }

    #[test]
    fn the_smoothing_kernels_are_normalised_profiles() {
        let k = kernel(KernelProfile::Gaussian { nsig: 2.0 }, 5);
        assert_eq!(k.len(), 2 * 25);
        assert!((k[..25].iter().sum::<f32>() - 1.0).abs() < 1e-6);
        assert_eq!(k[..25], k[25..]);
        // Centre over corner: exp(0) / exp(-(2² + 2²) / 2).
        assert!((k[12] / k[0] - 4.0f32.exp()).abs() < 1e-3 * 4.0f32.exp());
        // The tent for side 3: 1 - |t| / 2 at t = -1, 0, 1, so 0.5, 1, 0.5 (sum 2) per axis.
        let tent = kernel(KernelProfile::Linear, 3);
        let expected = [0.25f32, 0.5, 0.25, 0.5, 1.0, 0.5, 0.25, 0.5, 0.25].map(|v| v / 4.0);
        assert!(tent[..9]
            .iter()
            .zip(expected)
            .all(|(a, e)| (a - e).abs() < 1e-7));
        let flat = kernel(KernelProfile::Uniform, 3);
        assert!(flat.iter().all(|v| (v - 1.0 / 9.0).abs() < 1e-7));
    }

    /// Every draw is the image shrunk by nearest-neighbour resampling to a side in [7, 10) and
    /// placed on a zero canvas of the original size; with probability 0 it is the image itself.
    #[test]
    fn input_diversity_shrinks_and_pads() {
        let (h, w) = (10usize, 10usize);
        let values: Vec<f32> = (0..h * w).map(|v| v as f32 + 1.0).collect();
        let x = Tensor::from_vec(values.clone(), &[1, 1, h, w]).unwrap();
        let mut rng = RngState { seed: 3, offset: 0 };
        let mut sides = std::collections::BTreeSet::new();
        for _ in 0..40 {
            let di = InputDiversity {
                resize_rate: 0.7,
                probability: 1.0,
            };
            let out = diversify(&x, di, &mut rng)
                .unwrap()
                .to_vec::<f32>()
                .unwrap();
            assert_eq!(out.len(), h * w);
            let kept: Vec<(usize, usize)> = (0..h * w)
                .filter(|&i| out[i] != 0.0)
                .map(|i| (i / w, i % w))
                .collect();
            let (top, left) = kept[0];
            let side = kept.iter().map(|p| p.1).max().unwrap() - left + 1;
            assert!((7..10).contains(&side), "{side}");
            assert_eq!(kept.len(), side * side);
            let src = nearest_sources(h, side);
            for &(r, c) in &kept {
                let expected = values[src[r - top] as usize * w + src[c - left] as usize];
                assert_eq!(out[r * w + c], expected);
            }
            sides.insert(side);
        }
        assert_eq!(sides.len(), 3, "every side in [7, 10) is drawn: {sides:?}");
        let off = InputDiversity {
            resize_rate: 0.7,
            probability: 0.0,
        };
        let same = diversify(&x, off, &mut rng)
            .unwrap()
            .to_vec::<f32>()
            .unwrap();
        assert_eq!(same, values);
    }

    #[test]
    fn nearest_sources_follow_pytorch() {
        assert_eq!(nearest_sources(4, 2), vec![0, 2]);
        assert_eq!(nearest_sources(3, 5), vec![0, 0, 1, 1, 2]);
    }
}
