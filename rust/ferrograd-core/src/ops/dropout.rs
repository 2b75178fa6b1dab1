//! Inverted dropout with masks from the global Philox generator (same seed, same mask).

use crate::{Result, Tensor};

/// Zeroes each element with probability `p` and scales survivors by 1/(1-p) while training;
/// the identity otherwise. p = 1 zeroes everything, as in PyTorch.
pub fn dropout(x: &Tensor, p: f32, training: bool) -> Result<Tensor> {
    super::expect_probability("dropout", "p", p)?;
    if !training || p == 0.0 {
        return Ok(x.clone());
    }
    let keep = if p < 1.0 { 1.0 / (1.0 - p) } else { 0.0 };
    if let crate::Device::Cuda(ordinal) = x.device() {
        let stream = crate::rng::reserve_for_device(x.numel())?;
        let mask = crate::cuda::random::dropout_mask(ordinal, x.numel(), stream, p, keep)?;
        let mask = Tensor::from_storage(
            crate::Storage::Cuda(mask),
            crate::Layout::contiguous(x.shape()),
        );
        return x.mul(&mask);
    }
    let u = crate::rng::with_global(|r| r.uniform(x.numel()));
    let mask: Vec<f32> = u
        .into_iter()
        .map(|v| if v >= p { keep } else { 0.0 })
        .collect();
    x.mul(&Tensor::from_vec(mask, x.shape())?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dropout_is_seeded_scaled_and_identity_in_eval() {
        let x = Tensor::ones(&[1000], crate::DType::F32, crate::Device::Cpu).unwrap();
        crate::rng::manual_seed(5);
        let a = dropout(&x, 0.3, true).unwrap().to_vec::<f32>().unwrap();
        crate::rng::manual_seed(5);
        let b = dropout(&x, 0.3, true).unwrap().to_vec::<f32>().unwrap();
        assert_eq!(a, b);
        let zeros = a.iter().filter(|&&v| v == 0.0).count();
        assert!((250..350).contains(&zeros), "{zeros}");
        assert!(a.iter().all(|&v| v == 0.0 || (v - 1.0 / 0.7).abs() < 1e-6));
        assert_eq!(
            dropout(&x, 0.3, false).unwrap().to_vec::<f32>().unwrap(),
            vec![1.0; 1000]
        );
        assert!(dropout(&x, 1.5, true).is_err());
    }
}
