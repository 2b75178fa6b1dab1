//! Test helpers shared by the ops' unit tests: finite-difference gradient checks.

use crate::{Result, Tensor};

/// Compares autograd gradients of `sum(f(inputs) * w)` (w a fixed random weighting, so every
/// output element matters) with central differences, for every input that requires grad.
/// Panics with the worst element on mismatch (tests only).
pub fn gradcheck(f: impl Fn(&[Tensor]) -> Result<Tensor>, inputs: &[Tensor], eps: f32, tol: f32) {
    let out = f(inputs).expect("forward");
    let weight = Tensor::from_vec(
        (0..out.numel())
            .map(|i| ((i * 7919) % 13) as f32 / 13.0 - 0.4)
            .collect(),
        out.shape(),
    )
    .unwrap();
    let objective = |xs: &[Tensor]| -> f64 {
        let _g = crate::NoGradGuard::new();
        let y = f(xs)
            .unwrap()
            .mul(&weight)
            .unwrap()
            .to_vec::<f32>()
            .unwrap();
        y.iter().map(|&v| v as f64).sum()
    };
    for x in inputs {
        x.set_grad(None);
    }
    out.mul(&weight)
        .unwrap()
        .sum(&[], false)
        .unwrap()
        .backward(None)
        .unwrap();
    for (which, x) in inputs.iter().enumerate() {
        if !x.requires_grad() {
            continue;
        }
        let analytic = x
            .grad()
            .expect("input received no gradient")
            .to_vec::<f32>()
            .unwrap();
        let base = x.to_vec::<f32>().unwrap();
        for i in 0..base.len() {
            let shifted = |delta: f32| {
                let mut v = base.clone();
                v[i] += delta;
                let xs: Vec<Tensor> = inputs
                    .iter()
                    .enumerate()
                    .map(|(j, t)| {
                        if j == which {
                            Tensor::from_vec(v.clone(), x.shape()).unwrap()
                        } else {
                            t.clone()
                        }
                    })
                    .collect();
                objective(&xs)
            };
            let numeric = ((shifted(eps) - shifted(-eps)) / (2.0 * eps as f64)) as f32;
            let err = (numeric - analytic[i]).abs();
            assert!(
                err <= tol * (1.0 + numeric.abs()),
                "input {which} element {i}: analytic {} vs numeric {numeric}",
                analytic[i]
            );
        }
    }
}

/// Held while a test seeds the global generator and draws from it: tests run on parallel
/// threads, and another test's seeding in between would change the draw.
static GLOBAL_RNG_USER: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// `f()` run right after seeding the global generator with `seed`, with no other `seeded` call
/// (or `random_leaf`) in between.
pub fn seeded<T>(seed: u64, f: impl FnOnce() -> T) -> T {
    let _only_user = GLOBAL_RNG_USER
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    crate::rng::manual_seed(seed);
    f()
}

/// A leaf requiring grad with N(mean, std²) values drawn after seeding the global generator.
pub fn random_leaf_with(shape: &[usize], seed: u64, mean: f32, std: f32) -> Tensor {
    let t = seeded(seed, || Tensor::randn(shape, mean, std).unwrap());
    t.set_requires_grad(true).unwrap();
    t
}

/// A standard-normal leaf requiring grad, for gradient checks.
pub fn random_leaf(shape: &[usize], seed: u64) -> Tensor {
    random_leaf_with(shape, seed, 0.0, 1.0)
}
