//! The whole-epoch loops behind `Module.fit`, `evaluate` and `predict`: one call runs an epoch in
//! Rust with the GIL released, taking it back only to report progress, to notice Ctrl-C, and for
//! modules or losses written in Python.

use ferrograd_core::optim::{AverageRule, WeightAverage};
use ferrograd_core::rng::RngState;
use ferrograd_core::train::{
    self, AdversarialLoss, Adversary, CrossEntropy, EpochStats, Objective, Progress, TrainOptions,
};
use ferrograd_core::{Device, Error, Result, Tensor};
use numpy::ndarray::{ArrayD, IxDyn};
use numpy::IntoPyArray;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::data::loader::PyDataLoader;
use crate::errors::{stash, IntoPy};
use crate::nn::PyLayer;
use crate::optim::PyOptimizer;
use crate::tensor::PyTensor;

/// A Python callable `loss(output, labels) -> Tensor` as a training objective.
struct PythonObjective {
    callable: Py<PyAny>,
}

impl Objective for PythonObjective {
    fn loss(&self, output: &Tensor, labels: &Tensor) -> Result<Tensor> {
        Python::attach(|py| {
            let args = (
                PyTensor::from(output.clone()),
                PyTensor::from(labels.clone()),
            );
            let out = self.callable.call1(py, args).map_err(stash)?;
            let out: PyRef<'_, PyTensor> = out.extract(py).map_err(|_| {
                stash(PyValueError::new_err(
                    "the loss function returned something other than a Tensor",
                ))
            })?;
            Ok(out.inner.clone())
        })
    }
}

/// The loss a loop computes per batch.
#[pyclass(name = "Objective", module = "ferrograd._core", frozen)]
pub struct PyObjective {
    inner: Box<dyn Objective>,
}

#[pymethods]
impl PyObjective {
    /// Mean cross-entropy of logits against class indices.
    #[staticmethod]
    #[pyo3(signature = (weight = None, label_smoothing = 0.0, ignore_index = -100))]
    fn cross_entropy(
        weight: Option<PyRef<'_, PyTensor>>,
        label_smoothing: f32,
        ignore_index: i64,
    ) -> PyResult<Self> {
        if !(0.0..=1.0).contains(&label_smoothing) {
            return Err(PyValueError::new_err(format!(
                "cross_entropy: argument `label_smoothing` expected a value in [0, 1], got {label_smoothing}"
            )));
        }
        Ok(PyObjective {
            inner: Box::new(CrossEntropy {
                weight: weight.map(|w| w.inner.clone()),
                label_smoothing,
                ignore_index: Some(ignore_index),
                log_probs: false,
            }),
        })
    }

    /// Mean negative log-likelihood of log-probabilities against class indices.
    #[staticmethod]
    #[pyo3(signature = (weight = None, ignore_index = -100))]
    fn nll(weight: Option<PyRef<'_, PyTensor>>, ignore_index: i64) -> Self {
        PyObjective {
            inner: Box::new(CrossEntropy {
                weight: weight.map(|w| w.inner.clone()),
                label_smoothing: 0.0,
                ignore_index: Some(ignore_index),
                log_probs: true,
            }),
        }
    }

    /// A Python loss `loss(output, labels) -> Tensor`.
    #[staticmethod]
    fn python(loss: Py<PyAny>) -> Self {
        PyObjective {
            inner: Box::new(PythonObjective { callable: loss }),
        }
    }
}

/// Progress as the dict the Python side reads.
fn progress_dict<'py>(py: Python<'py>, p: &Progress) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("batch", p.batch)?;
    d.set_item("batches", p.batches)?;
    d.set_item("steps", p.steps)?;
    d.set_item("samples", p.samples)?;
    d.set_item("loss", p.loss)?;
    d.set_item("accuracy", p.accuracy)?;
    d.set_item("elapsed", p.elapsed)?;
    d.set_item("graphed", p.graphed)?;
    d.set_item("graphs_off", p.graphs_off.as_deref())?;
    Ok(d)
}

/// Takes the GIL after a batch: runs pending signal handlers (Ctrl-C raises KeyboardInterrupt
/// here) and, every `every` batches and at the end, calls `callback(progress)`.
fn report(callback: Option<&Py<PyAny>>, every: usize, p: &Progress) -> Result<()> {
    Python::attach(|py| {
        py.check_signals().map_err(stash)?;
        if let Some(cb) = callback {
            if p.batch.is_multiple_of(every.max(1)) || p.batch == p.batches {
                let d = progress_dict(py, p).map_err(stash)?;
                cb.call1(py, (d,)).map_err(stash)?;
            }
        }
        Ok(())
    })
}

/// A weight average for `train_epoch`: (average, model tensor) pairs, the rule's name
/// ("equal", "equal_lerp", "exponential", "exponential_products"), its decay (unused by the
/// equal rules) and the one-element integer tensor counting its updates.
type AverageSpec<'a> = (
    Vec<(PyRef<'a, PyTensor>, PyRef<'a, PyTensor>)>,
    String,
    f64,
    PyRef<'a, PyTensor>,
);

/// What adversarial training minimises, from the adversary's options: `trades_beta` (TRADES),
/// `mart_beta` (MART), `free_replays` (free adversarial training), or none of them (train on the
/// attacked batch).
fn adversarial_loss(options: &Bound<'_, PyDict>) -> PyResult<AdversarialLoss> {
    let beta = |key: &str| -> PyResult<Option<f32>> {
        match options.get_item(key)? {
            Some(b) if !b.is_none() => Ok(Some(b.extract()?)),
            _ => Ok(None),
        }
    };
    if let Some(replays) = options.get_item("free_replays")? {
        let replays: usize = replays.extract()?;
        if replays == 0 {
            return Err(PyValueError::new_err(
                "FreeAT: argument `replays` expected >= 1, got 0",
            ));
        }
        return Ok(AdversarialLoss::Free { replays });
    }
    Ok(match (beta("trades_beta")?, beta("mart_beta")?) {
        (Some(b), _) => AdversarialLoss::Trades(b),
        (None, Some(b)) => AdversarialLoss::Mart(b),
        (None, None) => AdversarialLoss::Replace,
    })
}

/// AWP's `awp_gamma` from the adversary's options (a finite value > 0), if given.
fn weight_perturbation(options: &Bound<'_, PyDict>) -> PyResult<Option<f32>> {
    let Some(gamma) = options.get_item("awp_gamma")? else {
        return Ok(None);
    };
    let gamma: f32 = gamma.extract()?;
    if !(gamma > 0.0 && gamma.is_finite()) {
        return Err(PyValueError::new_err(format!(
            "AWP: argument `gamma` expected a finite value > 0, got {gamma}"
        )));
    }
    if options.contains("free_replays")? {
        return Err(PyValueError::new_err(
            "AWP: argument `attack` expected an attack that runs before each step, got FreeAT",
        ));
    }
    Ok(Some(gamma))
}

fn weight_average((pairs, rule, decay, counter): AverageSpec<'_>) -> PyResult<WeightAverage> {
    let rule = match rule.as_str() {
        "equal" => AverageRule::Equal,
        "equal_lerp" => AverageRule::EqualLerp,
        "exponential" => AverageRule::Exponential { decay },
        "exponential_products" => AverageRule::ExponentialProducts { decay },
        other => {
            return Err(PyValueError::new_err(format!(
                "fit: argument `average` expected a rule 'equal', 'equal_lerp', 'exponential' or \
                 'exponential_products', got {other:?}"
            )))
        }
    };
    let pairs = pairs
        .iter()
        .map(|(a, m)| (a.inner.clone(), m.inner.clone()))
        .collect();
    WeightAverage::new(pairs, rule, counter.inner.clone()).py()
}

/// Trains `model` for one epoch of `loader`; returns the epoch's summary as a dict.
#[pyfunction]
#[pyo3(signature = (model, loader, objective, optimizer, grad_clip = None, accumulate = 1, step_lrs = None, progress = None, every = 10, adversary = None, device = "cpu", step_momenta = None, average = None, cuda_graphs = false))]
#[allow(clippy::too_many_arguments)]
fn train_epoch<'py>(
    py: Python<'py>,
    model: PyRef<'_, PyLayer>,
    mut loader: PyRefMut<'_, PyDataLoader>,
    objective: PyRef<'_, PyObjective>,
    mut optimizer: PyRefMut<'_, PyOptimizer>,
    grad_clip: Option<f32>,
    accumulate: usize,
    step_lrs: Option<Vec<Vec<f64>>>,
    progress: Option<Py<PyAny>>,
    every: usize,
    adversary: Option<(PyRef<'_, PyLayer>, Bound<'_, PyDict>, u64)>,
    device: &str,
    step_momenta: Option<Vec<Vec<f64>>>,
    average: Option<AverageSpec<'_>>,
    cuda_graphs: bool,
) -> PyResult<Bound<'py, PyDict>> {
    let device = Device::parse(device).py()?;
    let average = average.map(weight_average).transpose()?;
    if accumulate == 0 {
        return Err(PyValueError::new_err(
            "fit: argument `accumulate` expected >= 1, got 0",
        ));
    }
    if let Some(c) = grad_clip {
        if c.is_nan() || c <= 0.0 {
            return Err(PyValueError::new_err(format!(
                "fit: argument `grad_clip` expected a positive norm, got {c}"
            )));
        }
    }
    let module = model.module()?;
    let options = TrainOptions {
        grad_clip,
        accumulate,
        step_lrs,
        step_momenta,
        device,
        average,
        cuda_graphs,
    };
    let mut adversary = match &adversary {
        Some((layer, options, seed)) => Some(Adversary {
            model: layer.module()?,
            config: crate::attack::config_from_options(options)?,
            loss: adversarial_loss(options)?,
            weight_perturbation: weight_perturbation(options)?,
            rng: RngState {
                seed: *seed,
                offset: 0,
            },
        }),
        None => None,
    };
    let objective = &*objective.inner;
    let optimizer = &mut optimizer.inner;
    let loader = &mut loader.inner;
    let stats: EpochStats = py
        .detach(|| {
            let mut epoch = loader.iter();
            let total = epoch.remaining();
            train::train_epoch(
                module,
                &mut epoch,
                total,
                objective,
                optimizer,
                &options,
                adversary.as_mut(),
                &mut |p| report(progress.as_ref(), every, p),
            )
        })
        .py()?;
    progress_dict(py, &stats)
}

/// Runs `model` over one pass of `loader` without autograd; returns `(outputs, labels, loss)`
/// with outputs `[N, ...]` as numpy in loader order (loss 0.0 without an objective).
#[pyfunction]
#[pyo3(signature = (model, loader, objective = None, progress = None, device = "cpu"))]
fn predict_epoch<'py>(
    py: Python<'py>,
    model: PyRef<'_, PyLayer>,
    mut loader: PyRefMut<'_, PyDataLoader>,
    objective: Option<PyRef<'_, PyObjective>>,
    progress: Option<Py<PyAny>>,
    device: &str,
) -> PyResult<(Bound<'py, PyAny>, Bound<'py, PyAny>, f64)> {
    let device = Device::parse(device).py()?;
    let module = model.module()?;
    let objective = objective.as_ref().map(|o| &*o.inner);
    let loader = &mut loader.inner;
    let preds = py
        .detach(|| {
            let mut epoch = loader.iter();
            let total = epoch.remaining();
            train::predict_epoch(module, &mut epoch, total, objective, device, &mut |done| {
                let p = Progress {
                    batch: done,
                    batches: total,
                    ..Progress::default()
                };
                report(progress.as_ref(), 1, &p)
            })
        })
        .py()?;
    let shape = if preds.shape.is_empty() {
        vec![0]
    } else {
        preds.shape
    };
    let shape_error = |e: numpy::ndarray::ShapeError| {
        crate::errors::to_py(Error::shape("predict", e.to_string()))
    };
    // One label per sample `[N]`, or per token `[N, L]`.
    let rows = shape[0];
    let label_shape = match preds.labels.len() {
        n if rows > 0 && n != rows => vec![rows, n / rows],
        n => vec![n],
    };
    let outputs = ArrayD::from_shape_vec(IxDyn(&shape), preds.outputs)
        .map_err(shape_error)?
        .into_pyarray(py)
        .into_any();
    let labels = ArrayD::from_shape_vec(IxDyn(&label_shape), preds.labels)
        .map_err(shape_error)?
        .into_pyarray(py)
        .into_any();
    Ok((outputs, labels, preds.loss))
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyObjective>()?;
    m.add_function(wrap_pyfunction!(train_epoch, m)?)?;
    m.add_function(wrap_pyfunction!(predict_epoch, m)?)?;
    Ok(())
}
