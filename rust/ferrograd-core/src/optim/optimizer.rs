//! A stateful optimizer: parameter groups, each with its algorithm's options, and the per-parameter
//! state (step count and buffers). Python's `ferrograd.optim` classes and the Rust training loop
//! drive the same object, so a step taken in either place is the same step.

use std::collections::HashMap;

use super::adadelta_rprop::two_buffer_item;
use super::adafactor::{adafactor_update, factor_shape, AdafactorConfig};
use super::adagrad::adagrad_item;
use super::adam_variants::{adamax_item, radam_item};
use super::algorithm::{Algorithm, FusedRule};
use super::arith::single;
use super::asgd::{asgd_item, asgd_next};
use super::kernels::{adam_item, rmsprop_item, sgd_item, step_items};
use super::muon::muon_update;
use super::nadam::{nadam_item, scalar_state, scalar_value};
use crate::cuda::optim::ListItem;
use crate::{Result, Tensor};

/// Parameters that share options.
#[derive(Clone, Debug)]
pub struct ParamGroup {
    pub params: Vec<Tensor>,
    pub algorithm: Algorithm,
}

/// What the optimizer remembers of one parameter: its step count and named buffers with
/// PyTorch's names (`exp_avg`, `exp_avg_sq`, `max_exp_avg_sq`, `momentum_buffer`, `square_avg`,
/// `grad_avg`, `sum`, `exp_inf`, `acc_delta`, `prev`, `step_size`, `variance`), each shaped as the
/// parameter, Adafactor's `row_var` and `col_var` (see [`expected_shape`](ParamState::expected_shape)),
/// and the 0-d ones of [`SCALAR_STATE`](ParamState::SCALAR_STATE).
#[derive(Clone, Debug, Default)]
pub struct ParamState {
    pub step: u64,
    pub buffers: Vec<(String, Tensor)>,
}

impl ParamState {
    /// The state entries that are one float32 value on the CPU (a 0-d tensor), not a buffer
    /// shaped as the parameter: NAdam's running product of its momentum coefficients, ASGD's step
    /// size and averaging weight.
    pub const SCALAR_STATE: [&'static str; 3] = ["mu_product", "eta", "mu"];

    /// The shape state entry `name` has for a parameter of `shape`.
    pub fn expected_shape(name: &str, shape: &[usize]) -> Vec<usize> {
        match ParamState::SCALAR_STATE.contains(&name) {
            true => Vec::new(),
            false => factor_shape(name, shape),
        }
    }

    fn buffer(&mut self, name: &str, like: &Tensor) -> Result<Tensor> {
        self.buffer_from(name, like, 0.0)
    }

    /// The buffer `name`, created filled with `initial` on first use (in the shape
    /// `expected_shape` gives).
    fn buffer_from(&mut self, name: &str, like: &Tensor, initial: f32) -> Result<Tensor> {
        if let Some((_, t)) = self.buffers.iter().find(|(n, _)| n == name) {
            return Ok(t.clone());
        }
        let shape = ParamState::expected_shape(name, like.shape());
        let t = Tensor::full(&shape, initial as f64, like.dtype(), like.device())?;
        self.buffers.push((name.to_string(), t.clone()));
        Ok(t)
    }

    /// The 0-d entry `name`, created holding `initial` on first use, for an update to replace.
    fn scalar_mut(&mut self, name: &str, initial: f32) -> Result<&mut Tensor> {
        let at = match self.buffers.iter().position(|(n, _)| n == name) {
            Some(at) => at,
            None => {
                self.buffers
                    .push((name.to_string(), scalar_state(initial)?));
                self.buffers.len() - 1
            }
        };
        Ok(&mut self.buffers[at].1)
    }

    /// The one value of the 0-d state entry `name`, created as `initial` on first use.
    fn scalar(&mut self, name: &str, initial: f32) -> Result<f32> {
        scalar_value(self.scalar_mut(name, initial)?, name)
    }

    /// Sets the 0-d state entry `name` to `value`.
    fn set_scalar(&mut self, name: &str, value: f32) -> Result<()> {
        *self.scalar_mut(name, value)? = scalar_state(value)?;
        Ok(())
    }

    fn has(&self, name: &str) -> bool {
        self.buffers.iter().any(|(n, _)| n == name)
    }
}

/// Parameter groups and per-parameter state; state is keyed by the parameter tensor's identity.
#[derive(Debug, Default)]
pub struct Optimizer {
    pub groups: Vec<ParamGroup>,
    state: HashMap<usize, ParamState>,
}

impl Optimizer {
    /// An optimizer over `groups`, with empty state.
    pub fn new(groups: Vec<ParamGroup>) -> Optimizer {
        Optimizer {
            groups,
            state: HashMap::new(),
        }
    }

    /// Every optimized parameter, group by group.
    pub fn params(&self) -> impl Iterator<Item = &Tensor> {
        self.groups.iter().flat_map(|g| g.params.iter())
    }

    /// Clears every parameter's gradient.
    pub fn zero_grad(&self) {
        for p in self.params() {
            p.set_grad(None);
        }
    }

    /// The state of `param`, if it has been stepped (or restored).
    pub fn state(&self, param: &Tensor) -> Option<&ParamState> {
        self.state.get(&param.id())
    }

    /// Replaces the state of `param` (restoring a checkpoint).
    pub fn set_state(&mut self, param: &Tensor, state: ParamState) {
        self.state.insert(param.id(), state);
    }

    /// Forgets all state.
    pub fn clear_state(&mut self) {
        self.state.clear();
    }

    /// One update of every parameter that has a gradient: per group, the parameters of each
    /// device together (one parallel pass on the CPU, fused launches on a GPU).
    pub fn step(&mut self) -> Result<()> {
        for group in &self.groups {
            match group.algorithm {
                Algorithm::Fused(rule) => step_fused(&mut self.state, &group.params, rule)?,
                Algorithm::Adafactor(cfg) => step_adafactor(&mut self.state, &group.params, &cfg)?,
                Algorithm::Muon(cfg) => {
                    for p in &group.params {
                        let Some(grad) = p.grad() else { continue };
                        let state = self.state.entry(p.id()).or_default();
                        state.step += 1;
                        let buffer = state.buffer("momentum_buffer", p)?;
                        muon_update(p, &grad, &buffer, &cfg)?;
                    }
                }
            }
        }
        Ok(())
    }
}

/// A fused rule's step over `params`: the parameters of each device in one pass.
fn step_fused(
    states: &mut HashMap<usize, ParamState>,
    params: &[Tensor],
    rule: FusedRule,
) -> Result<()> {
    let mut items: Vec<ListItem> = Vec::new();
    for p in params {
        let Some(grad) = p.grad() else { continue };
        let state = states.entry(p.id()).or_default();
        items.push(update_item(p, &grad, state, rule)?);
    }
    while let Some(first) = items.first() {
        let device = first.param.device();
        let (here, rest): (Vec<_>, Vec<_>) = items
            .into_iter()
            .partition(|it| it.param.device() == device);
        step_items(&rule, &here)?;
        items = rest;
    }
    Ok(())
}

/// Adafactor's step, parameter by parameter: factored moments for rank >= 2, a full variance
/// otherwise.
fn step_adafactor(
    states: &mut HashMap<usize, ParamState>,
    params: &[Tensor],
    cfg: &AdafactorConfig,
) -> Result<()> {
    for p in params {
        let Some(grad) = p.grad() else { continue };
        let state = states.entry(p.id()).or_default();
        state.step += 1;
        match p.rank() >= 2 {
            true => {
                let rows = state.buffer("row_var", p)?;
                let cols = state.buffer("col_var", p)?;
                adafactor_update(p, &grad, (&rows, Some(&cols)), state.step, cfg)?
            }
            false => {
                let variance = state.buffer("variance", p)?;
                adafactor_update(p, &grad, (&variance, None), state.step, cfg)?
            }
        }
    }
    Ok(())
}

/// One parameter's update, counting the step and creating its state buffers on first use.
fn update_item(
    p: &Tensor,
    grad: &Tensor,
    state: &mut ParamState,
    rule: FusedRule,
) -> Result<ListItem> {
    state.step += 1;
    Ok(match rule {
        FusedRule::Sgd(cfg) => {
            let (buf, first) = match cfg.momentum != 0.0 {
                true => {
                    let first = !state.has("momentum_buffer");
                    (Some(state.buffer("momentum_buffer", p)?), first)
                }
                false => (None, false),
            };
            sgd_item(p, grad, buf.as_ref(), &cfg, first)
        }
        FusedRule::Adam(cfg) => {
            let m = state.buffer("exp_avg", p)?;
            let v = state.buffer("exp_avg_sq", p)?;
            let vmax = match cfg.amsgrad {
                true => Some(state.buffer("max_exp_avg_sq", p)?),
                false => None,
            };
            adam_item(p, grad, [&m, &v], vmax.as_ref(), &cfg, state.step)
        }
        FusedRule::Rmsprop(cfg) => {
            let s = state.buffer("square_avg", p)?;
            let g = match cfg.centered {
                true => Some(state.buffer("grad_avg", p)?),
                false => None,
            };
            let b = match cfg.momentum > 0.0 {
                true => Some(state.buffer("momentum_buffer", p)?),
                false => None,
            };
            rmsprop_item(p, grad, &s, g.as_ref(), b.as_ref())
        }
        FusedRule::Adagrad(cfg) => {
            let sum = state.buffer_from("sum", p, single(cfg.initial_accumulator_value))?;
            adagrad_item(p, grad, &sum, &cfg, state.step)
        }
        FusedRule::Adamax(cfg) => {
            let m = state.buffer("exp_avg", p)?;
            let u = state.buffer("exp_inf", p)?;
            adamax_item(p, grad, [&m, &u], &cfg, state.step)
        }
        FusedRule::Radam(cfg) => {
            let m = state.buffer("exp_avg", p)?;
            let v = state.buffer("exp_avg_sq", p)?;
            radam_item(p, grad, [&m, &v], &cfg, state.step)
        }
        FusedRule::Nadam(cfg) => {
            let m = state.buffer("exp_avg", p)?;
            let v = state.buffer("exp_avg_sq", p)?;
            let step = state.step;
            let mu_product = state.scalar_mut("mu_product", 1.0)?;
            nadam_item(p, grad, [&m, &v], mu_product, &cfg, step)?
        }
        FusedRule::Adadelta(_) => {
            let s = state.buffer("square_avg", p)?;
            let a = state.buffer("acc_delta", p)?;
            two_buffer_item(p, grad, [&s, &a])
        }
        FusedRule::Asgd(cfg) => {
            // eta starts at the group's learning rate, mu at 1, as in PyTorch.
            let ax = state.buffer("ax", p)?;
            let now = [
                state.scalar("eta", single(cfg.lr))?,
                state.scalar("mu", 1.0)?,
            ];
            let [eta, mu] = asgd_next(&cfg, state.step);
            state.set_scalar("eta", eta)?;
            state.set_scalar("mu", mu)?;
            asgd_item(p, grad, &ax, now, &cfg)
        }
        FusedRule::Rprop(cfg) => {
            // The step sizes start at the learning rate the group had on the first step.
            let prev = state.buffer("prev", p)?;
            let step_size = state.buffer_from("step_size", p, single(cfg.lr))?;
            two_buffer_item(p, grad, [&prev, &step_size])
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::optim::{adam_step, AdamConfig};

    fn adam_config() -> AdamConfig {
        AdamConfig {
            weight_decay: 0.01,
            decoupled_weight_decay: true,
            amsgrad: true,
            ..AdamConfig::defaults(0.01)
        }
    }

    /// A parameter of `n` elements with a gradient, both from `seed`.
    fn param_with_grad(n: usize, seed: usize) -> Tensor {
        let values = |s: usize| -> Vec<f32> {
            (0..n)
                .map(|i| ((i * 7919 + s * 104729) % 2003) as f32 / 1001.0 - 1.0)
                .collect()
        };
        let p = Tensor::from_vec(values(seed), &[n]).unwrap();
        p.set_requires_grad(true).unwrap();
        p.set_grad(Some(Tensor::from_vec(values(seed + 1), &[n]).unwrap()));
        p
    }

    #[test]
    fn one_pass_over_all_parameters_equals_stepping_each_alone() {
        // Sizes around the chunk and per-thread slice boundaries, and an odd one.
        let sizes = [1, 17, 8192, 8193, 65536 + 5, 200_003];
        let cfg = adam_config();
        let params: Vec<Tensor> = sizes
            .iter()
            .enumerate()
            .map(|(i, &n)| param_with_grad(n, i))
            .collect();
        let mut opt = Optimizer::new(vec![ParamGroup {
            params: params.clone(),
            algorithm: Algorithm::Fused(FusedRule::Adam(cfg)),
        }]);
        for (i, &n) in sizes.iter().enumerate() {
            let alone = param_with_grad(n, i);
            let grad = alone.grad().unwrap();
            let [m, v, vmax] = [0, 1, 2].map(|_| alone.detach().zeros_like().unwrap());
            for step in 1..=3 {
                adam_step(&alone, &grad, &m, &v, Some(&vmax), step, cfg).unwrap();
            }
            if i == 0 {
                for _ in 0..3 {
                    opt.step().unwrap();
                }
            }
            let (a, b) = (
                alone.to_vec::<f32>().unwrap(),
                params[i].to_vec::<f32>().unwrap(),
            );
            assert!(
                a.iter().zip(&b).all(|(x, y)| x.to_bits() == y.to_bits()),
                "parameter of {n} elements differs"
            );
            let state = opt.state(&params[i]).unwrap();
            let ours = state.buffers[2].1.to_vec::<f32>().unwrap();
            assert_eq!(ours, vmax.to_vec::<f32>().unwrap());
        }
    }

    #[test]
    fn a_parameter_listed_twice_is_an_error_not_a_deadlock() {
        let p = param_with_grad(10, 0);
        let mut opt = Optimizer::new(vec![ParamGroup {
            params: vec![p.clone(), p.clone()],
            algorithm: Algorithm::Fused(FusedRule::Adam(adam_config())),
        }]);
        let err = opt.step().unwrap_err().to_string();
        assert!(err.contains("params"), "{err}");
        // The parameter itself shared as its own gradient.
        let q = param_with_grad(10, 1);
        q.set_grad(Some(q.detach()));
        let mut opt = Optimizer::new(vec![ParamGroup {
            params: vec![q],
            algorithm: Algorithm::Fused(FusedRule::Adam(adam_config())),
        }]);
        let err = opt.step().unwrap_err().to_string();
        assert!(err.contains("grad"), "{err}");
    }

    #[test]
    fn adam_creates_state_and_counts_steps() {
        let p = Tensor::from_vec(vec![1.0f32, -2.0], &[2]).unwrap();
        p.set_requires_grad(true).unwrap();
        p.set_grad(Some(Tensor::from_vec(vec![0.5f32, 0.5], &[2]).unwrap()));
        let cfg = AdamConfig::defaults(0.1);
        let mut opt = Optimizer::new(vec![ParamGroup {
            params: vec![p.clone()],
            algorithm: Algorithm::Fused(FusedRule::Adam(cfg)),
        }]);
        opt.step().unwrap();
        opt.step().unwrap();
        let st = opt.state(&p).unwrap();
        assert_eq!(st.step, 2);
        assert_eq!(st.buffers.len(), 2);
        // Adam's first steps move each coordinate by about lr against the gradient's sign.
        let v = p.to_vec::<f32>().unwrap();
        assert!(
            (v[0] - 0.8).abs() < 1e-4 && (v[1] + 2.2).abs() < 1e-4,
            "{v:?}"
        );
    }
}
