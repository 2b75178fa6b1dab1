//! What the minimal-perturbation attacks with a trade-off constant (Carlini-Wagner, EAD) share:
//! the per-sample binary search over the constant `c` and the closest misclassified point so far.

use super::batch::per_sample;
use super::pgd::BatchResult;
use crate::{DType, Device, Result, Tensor};

/// Per sample, a binary search over the trade-off constant: after a search step that found a
/// misclassified point the interval halves toward smaller `c`; after one that did not, `c` moves
/// up (times 10 until an upper bound is known).
pub(super) struct ConstantSearch {
    c: Vec<f32>,
    low: Vec<f32>,
    high: Vec<f32>,
}

impl ConstantSearch {
    pub fn new(initial: f32, batch: usize) -> ConstantSearch {
        ConstantSearch {
            c: vec![initial; batch],
            low: vec![0.0; batch],
            high: vec![f32::INFINITY; batch],
        }
    }

    /// The constants of the next search step.
    pub fn constants(&self) -> &[f32] {
        &self.c
    }

    /// Moves each sample's constant after a search step; `succeeded` is 1 where it found a
    /// misclassified point.
    pub fn update(&mut self, succeeded: &[f32]) {
        for (i, &ok) in succeeded.iter().enumerate() {
            if ok > 0.5 {
                self.high[i] = self.high[i].min(self.c[i]);
                self.c[i] = (self.low[i] + self.high[i]) / 2.0;
            } else {
                self.low[i] = self.low[i].max(self.c[i]);
                self.c[i] = match self.high[i].is_finite() {
                    true => (self.low[i] + self.high[i]) / 2.0,
                    false => self.c[i] * 10.0,
                };
            }
        }
    }
}

/// Per sample, the misclassified point with the smallest distance so far, on the device of the
/// points offered; until one exists, the prediction at the latest point.
pub(super) struct Smallest {
    adversarial: Tensor,
    distance: Tensor,
    /// 1 once the sample has a misclassified point.
    success: Tensor,
    predictions: Tensor,
}

impl Smallest {
    pub fn new(x: &Tensor, batch: usize) -> Result<Smallest> {
        let device = x.device();
        Ok(Smallest {
            adversarial: x.detach(),
            distance: Tensor::full(&[batch], f64::INFINITY, DType::F32, device)?,
            success: Tensor::zeros(&[batch], DType::F32, device)?,
            predictions: Tensor::zeros(&[batch], DType::F32, device)?,
        })
    }

    /// Offers the points `adv` at distances `dist`, predicted `pred`, misclassified
    /// where `wrong` is 1 (all `[B]` f32).
    pub fn offer(
        &mut self,
        adv: &Tensor,
        dist: &Tensor,
        pred: &Tensor,
        wrong: &Tensor,
    ) -> Result<()> {
        let closer = wrong.mul(&dist.lt(&self.distance)?.to_dtype(DType::F32)?)?;
        // A prediction is kept from a closer misclassified point, or from a correctly
        // classified one while nothing has succeeded yet.
        let unsolved_right = self
            .success
            .affine(-1.0, 1.0)?
            .mul(&wrong.affine(-1.0, 1.0)?)?;
        let take_prediction = closer.maximum(&unsolved_right)?.gt_scalar(0.5)?;
        let replace = closer.gt_scalar(0.5)?;
        self.predictions = take_prediction.where_cond(pred, &self.predictions)?;
        self.distance = replace.where_cond(dist, &self.distance)?;
        self.success = self.success.maximum(&closer)?;
        let rows = per_sample(&replace, adv.rank())?;
        self.adversarial = rows.where_cond(&adv.detach(), &self.adversarial)?;
        Ok(())
    }

    pub fn result(&self) -> Result<BatchResult> {
        let host = |t: &Tensor| t.to_device(Device::Cpu)?.to_vec::<f32>();
        Ok(BatchResult {
            adversarial: host(&self.adversarial.contiguous()?)?,
            success: host(&self.success)?.iter().map(|&v| v > 0.5).collect(),
            predictions: host(&self.predictions)?.iter().map(|&v| v as i64).collect(),
        })
    }
}
