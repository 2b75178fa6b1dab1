//! SparseFool (Modas et al., 2019; torchattacks' SparseFool): a sparse attack built on DeepFool.
//! Each outer step, for every sample still classified correctly: DeepFool from the current point
//! finds a boundary point, pushed `lam` times as far from the input; the boundary's normal there
//! is the input gradient of `z_rival - z_label` (the rival is the class predicted at that point,
//! or DeepFool's class when the label still wins), normalised; then a linear solver walks from
//! the input along one coordinate at a time, the one where the remaining normal is largest,
//! until the point crosses the hyperplane, each coordinate moved once and clamped to the bounds.
//! The step from the input is scaled by `1 + overshoot`.

use rayon::prelude::*;

use super::deepfool::{deepfool_batch, DeepFoolConfig};
use super::objective::predictions;
use super::pgd::{BatchResult, FrozenParameters};
use super::HostView;
use crate::nn::Module;
use crate::{NoGradGuard, Result, Tensor};

/// A SparseFool run: outer steps, DeepFool's scale `lam` and overshoot, and the inner DeepFool.
#[derive(Clone, Debug)]
pub struct SparseFoolConfig {
    pub steps: usize,
    pub lam: f32,
    pub overshoot: f32,
    pub deepfool: DeepFoolConfig,
}

/// `v`'s sign with sign(0) = 0, as `torch.sign`.
fn sign(v: f64) -> f64 {
    if v > 0.0 {
        1.0
    } else if v < 0.0 {
        -1.0
    } else {
        0.0
    }
}

/// SparseFool's linear solver: from `x0`, moves the coordinates in decreasing order of the
/// normal's magnitude (ties: lowest index first), each by `max(|f| / |normal_k|, 1e-4)` toward the
/// plane through `point` (`f` its signed distance along the normal plus a 0.001 margin in the
/// starting side's sign), clamped to `bounds`, until the point's side of the plane changes or
/// every coordinate with a nonzero normal has moved.
fn linear_solve(x0: &[f32], normal: &[f32], point: &[f32], (lo, hi): (f32, f32)) -> Vec<f32> {
    let mut xi = x0.to_vec();
    // The signed distance `normal . (xi - point)`, updated as coordinates move.
    let mut side: f64 = normal
        .iter()
        .zip(x0.iter().zip(point))
        .map(|(&n, (&x, &p))| n as f64 * (x as f64 - p as f64))
        .sum();
    let start_sign = sign(side);
    let margin = 0.001 * start_sign;
    let mut order: Vec<usize> = (0..normal.len()).filter(|&k| normal[k] != 0.0).collect();
    order.sort_by(|&a, &b| normal[b].abs().total_cmp(&normal[a].abs()).then(a.cmp(&b)));
    for k in order {
        let step =
            ((side + margin).abs() / normal[k].abs() as f64).max(1e-4) * sign(normal[k] as f64);
        let moved = (xi[k] as f64 + step).clamp(lo as f64, hi as f64) as f32;
        side += normal[k] as f64 * (moved as f64 - xi[k] as f64);
        xi[k] = moved;
        if sign(side) != start_sign {
            break;
        }
    }
    xi
}

/// The unit normal of the boundary at each of `points` `[n, ...]` between `labels` and their
/// rival (the class predicted there, or `fallback` when the label wins); `None` where there is
/// no rival or the gradient vanishes.
fn boundary_normals(
    model: &dyn Module,
    points: &[f32],
    shape: &[usize],
    labels: &[i64],
    fallback: &[i64],
) -> Result<Vec<Option<Vec<f32>>>> {
    let n = labels.len();
    let leaf = Tensor::from_vec(points.to_vec(), shape)?;
    leaf.set_requires_grad(true)?;
    let logits = HostView::of(model).forward(&leaf)?;
    let predicted = predictions(&logits)?;
    let rivals: Vec<i64> = (0..n)
        .map(|i| match predicted[i] == labels[i] {
            true => fallback[i],
            false => predicted[i],
        })
        .collect();
    let pick = |classes: &[i64]| -> Result<Tensor> {
        logits.gather(1, &Tensor::from_vec(classes.to_vec(), &[n, 1])?)
    };
    let gap = pick(&rivals)?.sub(&pick(labels)?)?;
    let grad = crate::autograd::grad(&gap.sum(&[0, 1], false)?, std::slice::from_ref(&leaf))?;
    let grad = match grad.into_iter().next().flatten() {
        Some(g) => g.contiguous()?.to_vec::<f32>()?,
        None => vec![0.0; points.len()],
    };
    let dim = points.len() / n.max(1);
    Ok(grad
        .chunks(dim.max(1))
        .zip(rivals.iter().zip(labels))
        .map(|(g, (rival, label))| {
            let norm = g.iter().map(|v| v * v).sum::<f32>().sqrt();
            (rival != label && norm > 0.0).then(|| g.iter().map(|v| v / norm).collect())
        })
        .collect())
}

/// SparseFool on one batch with true `labels` (untargeted).
pub fn sparsefool_batch(
    model: &dyn Module,
    x: &[f32],
    shape: &[usize],
    labels: &[i64],
    cfg: &SparseFoolConfig,
) -> Result<BatchResult> {
    let _frozen = FrozenParameters::new(model)?;
    let view = HostView::of(model);
    let batch = labels.len();
    let dim = x.len() / batch.max(1);
    let bounds = cfg.deepfool.bounds;
    let predict = |points: &[f32]| -> Result<Vec<i64>> {
        let _guard = NoGradGuard::new();
        predictions(&view.forward(&Tensor::from_vec(points.to_vec(), shape)?)?)
    };
    let mut adv = x.to_vec();
    let mut predicted = predict(&adv)?;
    for _ in 0..cfg.steps {
        let active: Vec<usize> = (0..batch).filter(|&i| predicted[i] == labels[i]).collect();
        if active.is_empty() {
            break;
        }
        let rows = |v: &[f32]| -> Vec<f32> {
            active
                .iter()
                .flat_map(|&i| v[i * dim..(i + 1) * dim].iter().copied())
                .collect()
        };
        let (sub_x, sub_adv) = (rows(x), rows(&adv));
        let sub_labels: Vec<i64> = active.iter().map(|&i| labels[i]).collect();
        let mut sub_shape = shape.to_vec();
        sub_shape[0] = active.len();
        let fooled = deepfool_batch(model, &sub_adv, &sub_shape, &sub_labels, &cfg.deepfool)?;
        let boundary: Vec<f32> = sub_x
            .iter()
            .zip(&fooled.adversarial)
            .map(|(&x0, &d)| x0 + cfg.lam * (d - x0))
            .collect();
        let normals = boundary_normals(
            model,
            &boundary,
            &sub_shape,
            &sub_labels,
            &fooled.predictions,
        )?;
        let solved: Vec<Option<Vec<f32>>> = normals
            .par_iter()
            .enumerate()
            .map(|(j, normal)| {
                let normal = normal.as_ref()?;
                let (x0, point) = (
                    &sub_x[j * dim..(j + 1) * dim],
                    &boundary[j * dim..(j + 1) * dim],
                );
                let crossed = linear_solve(x0, normal, point, bounds);
                Some(
                    x0.iter()
                        .zip(crossed)
                        .map(|(&a, c)| {
                            (a + (1.0 + cfg.overshoot) * (c - a)).clamp(bounds.0, bounds.1)
                        })
                        .collect(),
                )
            })
            .collect();
        for (j, point) in solved.into_iter().enumerate() {
            if let Some(point) = point {
                let i = active[j];
                adv[i * dim..(i + 1) * dim].copy_from_slice(&point);
            }
        }
        predicted = predict(&adv)?;
    }
    Ok(BatchResult {
        success: predicted.iter().zip(labels).map(|(p, y)| p != y).collect(),
        adversarial: adv,
        predictions: predicted,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_linear_solver_moves_the_largest_coordinates_until_the_plane_is_crossed() {
        // Plane: 0.8 a + 0.6 b = 0.8 * 0.9 (through (0.9, 0, 0)); start at the origin, below it.
        let normal = [0.8f32, 0.6, 0.0];
        let point = [0.9f32, 0.0, 0.0];
        let x0 = [0.0f32, 0.0, 0.5];
        // f = -0.72, margin -0.001: a moves by 0.721 / 0.8 = 0.90125, which crosses.
        let out = linear_solve(&x0, &normal, &point, (0.0, 1.0));
        assert!((out[0] - 0.90125).abs() < 1e-6, "{out:?}");
        assert_eq!(out[1..], [0.0, 0.5]);
        // With a capped at 0.5 by the bounds, b moves next: it must cover (0.72 - 0.4 + 0.001) / 0.6.
        let out = linear_solve(&x0, &normal, &point, (0.0, 0.5));
        assert_eq!(out[0], 0.5);
        assert!((out[1] - 0.5).abs() < 1e-6, "b is clamped too: {out:?}");
        // Nothing left to move: the point stays as far as the bounds let it go.
        assert_eq!(out[2], 0.5);
    }

    #[test]
    fn the_linear_solver_breaks_ties_by_index_and_follows_the_normals_sign() {
        let normal = [0.5f32, 0.5, -0.5, 0.5];
        let point = [0.7f32, 0.5, 0.5, 0.5];
        let x0 = [0.5f32; 4];
        // f = -0.1, margin -0.001: coordinate 0, the first of the ties, moves up by 0.202.
        let out = linear_solve(&x0, &normal, &point, (0.0, 1.0));
        assert!((out[0] - 0.702).abs() < 1e-6, "{out:?}");
        assert_eq!(out[1..], [0.5, 0.5, 0.5]);
        // Capped at 0.55, coordinates 0 and 1 leave f = -0.05; coordinate 2 (normal -0.5) then
        // moves down by 0.102 and crosses.
        let out = linear_solve(&x0, &normal, &point, (0.0, 0.55));
        assert_eq!(out[..2], [0.55, 0.55]);
        assert!((out[2] - 0.398).abs() < 1e-6, "{out:?}");
        assert_eq!(out[3], 0.5);
    }
}
