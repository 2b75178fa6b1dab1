//! The stateful optimizer that `ferrograd.optim` classes wrap, and gradient clipping.

use ferrograd_core::optim::{
    self, AdadeltaConfig, AdafactorConfig, AdagradConfig, AdamConfig, AdamaxConfig, Algorithm,
    AsgdConfig, FusedRule, LrAdjustment, MuonConfig, NadamConfig, Optimizer, ParamGroup,
    ParamState, RmspropConfig, RpropConfig, SgdConfig,
};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::errors::IntoPy;
use crate::tensor::PyTensor;

type T<'a> = PyRef<'a, PyTensor>;

/// A required option of a parameter group.
fn opt<'py, V: FromPyObjectOwned<'py>>(options: &Bound<'py, PyDict>, key: &str) -> PyResult<V> {
    options
        .get_item(key)?
        .ok_or_else(|| {
            PyValueError::new_err(format!("optimizer: parameter group lacks option `{key}`"))
        })?
        .extract()
        .map_err(|_| PyValueError::new_err(format!("optimizer: option `{key}` has the wrong type")))
}

/// The update rules `parse_algorithm` knows.
const ALGORITHMS: [&str; 13] = [
    "sgd",
    "adam",
    "adamw",
    "rmsprop",
    "adagrad",
    "adamax",
    "radam",
    "nadam",
    "adadelta",
    "rprop",
    "asgd",
    "adafactor",
    "muon",
];

fn unknown_algorithm(given: &str) -> PyErr {
    PyValueError::new_err(format!(
        "optimizer: argument `algorithm` expected one of {}, got {given:?}",
        ALGORITHMS.join(", ")
    ))
}

/// The options the Adam family shares (lr, betas, eps, weight_decay, maximize), with the
/// rule's own decay form and amsgrad.
fn adam_options(
    o: &Bound<'_, PyDict>,
    decoupled_weight_decay: bool,
    amsgrad: bool,
) -> PyResult<AdamConfig> {
    let (beta1, beta2): (f64, f64) = opt(o, "betas")?;
    Ok(AdamConfig {
        lr: opt(o, "lr")?,
        beta1,
        beta2,
        eps: opt(o, "eps")?,
        weight_decay: opt(o, "weight_decay")?,
        decoupled_weight_decay,
        amsgrad,
        maximize: opt(o, "maximize")?,
    })
}

/// The update rule named `algorithm` with a group's options.
fn parse_algorithm(algorithm: &str, o: &Bound<'_, PyDict>) -> PyResult<Algorithm> {
    Ok(match algorithm {
        "adafactor" => {
            let (eps1, eps2): (Option<f64>, f64) = opt(o, "eps")?;
            Algorithm::Adafactor(AdafactorConfig {
                lr: opt(o, "lr")?,
                beta2_decay: opt(o, "beta2_decay")?,
                eps1,
                eps2,
                d: opt(o, "d")?,
                weight_decay: opt(o, "weight_decay")?,
                maximize: opt(o, "maximize")?,
            })
        }
        "muon" => {
            let (a, b, c): (f64, f64, f64) = opt(o, "ns_coefficients")?;
            let adjust: Option<String> = opt(o, "adjust_lr_fn")?;
            Algorithm::Muon(MuonConfig {
                lr: opt(o, "lr")?,
                weight_decay: opt(o, "weight_decay")?,
                momentum: opt(o, "momentum")?,
                nesterov: opt(o, "nesterov")?,
                ns_coefficients: [a, b, c],
                eps: opt(o, "eps")?,
                ns_steps: opt(o, "ns_steps")?,
                adjust_lr: match adjust.as_deref() {
                    None | Some("original") => LrAdjustment::Original,
                    Some("match_rms_adamw") => LrAdjustment::MatchRmsAdamw,
                    Some("spectral_unclamped") => LrAdjustment::SpectralUnclamped,
                    Some(other) => {
                        return Err(PyValueError::new_err(format!(
                            "Muon: argument `adjust_lr_fn` expected None, 'original', 'match_rms_adamw' or \
                             'spectral_unclamped', got {other:?}"
                        )))
                    }
                },
            })
        }
        fused => Algorithm::Fused(parse_fused_rule(fused, o)?),
    })
}

/// The fused rule named `algorithm` with a group's options.
fn parse_fused_rule(algorithm: &str, o: &Bound<'_, PyDict>) -> PyResult<FusedRule> {
    Ok(match algorithm {
        "sgd" => FusedRule::Sgd(SgdConfig {
            lr: opt(o, "lr")?,
            momentum: opt(o, "momentum")?,
            dampening: opt(o, "dampening")?,
            weight_decay: opt(o, "weight_decay")?,
            nesterov: opt(o, "nesterov")?,
            maximize: opt(o, "maximize")?,
        }),
        "adam" | "adamw" => {
            FusedRule::Adam(adam_options(o, algorithm == "adamw", opt(o, "amsgrad")?)?)
        }
        "rmsprop" => FusedRule::Rmsprop(RmspropConfig {
            lr: opt(o, "lr")?,
            alpha: opt(o, "alpha")?,
            eps: opt(o, "eps")?,
            weight_decay: opt(o, "weight_decay")?,
            momentum: opt(o, "momentum")?,
            centered: opt(o, "centered")?,
            maximize: opt(o, "maximize")?,
        }),
        "adagrad" => FusedRule::Adagrad(AdagradConfig {
            lr: opt(o, "lr")?,
            lr_decay: opt(o, "lr_decay")?,
            weight_decay: opt(o, "weight_decay")?,
            initial_accumulator_value: opt(o, "initial_accumulator_value")?,
            eps: opt(o, "eps")?,
            maximize: opt(o, "maximize")?,
        }),
        "adamax" => {
            let a = adam_options(o, false, false)?;
            FusedRule::Adamax(AdamaxConfig {
                lr: a.lr,
                beta1: a.beta1,
                beta2: a.beta2,
                eps: a.eps,
                weight_decay: a.weight_decay,
                maximize: a.maximize,
            })
        }
        "radam" => FusedRule::Radam(adam_options(o, opt(o, "decoupled_weight_decay")?, false)?),
        "nadam" => FusedRule::Nadam(NadamConfig {
            adam: adam_options(o, opt(o, "decoupled_weight_decay")?, false)?,
            momentum_decay: opt(o, "momentum_decay")?,
        }),
        "adadelta" => FusedRule::Adadelta(AdadeltaConfig {
            lr: opt(o, "lr")?,
            rho: opt(o, "rho")?,
            eps: opt(o, "eps")?,
            weight_decay: opt(o, "weight_decay")?,
            maximize: opt(o, "maximize")?,
        }),
        "rprop" => {
            let (eta_minus, eta_plus): (f64, f64) = opt(o, "etas")?;
            let (step_size_min, step_size_max): (f64, f64) = opt(o, "step_sizes")?;
            FusedRule::Rprop(RpropConfig {
                lr: opt(o, "lr")?,
                eta_minus,
                eta_plus,
                step_size_min,
                step_size_max,
                maximize: opt(o, "maximize")?,
            })
        }
        "asgd" => FusedRule::Asgd(AsgdConfig {
            lr: opt(o, "lr")?,
            lambd: opt(o, "lambd")?,
            alpha: opt(o, "alpha")?,
            t0: opt(o, "t0")?,
            weight_decay: opt(o, "weight_decay")?,
            maximize: opt(o, "maximize")?,
        }),
        other => return Err(unknown_algorithm(other)),
    })
}

/// Parameter groups with one update rule and the per-parameter state; stepped from Python or by
/// the Rust training loop.
#[pyclass(name = "Optimizer", module = "ferrograd._core")]
pub struct PyOptimizer {
    pub inner: Optimizer,
    algorithm: String,
}

#[pymethods]
impl PyOptimizer {
    /// An optimizer with no groups yet; `algorithm` is one of `ALGORITHMS`.
    #[new]
    fn new(algorithm: String) -> PyResult<Self> {
        if !ALGORITHMS.contains(&algorithm.as_str()) {
            return Err(unknown_algorithm(&algorithm));
        }
        Ok(PyOptimizer {
            inner: Optimizer::new(Vec::new()),
            algorithm,
        })
    }

    /// Appends a parameter group.
    fn add_group(&mut self, params: Vec<T<'_>>, options: Bound<'_, PyDict>) -> PyResult<()> {
        self.inner.groups.push(ParamGroup {
            params: params.iter().map(|p| p.inner.clone()).collect(),
            algorithm: parse_algorithm(&self.algorithm, &options)?,
        });
        Ok(())
    }

    /// Replaces the options of group `index` (the Python side calls this before each step, so
    /// edits of `param_groups` and schedules take effect).
    fn set_options(&mut self, index: usize, options: Bound<'_, PyDict>) -> PyResult<()> {
        let algorithm = parse_algorithm(&self.algorithm, &options)?;
        let n = self.inner.groups.len();
        let group = self.inner.groups.get_mut(index).ok_or_else(|| {
            PyValueError::new_err(format!(
                "optimizer: group index {index} out of range for {n} groups"
            ))
        })?;
        group.algorithm = algorithm;
        Ok(())
    }

    /// The learning rate of each group.
    fn lrs(&self) -> Vec<f64> {
        self.inner.groups.iter().map(|g| g.algorithm.lr()).collect()
    }

    /// One update of every parameter that has a gradient.
    fn step(&mut self, py: Python<'_>) -> PyResult<()> {
        let inner = &mut self.inner;
        py.detach(|| inner.step()).py()
    }

    /// Clears every parameter's gradient.
    fn zero_grad(&self) {
        self.inner.zero_grad();
    }

    /// `{"step": int, buffer name: Tensor, ...}` for `param`, or None before its first step.
    fn get_state<'py>(
        &self,
        py: Python<'py>,
        param: T<'_>,
    ) -> PyResult<Option<Bound<'py, PyDict>>> {
        let Some(state) = self.inner.state(&param.inner) else {
            return Ok(None);
        };
        let d = PyDict::new(py);
        d.set_item("step", state.step)?;
        for (name, t) in &state.buffers {
            d.set_item(name, PyTensor::from(t.clone()))?;
        }
        Ok(Some(d))
    }

    /// Restores the state of `param` from a dict shaped as [`get_state`](Self::get_state)'s.
    fn set_state(&mut self, param: T<'_>, state: Bound<'_, PyDict>) -> PyResult<()> {
        let mut restored = ParamState::default();
        for (key, value) in state.iter() {
            let key: String = key.extract()?;
            if key == "step" {
                restored.step = value.extract()?;
                continue;
            }
            let t: T<'_> = value.extract().map_err(|_| {
                PyValueError::new_err(format!("optimizer state `{key}`: expected a Tensor"))
            })?;
            let t = t.inner.contiguous().py()?;
            let expected = ParamState::expected_shape(&key, param.inner.shape());
            if t.shape() != expected {
                let whose = if expected.is_empty() {
                    "one value"
                } else {
                    "for the parameter's shape"
                };
                return Err(PyValueError::new_err(format!(
                    "optimizer state `{key}`: expected shape {expected:?} ({whose}), got {:?}",
                    t.shape()
                )));
            }
            restored.buffers.push((key, t.deep_clone().py()?));
        }
        self.inner.set_state(&param.inner, restored);
        Ok(())
    }

    /// Forgets every parameter's state.
    fn clear_state(&mut self) {
        self.inner.clear_state();
    }
}

#[pyfunction]
fn clip_grad_norm(
    py: Python<'_>,
    params: Vec<T<'_>>,
    max_norm: f32,
    norm_type: f32,
) -> PyResult<f32> {
    let ps: Vec<_> = params.iter().map(|p| p.inner.clone()).collect();
    py.detach(|| optim::clip_grad_norm(&ps, max_norm, norm_type))
        .py()
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyOptimizer>()?;
    m.add_function(wrap_pyfunction!(clip_grad_norm, m)?)?;
    Ok(())
}
