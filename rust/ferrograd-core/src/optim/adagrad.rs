//! Adagrad (torch.optim.Adagrad): each coordinate's step is the learning rate over the root of
//! its running sum of squared gradients.

use super::arith::{addcdiv, decayed_grad, single};
use crate::cpu::simd::wide_fn;
use crate::cuda::optim::ListItem;
use crate::{Error, Result, Tensor};

/// Adagrad options (torch.optim.Adagrad), in double precision as the user gave them.
#[derive(Clone, Copy, Debug)]
pub struct AdagradConfig {
    pub lr: f64,
    pub lr_decay: f64,
    pub weight_decay: f64,
    pub initial_accumulator_value: f64,
    pub eps: f64,
    pub maximize: bool,
}

impl AdagradConfig {
    /// Minus the learning rate at 1-based `step`, -lr / (1 + (step - 1) * lr_decay), in double
    /// precision as PyTorch's Python arithmetic does it.
    fn neg_step_lr(&self, step: u64) -> f32 {
        let decay = 1.0 + step.saturating_sub(1) as f64 * self.lr_decay;
        single(-(self.lr / decay))
    }

    /// The constants every parameter shares: sign (-1 with maximize), weight decay, eps.
    pub(crate) fn shared(&self) -> [f32; 3] {
        let sign = if self.maximize { -1.0 } else { 1.0 };
        [sign, single(self.weight_decay), single(self.eps)]
    }
}

/// One parameter's Adagrad update at 1-based `step` for `step_items`: the sum of squares is the
/// one state buffer, the step's learning rate the per-parameter constant.
pub(crate) fn adagrad_item(
    param: &Tensor,
    grad: &Tensor,
    sum: &Tensor,
    cfg: &AdagradConfig,
    step: u64,
) -> ListItem {
    ListItem {
        param: param.clone(),
        grad: grad.clone(),
        states: [Some(sum.clone()), None, None],
        own: [cfg.neg_step_lr(step), 0.0, 0.0],
    }
}

/// One Adagrad update at 1-based `step` with the running sum of squares `sum`.
pub fn adagrad_step(
    param: &Tensor,
    grad: &Tensor,
    sum: &Tensor,
    step: u64,
    cfg: AdagradConfig,
) -> Result<()> {
    if step == 0 {
        return Err(Error::arg("adagrad", "step", "a 1-based step", "0"));
    }
    let item = adagrad_item(param, grad, sum, &cfg, step);
    super::kernels::step_items(&super::FusedRule::Adagrad(cfg), &[item])
}

wide_fn! {
    /// Adagrad over one chunk of a parameter and its sum of squares, in PyTorch's ops:
    /// g = g.add(p, alpha=wd); sum.addcmul_(g, g, value=1) (one fused multiply-add);
    /// p.addcdiv_(g, sum.sqrt().add_(eps), value=-lr_t).
    pub(crate) fn adagrad_chunk(p: &mut [f32], g: &[f32], sum: &mut [f32], neg_step_lr: f32, shared: [f32; 3]) {
        let [sign, weight_decay, eps] = shared;
        p.iter_mut().zip(g).zip(sum.iter_mut()).for_each(|((p, &g), s)| {
            let gi = decayed_grad(g, *p, sign, weight_decay);
            *s = gi.mul_add(gi, *s);
            *p = addcdiv(*p, gi, s.sqrt() + eps, neg_step_lr);
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_learning_rate_decays_from_the_second_step() {
        let cfg = AdagradConfig {
            lr: 0.5,
            lr_decay: 0.25,
            weight_decay: 0.0,
            initial_accumulator_value: 0.0,
            eps: 1e-10,
            maximize: false,
        };
        assert_eq!(cfg.neg_step_lr(1), -0.5);
        assert_eq!(cfg.neg_step_lr(3), (-0.5f64 / 1.5) as f32);
    }

    #[test]
    fn two_steps_follow_the_formula() {
        let p = Tensor::from_vec(vec![1.0f32, -2.0, 0.5], &[3]).unwrap();
        let g = Tensor::from_vec(vec![0.5f32, -1.0, 2.0], &[3]).unwrap();
        let sum = Tensor::full(&[3], 0.1, crate::DType::F32, crate::Device::Cpu).unwrap();
        let cfg = AdagradConfig {
            lr: 0.1,
            lr_decay: 0.5,
            weight_decay: 0.2,
            initial_accumulator_value: 0.1,
            eps: 1e-10,
            maximize: false,
        };
        let (mut want, mut acc) = (vec![1.0f64, -2.0, 0.5], vec![0.1f64; 3]);
        for step in 1..=2u64 {
            adagrad_step(&p, &g, &sum, step, cfg).unwrap();
            let lr = 0.1 / (1.0 + (step - 1) as f64 * 0.5);
            for (i, gi) in [0.5f64, -1.0, 2.0].into_iter().enumerate() {
                let d = gi + 0.2 * want[i];
                acc[i] += d * d;
                want[i] -= lr * d / (acc[i].sqrt() + 1e-10);
            }
        }
        let got = p.to_vec::<f32>().unwrap();
        for (a, b) in got.iter().zip(&want) {
            assert!((*a as f64 - b).abs() < 1e-6, "{got:?} against {want:?}");
        }
    }
}
