//! `_core.attack`: an attack of the PGD family over a whole loader, run in Rust with the GIL
//! released (taken back after each batch for Ctrl-C and progress).

use ferrograd_core::attack::{
    attack_batches, ApgdConfig, Attack, AttackConfig, AttackLoss, CwConfig, DecisionRule,
    DeepFoolConfig, EadConfig, Extent, FabConfig, InputDiversity, JitterLoss, JsmaConfig,
    KernelProfile, NoiseAverage, NoiseKind, Norm, OnePixelConfig, Patchwise, PixelMapping,
    PixleConfig, Smoothing, SparseFoolConfig, SpsaConfig, SquareConfig, Start, StepGradient,
    Transfer,
};
use ferrograd_core::Error;
use numpy::ndarray::{ArrayD, IxDyn};
use numpy::{IntoPyArray, PyArray1};
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::data::loader::PyDataLoader;
use crate::errors::{stash, to_py, IntoPy};
use crate::nn::PyLayer;

/// Option `key` of an attack's options dict, or `default` when it is absent or None.
fn get<'py, V: FromPyObjectOwned<'py>>(
    o: &Bound<'py, PyDict>,
    key: &str,
    default: V,
) -> PyResult<V> {
    match o.get_item(key)? {
        Some(v) if !v.is_none() => v.extract().map_err(|_| {
            to_py(Error::arg(
                "attack",
                key,
                "a value of the right type",
                v.to_string(),
            ))
        }),
        _ => Ok(default),
    }
}

/// An attack configuration from its options dict (eps, alpha, steps, norm, start, start_size,
/// restarts, loss, momentum, bounds), as `ferrograd.attacks` classes build it.
pub fn config_from_options(o: &Bound<'_, PyDict>) -> PyResult<AttackConfig> {
    let eps: f32 = get(o, "eps", 0.0)?;
    let alpha: f32 = get(o, "alpha", 0.0)?;
    let bounds: (f32, f32) = get(o, "bounds", (0.0, 1.0))?;
    let bad =
        |name: &str, expected: &str, got: String| to_py(Error::arg("attack", name, expected, got));
    if !(eps >= 0.0 && eps.is_finite()) {
        return Err(bad("eps", "a finite value >= 0", eps.to_string()));
    }
    if !(alpha >= 0.0 && alpha.is_finite()) {
        return Err(bad("alpha", "a finite step size >= 0", alpha.to_string()));
    }
    if bounds.0 >= bounds.1 {
        return Err(bad(
            "bounds",
            "(low, high) with low < high",
            format!("{bounds:?}"),
        ));
    }
    let norm = match get(o, "norm", "linf".to_string())?.as_str() {
        "linf" => Norm::Linf,
        "l2" => Norm::L2,
        other => return Err(bad("norm", "'linf' or 'l2'", format!("{other:?}"))),
    };
    let start = match get(o, "start", "uniform".to_string())?.as_str() {
        "input" => Start::Input,
        "uniform" => Start::Uniform,
        "uniform_unclipped" => Start::UniformUnclipped,
        "signed_gaussian" => Start::SignedGaussian(get(o, "start_size", 0.0)?),
        "gaussian" => Start::Gaussian(get(o, "start_size", 0.0)?),
        other => {
            return Err(bad(
                "start",
                "'input', 'uniform', 'uniform_unclipped', 'signed_gaussian' or 'gaussian'",
                format!("{other:?}"),
            ))
        }
    };
    Ok(AttackConfig {
        eps,
        alpha,
        steps: get(o, "steps", 1)?,
        norm,
        start,
        restarts: get::<usize>(o, "restarts", 1)?.max(1),
        loss: AttackLoss::parse(&get(o, "loss", "ce".to_string())?).py()?,
        momentum: get(o, "momentum", None)?,
        nesterov: get(o, "nesterov", false)?,
        eot: get::<usize>(o, "eot", 1)?.max(1),
        bounds,
        cuda_graphs: get(o, "cuda_graphs", true)?,
        transfer: transfer_from_options(o)?,
        gradient: step_gradient_from_options(o)?,
        patchwise: patchwise_from_options(o, norm)?,
    })
}

/// Pixle's options: `x_dimensions` / `y_dimensions` (two (value, is_fraction) pairs each),
/// `pixel_mapping`, `restarts`, `iterations`, `update_each_iteration` and `inf_batch`.
fn pixle_from_options(o: &Bound<'_, PyDict>) -> PyResult<Attack> {
    let bad =
        |name: &str, expected: &str, got: String| to_py(Error::arg("Pixle", name, expected, got));
    type Side = ((f32, bool), (f32, bool));
    let extents = |name: &str| -> PyResult<(Extent, Extent)> {
        let (lo, hi): Side = get(o, name, ((2.0, false), (10.0, false)))?;
        let extent = |(v, fraction): (f32, bool)| match fraction {
            true if (0.0..=1.0).contains(&v) => Ok(Extent::Fraction(v)),
            false if v >= 1.0 && v.fract() == 0.0 => Ok(Extent::Pixels(v as usize)),
            _ => Err(bad(
                name,
                "integers >= 1 or fractions in [0, 1]",
                v.to_string(),
            )),
        };
        Ok((extent(lo)?, extent(hi)?))
    };
    let mapping = match get(o, "pixel_mapping", "random".to_string())?.as_str() {
        "random" => PixelMapping::Random,
        "similarity" => PixelMapping::Similarity { sampled: false },
        "similarity_random" => PixelMapping::Similarity { sampled: true },
        "distance" => PixelMapping::Distance { sampled: false },
        "distance_random" => PixelMapping::Distance { sampled: true },
        other => {
            return Err(bad(
                "pixel_mapping",
                "'random', 'similarity', 'similarity_random', 'distance' or 'distance_random'",
                format!("{other:?}"),
            ))
        }
    };
    Ok(Attack::Pixle(PixleConfig {
        x_dimensions: extents("x_dimensions")?,
        y_dimensions: extents("y_dimensions")?,
        mapping,
        restarts: get(o, "restarts", 20)?,
        iterations: get(o, "iterations", 10)?,
        update_each_iteration: get(o, "update_each_iteration", false)?,
        batch_limit: get::<usize>(o, "inf_batch", 256)?.max(1),
    }))
}

/// PI-FGSM's option `patchwise`: (project factor, whether the projection accumulates); L∞ only.
fn patchwise_from_options(o: &Bound<'_, PyDict>, norm: Norm) -> PyResult<Option<Patchwise>> {
    let Some((project_factor, accumulate_projection)) =
        get::<Option<(f32, bool)>>(o, "patchwise", None)?
    else {
        return Ok(None);
    };
    if norm != Norm::Linf || !(project_factor >= 0.0 && project_factor.is_finite()) {
        return Err(to_py(Error::arg(
            "PI-FGSM",
            "project_factor",
            "a finite value >= 0, under the L-inf norm",
            format!("{project_factor} ({norm:?})"),
        )));
    }
    Ok(Some(Patchwise {
        project_factor,
        accumulate_projection,
    }))
}

/// What the steps differentiate: option `smoothed` (PGDRS), `jitter` (scale, std), or neither.
fn step_gradient_from_options(o: &Bound<'_, PyDict>) -> PyResult<StepGradient> {
    let jitter: Option<(f32, f32)> = get(o, "jitter", None)?;
    match (smoothed_from_options(o)?, jitter) {
        (Some(_), Some(_)) => Err(to_py(Error::arg(
            "attack",
            "smoothed / jitter",
            "at most one of them",
            "both".to_string(),
        ))),
        (Some(noise), None) => Ok(StepGradient::Smoothed(noise)),
        (None, Some((scale, std))) => {
            if !(scale.is_finite() && scale > 0.0 && std.is_finite() && std >= 0.0) {
                return Err(to_py(Error::arg(
                    "attack",
                    "scale / std",
                    "a finite scale > 0 and a finite std >= 0",
                    format!("{scale} / {std}"),
                )));
            }
            Ok(StepGradient::Jitter(JitterLoss { scale, std }))
        }
        (None, None) => Ok(StepGradient::Loss),
    }
}

/// PGDRS's option `smoothed`: (noise kind 'gaussian' or 'uniform', its scale, copies per step).
fn smoothed_from_options(o: &Bound<'_, PyDict>) -> PyResult<Option<NoiseAverage>> {
    let Some((kind, sd, copies)) = get::<Option<(String, f32, usize)>>(o, "smoothed", None)? else {
        return Ok(None);
    };
    let bad = |name: &str, expected: &str, got: String| {
        Err(to_py(Error::arg("attack", name, expected, got)))
    };
    let kind = match kind.as_str() {
        "gaussian" => NoiseKind::Gaussian,
        "uniform" => NoiseKind::Uniform,
        other => {
            return bad(
                "noise_type",
                "'gaussian' or 'uniform'",
                format!("{other:?}"),
            )
        }
    };
    if !(sd >= 0.0 && sd.is_finite()) {
        return bad("noise_sd", "a finite value >= 0", sd.to_string());
    }
    if copies == 0 {
        return bad("noise_batch_size", "at least 1 noisy copy", "0".into());
    }
    Ok(Some(NoiseAverage { kind, sd, copies }))
}

/// The transfer attacks' options: `diversity` (resize rate, probability), `scales`, `smoothing`
/// (kernel side, profile name, sigmas) and `variance` (neighbours, radius relative to ε).
fn transfer_from_options(o: &Bound<'_, PyDict>) -> PyResult<Transfer> {
    let diversity: Option<(f32, f32)> = get(o, "diversity", None)?;
    let smoothing: Option<(usize, String, f32)> = get(o, "smoothing", None)?;
    let variance: Option<(usize, f32)> = get(o, "variance", None)?;
    let scales: usize = get(o, "scales", 1)?;
    let bad = |name: &str, expected: &str, got: String| {
        Err(to_py(Error::arg("attack", name, expected, got)))
    };
    if let Some((rate, p)) = diversity {
        if !(rate > 0.0 && rate != 1.0 && (0.0..=1.0).contains(&p)) {
            return bad(
                "diversity",
                "a resize rate > 0 other than 1 and a probability in [0, 1]",
                format!("({rate}, {p})"),
            );
        }
    }
    let smoothing = match smoothing {
        Some((side, _, _)) if side % 2 == 0 => {
            return bad("len_kernel", "an odd kernel side", side.to_string())
        }
        Some((side, name, nsig)) => {
            let profile = match name.as_str() {
                "gaussian" if nsig > 0.0 => KernelProfile::Gaussian { nsig },
                "gaussian" => return bad("nsig", "a value > 0", nsig.to_string()),
                "linear" => KernelProfile::Linear,
                "uniform" => KernelProfile::Uniform,
                other => {
                    return bad(
                        "kernel_name",
                        "'gaussian', 'linear' or 'uniform'",
                        format!("{other:?}"),
                    )
                }
            };
            Some(Smoothing { profile, side })
        }
        None => None,
    };
    if let Some((n, beta)) = variance {
        if n == 0 || beta < 0.0 {
            return bad("N / beta", "N >= 1 and beta >= 0", format!("{n} / {beta}"));
        }
    }
    if scales == 0 {
        return bad("m", "at least 1 scale copy", "0".into());
    }
    Ok(Transfer {
        diversity: diversity.map(|(resize_rate, probability)| InputDiversity {
            resize_rate,
            probability,
        }),
        scales,
        smoothing,
        variance,
    })
}

/// The attack an options dict names: `kind` "pgd" (the default), "apgd", "square", "cw",
/// "ead", "jsma", "one_pixel", "pixle", "spsa", "deepfool", "sparsefool", "fab" or "tpgd".
pub fn attack_from_options(o: &Bound<'_, PyDict>) -> PyResult<Attack> {
    let kind: String = get(o, "kind", "pgd".to_string())?;
    // FAB's budget may be infinite (a pure minimal-norm search); the shared checks read the rest.
    let shared = o.copy()?;
    if kind == "fab" && shared.contains("eps")? {
        shared.del_item("eps")?;
    }
    let pgd = config_from_options(&shared)?;
    match kind.as_str() {
        "pgd" => Ok(Attack::Pgd(pgd)),
        "tpgd" => Ok(Attack::Tpgd(pgd)),
        "apgd" => Ok(Attack::Apgd(ApgdConfig {
            eps: pgd.eps,
            steps: pgd.steps,
            norm: pgd.norm,
            loss: pgd.loss,
            restarts: pgd.restarts,
            eot: pgd.eot,
            bounds: pgd.bounds,
        })),
        "square" => {
            let queries = get(o, "queries", 1000usize)?;
            let p_init = get(o, "p_init", 0.8f32)?;
            if pgd.norm != Norm::Linf || !(0.0 < p_init && p_init <= 1.0) {
                return Err(to_py(Error::arg(
                    "Square",
                    "norm / p_init",
                    "the L-inf norm and p_init in (0, 1]",
                    format!("{:?} / {p_init}", pgd.norm),
                )));
            }
            Ok(Attack::Square(SquareConfig {
                eps: pgd.eps,
                queries,
                p_init,
                bounds: pgd.bounds,
            }))
        }
        "cw" => {
            let search_steps = get(o, "search_steps", 5usize)?;
            Ok(Attack::Cw(CwConfig {
                c: get(o, "c", 1.0f32)?,
                kappa: get(o, "kappa", 0.0f32)?,
                steps: pgd.steps,
                lr: get(o, "lr", 0.01f32)?,
                search_steps,
                bounds: pgd.bounds,
            }))
        }
        "ead" => {
            let rule = get(o, "decision_rule", "EN".to_string())?;
            let rule = match rule.as_str() {
                "EN" => DecisionRule::ElasticNet,
                "L1" => DecisionRule::L1,
                other => {
                    return Err(to_py(Error::arg(
                        "EAD",
                        "decision_rule",
                        "'EN' or 'L1'",
                        format!("{other:?}"),
                    )))
                }
            };
            Ok(Attack::Ead(EadConfig {
                c: get(o, "c", 1e-3f32)?,
                kappa: get(o, "kappa", 0.0f32)?,
                beta: get(o, "beta", 1e-3f32)?,
                steps: pgd.steps,
                lr: get(o, "lr", 0.01f32)?,
                search_steps: get(o, "search_steps", 9usize)?,
                rule,
                bounds: pgd.bounds,
            }))
        }
        "spsa" => {
            let samples = get(o, "samples", 128usize)?;
            let (delta, lr) = (get(o, "delta", 0.01f32)?, get(o, "lr", 0.01f32)?);
            if !(delta > 0.0 && lr > 0.0) || samples == 0 || pgd.norm != Norm::Linf {
                return Err(to_py(Error::arg(
                    "SPSA",
                    "delta / lr / nb_sample / norm",
                    "delta > 0, lr > 0, nb_sample >= 1 and the L-inf norm",
                    format!("{delta} / {lr} / {samples} / {:?}", pgd.norm),
                )));
            }
            Ok(Attack::Spsa(SpsaConfig {
                eps: pgd.eps,
                delta,
                lr,
                steps: pgd.steps,
                samples,
                bounds: pgd.bounds,
            }))
        }
        "one_pixel" => {
            let (pixels, popsize) = (get(o, "pixels", 1usize)?, get(o, "popsize", 10usize)?);
            if pixels == 0 || popsize == 0 {
                return Err(to_py(Error::arg(
                    "OnePixel",
                    "pixels / popsize",
                    "pixels >= 1 and popsize >= 1",
                    format!("{pixels} / {popsize}"),
                )));
            }
            Ok(Attack::OnePixel(OnePixelConfig {
                pixels,
                steps: pgd.steps,
                popsize,
                batch_limit: get(o, "inf_batch", 128usize)?,
                bounds: pgd.bounds,
            }))
        }
        "jsma" => {
            let (theta, gamma) = (get(o, "theta", 1.0f32)?, get(o, "gamma", 0.1f32)?);
            if theta == 0.0 || !theta.is_finite() || !(0.0..=1.0).contains(&gamma) {
                return Err(to_py(Error::arg(
                    "JSMA",
                    "theta / gamma",
                    "theta != 0 and gamma in [0, 1]",
                    format!("{theta} / {gamma}"),
                )));
            }
            Ok(Attack::Jsma(JsmaConfig {
                theta,
                gamma,
                bounds: pgd.bounds,
            }))
        }
        "deepfool" => Ok(Attack::DeepFool(DeepFoolConfig {
            steps: pgd.steps,
            overshoot: get(o, "overshoot", 0.02f32)?,
            bounds: pgd.bounds,
        })),
        "pixle" => pixle_from_options(o),
        "sparsefool" => {
            let (lam, overshoot): (f32, f32) = (get(o, "lam", 3.0)?, get(o, "overshoot", 0.02)?);
            if !(lam >= 1.0 && lam.is_finite() && overshoot >= 0.0 && overshoot.is_finite()) {
                return Err(to_py(Error::arg(
                    "SparseFool",
                    "lam / overshoot",
                    "a finite lam >= 1 and a finite overshoot >= 0",
                    format!("{lam} / {overshoot}"),
                )));
            }
            Ok(Attack::SparseFool(SparseFoolConfig {
                steps: pgd.steps,
                lam,
                overshoot,
                deepfool: DeepFoolConfig {
                    steps: get(o, "deepfool_steps", 50)?,
                    overshoot: 0.02,
                    bounds: pgd.bounds,
                },
            }))
        }
        "fab" => {
            let eps = get(o, "eps", f32::INFINITY)?;
            let (alpha_max, eta, beta) = (
                get(o, "alpha_max", 0.1f32)?,
                get(o, "eta", 1.05f32)?,
                get(o, "beta", 0.9f32)?,
            );
            let valid = eps >= 0.0
                && (0.0..=1.0).contains(&alpha_max)
                && eta >= 1.0
                && 0.0 < beta
                && beta <= 1.0;
            if !valid {
                return Err(to_py(Error::arg(
                    "FAB",
                    "eps / alpha_max / eta / beta",
                    "eps >= 0, alpha_max in [0, 1], eta >= 1 and beta in (0, 1]",
                    format!("{eps} / {alpha_max} / {eta} / {beta}"),
                )));
            }
            Ok(Attack::Fab(FabConfig {
                eps,
                steps: pgd.steps,
                restarts: pgd.restarts,
                norm: pgd.norm,
                alpha_max,
                eta,
                beta,
                bounds: pgd.bounds,
                any_wrong_class: get(o, "any_wrong_class", false)?,
            }))
        }
        other => Err(to_py(Error::arg(
            "attack",
            "kind",
            "'pgd', 'tpgd', 'apgd', 'square', 'spsa', 'cw', 'ead', 'jsma', 'one_pixel', 'pixle', 'deepfool', 'sparsefool' or 'fab'",
            format!("{other:?}"),
        ))),
    }
}

/// Attacks every batch of `loader` (which must not shuffle, so results line up with the dataset);
/// returns a dict of numpy arrays: adversarial, labels, clean_predictions,
/// adversarial_predictions, success.
#[pyfunction]
#[pyo3(signature = (model, loader, options, targets = None, seed = 0, progress = None))]
fn attack<'py>(
    py: Python<'py>,
    model: PyRef<'_, PyLayer>,
    mut loader: PyRefMut<'_, PyDataLoader>,
    options: Bound<'_, PyDict>,
    targets: Option<Vec<i64>>,
    seed: u64,
    progress: Option<Py<PyAny>>,
) -> PyResult<Bound<'py, PyDict>> {
    let cfg = attack_from_options(&options)?;
    let module = model.module()?;
    let loader = &mut loader.inner;
    let result = py
        .detach(|| {
            let mut epoch = loader.iter();
            let total = epoch.remaining();
            attack_batches(
                module,
                &mut epoch,
                total,
                targets.as_deref(),
                &cfg,
                seed,
                &mut |done| {
                    Python::attach(|py| {
                        py.check_signals().map_err(stash)?;
                        if let Some(cb) = &progress {
                            cb.call1(py, (done, total)).map_err(stash)?;
                        }
                        Ok(())
                    })
                },
            )
        })
        .py()?;
    let shape = if result.shape.is_empty() {
        vec![0]
    } else {
        result.shape
    };
    let adversarial = ArrayD::from_shape_vec(IxDyn(&shape), result.adversarial)
        .map_err(|e| to_py(Error::shape("attack", e.to_string())))?
        .into_pyarray(py);
    let out = PyDict::new(py);
    out.set_item("adversarial", adversarial)?;
    out.set_item("labels", PyArray1::from_vec(py, result.labels))?;
    out.set_item(
        "clean_predictions",
        PyArray1::from_vec(py, result.clean_predictions),
    )?;
    out.set_item(
        "adversarial_predictions",
        PyArray1::from_vec(py, result.adversarial_predictions),
    )?;
    out.set_item("success", PyArray1::from_vec(py, result.success))?;
    Ok(out)
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(attack, m)?)
}
