//! Running averages of a model's weights (SWA and EMA, `fg.optim.swa_utils.AveragedModel`)
//! folded in after each optimizer step of the training loop, with PyTorch's formulas and rounding
//! (`arith`).

use super::arith::{lerp, single};
use crate::cpu::simd::wide_fn;
use crate::{DType, Device, Error, Result, Storage, Tensor};

/// How an average folds in the model's current tensor `x` after `n` earlier updates.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum AverageRule {
    /// `avg + (x - avg) / (n + 1)` (PyTorch's `get_swa_avg_fn`, AveragedModel's default).
    Equal,
    /// `avg.lerp(x, 1 / (n + 1))` (`get_swa_multi_avg_fn`).
    EqualLerp,
    /// `avg.lerp(x, 1 - decay)` (`get_ema_multi_avg_fn`).
    Exponential { decay: f64 },
    /// `avg * decay + x * (1 - decay)` (`get_ema_avg_fn`).
    ExponentialProducts { decay: f64 },
}

/// An average's tensors, each beside the model tensor it follows, its rule, and its update count
/// (`counter`, a one-element integer tensor such as AveragedModel's `n_averaged`, read once here
/// and advanced by [`finish`](WeightAverage::finish) when the epoch ends, early or not). The first
/// update copies.
#[derive(Clone, Debug)]
pub struct WeightAverage {
    pairs: Vec<(Tensor, Tensor)>,
    rule: AverageRule,
    count: u64,
    counter: Tensor,
}

impl WeightAverage {
    /// Checks that each average has its model tensor's shape and device.
    pub fn new(pairs: Vec<(Tensor, Tensor)>, rule: AverageRule, counter: Tensor) -> Result<Self> {
        let count = match counter
            .to_device(Device::Cpu)?
            .to_dtype(DType::I64)?
            .to_vec::<i64>()?[..]
        {
            [n] if n >= 0 => n as u64,
            _ => {
                return Err(Error::arg(
                    "fit",
                    "averaged model",
                    "a count of updates (one non-negative integer)",
                    format!("{} values", counter.numel()),
                ))
            }
        };
        for (average, model) in &pairs {
            if average.shape() != model.shape() || average.device() != model.device() {
                return Err(Error::arg(
                    "fit",
                    "averaged model",
                    "tensors of the model's shapes on the model's device",
                    format!(
                        "{:?} on {:?} for {:?} on {:?}",
                        average.shape(),
                        average.device(),
                        model.shape(),
                        model.device()
                    ),
                ));
            }
        }
        Ok(WeightAverage {
            pairs,
            rule,
            count,
            counter,
        })
    }

    /// Folds in the model's tensors after the epoch's `step`-th optimizer step (0-based).
    pub fn update(&self, step: usize) -> Result<()> {
        let n = self.count + step as u64;
        for (average, model) in &self.pairs {
            if n == 0 {
                average.assign(model)?;
            } else if !fold_in_place(average, model, self.rule, n)? {
                average.assign(&folded(&average.detach(), &model.detach(), self.rule, n)?)?;
            }
        }
        Ok(())
    }

    /// Advances the counter by the `steps` updates of the epoch.
    pub fn finish(&self, steps: usize) -> Result<()> {
        let total = Tensor::full(
            &[],
            (self.count + steps as u64) as f64,
            DType::I64,
            Device::Cpu,
        )?;
        self.counter.assign(&total.reshape(self.counter.shape())?)
    }
}

/// The float32 constants of a rule at `n` earlier updates: the divisor (n + 1) or the lerp
/// weight, and the decay for the product form.
fn constants(rule: AverageRule, n: u64) -> (f32, f32) {
    let next = (n + 1) as f32;
    match rule {
        AverageRule::Equal => (next, 0.0),
        // PyTorch's `1 / (n + 1)` divides in float32 (a tensor's reciprocal).
        AverageRule::EqualLerp => (1.0 / next, 0.0),
        AverageRule::Exponential { decay } => (single(1.0 - decay), 0.0),
        AverageRule::ExponentialProducts { decay } => (single(decay), single(1.0 - decay)),
    }
}

wide_fn! {
    /// One rule over a float32 average and its model tensor.
    fn fold_f32(average: &mut [f32], model: &[f32], rule: AverageRule, k: (f32, f32)) {
        let pairs = average.iter_mut().zip(model);
        match rule {
            AverageRule::Equal => pairs.for_each(|(a, &x)| *a += (x - *a) / k.0),
            AverageRule::EqualLerp | AverageRule::Exponential { .. } => {
                pairs.for_each(|(a, &x)| *a = lerp(*a, x, k.0))
            }
            AverageRule::ExponentialProducts { .. } => {
                pairs.for_each(|(a, &x)| *a = *a * k.0 + x * k.1)
            }
        }
    }
}

/// The update in place for float32 tensors on the CPU, dense at offset 0; false for others.
fn fold_in_place(average: &Tensor, model: &Tensor, rule: AverageRule, n: u64) -> Result<bool> {
    let dense = |t: &Tensor| {
        t.dtype() == DType::F32
            && t.device() == Device::Cpu
            && t.layout().is_contiguous()
            && t.layout().offset() == 0
    };
    if !dense(average) || !dense(model) || average.same_storage(model) {
        return Ok(false);
    }
    let source = model.storage()?;
    let mut target = average.storage_mut()?;
    let len = average.numel();
    let x = source.f32s("weight average")?;
    let Storage::Cpu(cpu) = &mut *target else {
        return Ok(false);
    };
    let a: Option<&mut [f32]> = crate::storage::Element::slice_mut(cpu);
    let (Some(a), Some(x)) = (a.and_then(|a| a.get_mut(..len)), x.get(..len)) else {
        return Ok(false);
    };
    fold_f32(a, x, rule, constants(rule, n));
    Ok(true)
}

/// The update as tensor ops in float32 (GPU tensors, integer buffers such as a batch count,
/// strided views); `assign` casts the result back, truncating for integers as PyTorch's copy does.
fn folded(average: &Tensor, model: &Tensor, rule: AverageRule, n: u64) -> Result<Tensor> {
    let a = average.to_dtype(DType::F32)?;
    let x = model.to_dtype(DType::F32)?;
    let (k0, k1) = constants(rule, n);
    match rule {
        AverageRule::Equal => {
            let divisor = Tensor::full(&[], k0 as f64, DType::F32, a.device())?;
            a.add(&x.sub(&a)?.div(&divisor)?)
        }
        AverageRule::EqualLerp | AverageRule::Exponential { .. } => {
            a.add(&x.sub(&a)?.mul_scalar(k0)?)
        }
        AverageRule::ExponentialProducts { .. } => a.mul_scalar(k0)?.add(&x.mul_scalar(k1)?),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tensor(values: &[f32]) -> Tensor {
        Tensor::from_vec(values.to_vec(), &[values.len()]).unwrap()
    }

    fn count(n: f64) -> Tensor {
        Tensor::full(&[], n, DType::I64, Device::Cpu).unwrap()
    }

    #[test]
    fn the_first_update_copies_and_the_equal_rule_averages() {
        let average = tensor(&[0.0, 0.0]);
        let model = tensor(&[2.0, 4.0]);
        let counter = count(0.0);
        let pairs = vec![(average.clone(), model.clone())];
        let avg = WeightAverage::new(pairs, AverageRule::Equal, counter.clone()).unwrap();
        avg.update(0).unwrap();
        assert_eq!(average.to_vec::<f32>().unwrap(), vec![2.0, 4.0]);
        model.assign(&tensor(&[4.0, 0.0])).unwrap();
        avg.update(1).unwrap();
        assert_eq!(average.to_vec::<f32>().unwrap(), vec![3.0, 2.0]);
        avg.finish(2).unwrap();
        assert_eq!(counter.to_vec::<i64>().unwrap(), vec![2]);
    }

    #[test]
    fn strided_and_dense_tensors_agree() {
        let rule = AverageRule::ExponentialProducts { decay: 0.9 };
        let dense = tensor(&[1.0, 2.0, 3.0]);
        let model = tensor(&[2.0, -1.0, 0.5]);
        fold_in_place(&dense, &model, rule, 3).unwrap();
        let composed = folded(&tensor(&[1.0, 2.0, 3.0]), &model, rule, 3).unwrap();
        assert_eq!(
            dense.to_vec::<f32>().unwrap(),
            composed.to_vec::<f32>().unwrap()
        );
    }

    #[test]
    fn mismatched_shapes_are_refused() {
        let err = WeightAverage::new(
            vec![(tensor(&[0.0]), tensor(&[1.0, 2.0]))],
            AverageRule::Equal,
            count(0.0),
        )
        .unwrap_err();
        assert!(err.to_string().contains("averaged model"), "{err}");
    }
}
