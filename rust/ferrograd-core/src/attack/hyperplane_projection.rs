//! FAB's projection: the smallest step, in L∞ or L2, that carries a point onto the hyperplane
//! `{z : w·z = b}` without leaving the box `[lo, hi]^n`.
//!
//! To close the gap `w·p - b`, each coordinate moves against the gap's sign times `w_i`'s, which
//! changes `w·z` at the rate `|w_i|` until the coordinate reaches the box. For a step budget λ the
//! optimal moves are `min(λ, room_i)` under L∞ and `min(λ |w_i|, room_i)` under L2 (the KKT
//! conditions of the box-constrained least-norm problem), so the gap closed is a piecewise-linear,
//! non-decreasing function of λ with one breakpoint where each coordinate saturates. Sorting the
//! breakpoints and walking them finds the smallest λ that closes the gap; the optimum is unique in
//! every coordinate with `w_i != 0` (the others stay put). When the box keeps the hyperplane out
//! of reach, every coordinate goes all the way to the box, the closest the box allows.

use super::pgd::Norm;

/// One coordinate's possible move.
struct Move {
    index: usize,
    /// +1 or -1.
    direction: f64,
    /// Distance to the box in `direction`.
    room: f64,
    /// `|w_i|`: how fast the move closes the gap.
    weight: f64,
    /// How fast the move grows with λ: 1 under L∞, `|w_i|` under L2.
    rate: f64,
}

impl Move {
    /// The λ at which the coordinate reaches the box.
    fn breakpoint(&self) -> f64 {
        self.room / self.rate
    }
}

/// The smallest `d` (in `norm`) with `w·(point + d) = b` and `point + d` inside `[lo, hi]`
/// (computed in f64, rounded once).
pub(super) fn step_onto_hyperplane(
    point: &[f32],
    w: &[f32],
    b: f64,
    norm: Norm,
    (lo, hi): (f32, f32),
) -> Vec<f32> {
    let gap = point
        .iter()
        .zip(w)
        .map(|(&p, &w)| p as f64 * w as f64)
        .sum::<f64>()
        - b;
    let lower = if gap >= 0.0 { -1.0 } else { 1.0 };
    let mut moves: Vec<Move> = point
        .iter()
        .zip(w)
        .enumerate()
        .filter(|&(_, (_, &w))| w != 0.0)
        .map(|(index, (&p, &w))| {
            let direction = lower * (w as f64).signum();
            let room = match direction > 0.0 {
                true => hi as f64 - p as f64,
                false => p as f64 - lo as f64,
            };
            let weight = (w as f64).abs();
            let rate = match norm {
                Norm::Linf => 1.0,
                Norm::L2 => weight,
            };
            Move {
                index,
                direction,
                room: room.max(0.0),
                weight,
                rate,
            }
        })
        .collect();
    moves.sort_by(|a, b| a.breakpoint().total_cmp(&b.breakpoint()));
    // unsaturated_slope[k]: how fast the gap closes while moves k.. are still free (summed from
    // the back so that no running subtraction loses precision).
    let mut unsaturated_slope = vec![0.0; moves.len() + 1];
    for k in (0..moves.len()).rev() {
        unsaturated_slope[k] = unsaturated_slope[k + 1] + moves[k].weight * moves[k].rate;
    }
    let need = gap.abs();
    let mut closed_by_saturated = 0.0;
    let mut lambda = f64::INFINITY;
    for (k, m) in moves.iter().enumerate() {
        if closed_by_saturated + unsaturated_slope[k] * m.breakpoint() >= need {
            lambda = (need - closed_by_saturated) / unsaturated_slope[k];
            break;
        }
        closed_by_saturated += m.weight * m.room;
    }
    let mut step = vec![0.0f32; point.len()];
    for m in &moves {
        step[m.index] = (m.direction * (lambda * m.rate).min(m.room)) as f32;
    }
    step
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::RngState;

    fn close(a: &[f32], b: &[f32]) -> bool {
        a.iter().zip(b).all(|(x, y)| (x - y).abs() < 1e-6)
    }

    #[test]
    fn hand_worked_cases() {
        let unit = (0.0, 1.0);
        for norm in [Norm::Linf, Norm::L2] {
            // Equal weights: both norms split the gap 0.4 evenly.
            let d = step_onto_hyperplane(&[0.5, 0.5], &[1.0, 1.0], 0.6, norm, unit);
            assert!(close(&d, &[-0.2, -0.2]), "{d:?}");
            // The first coordinate saturates at the box after 0.1.
            let d = step_onto_hyperplane(&[0.1, 0.5], &[1.0, 1.0], 0.2, norm, unit);
            assert!(close(&d, &[-0.1, -0.3]), "{d:?}");
            // A negative gap moves the other way; a zero weight stays put.
            let d = step_onto_hyperplane(&[0.5, 0.5, 0.5], &[1.0, -1.0, 0.0], 0.4, norm, unit);
            assert!(close(&d, &[0.2, -0.2, 0.0]), "{d:?}");
            // Out of reach: the closest the box allows.
            let d = step_onto_hyperplane(&[0.5, 0.7], &[1.0, -1.0], 3.0, norm, unit);
            assert!(close(&d, &[0.5, -0.7]), "{d:?}");
            // Already on the hyperplane.
            let d = step_onto_hyperplane(&[0.25, 0.5], &[2.0, 1.0], 1.0, norm, unit);
            assert!(close(&d, &[0.0, 0.0]), "{d:?}");
        }
        // Unequal weights: L∞ moves both by 1/3, L2 along w (λ = 0.2).
        let d = step_onto_hyperplane(&[0.5, 0.5], &[2.0, 1.0], 0.5, Norm::Linf, unit);
        assert!(close(&d, &[-1.0 / 3.0, -1.0 / 3.0]), "{d:?}");
        let d = step_onto_hyperplane(&[0.5, 0.5], &[2.0, 1.0], 0.5, Norm::L2, unit);
        assert!(close(&d, &[-0.4, -0.2]), "{d:?}");
    }

    /// On random problems the step reaches the hyperplane inside the box, and it is optimal: under
    /// L∞ a budget 0.1% smaller cannot close the gap even with every coordinate moving its best;
    /// under L2 the step meets the convex problem's KKT conditions, `d = clamp(μ w)` into the box
    /// for one multiplier μ.
    #[test]
    fn random_steps_are_feasible_and_minimal() {
        let mut rng = RngState { seed: 7, offset: 0 };
        for (trial, norm) in (0..200).zip([Norm::Linf, Norm::L2].into_iter().cycle()) {
            let n = 1 + trial % 37;
            let point: Vec<f32> = rng.uniform(n);
            let w: Vec<f32> = rng.normal(n);
            // A hyperplane through a random point of the box, so it is reachable.
            let through: Vec<f32> = rng.uniform(n);
            let b = through.iter().zip(&w).map(|(t, w)| t * w).sum::<f32>() as f64;
            let d = step_onto_hyperplane(&point, &w, b, norm, (0.0, 1.0));
            let z: Vec<f32> = point.iter().zip(&d).map(|(p, d)| p + d).collect();
            assert!(z.iter().all(|&v| (-1e-6..=1.0 + 1e-6).contains(&v)));
            let reached = z.iter().zip(&w).map(|(z, w)| z * w).sum::<f32>();
            assert!((reached as f64 - b).abs() < 1e-4, "{reached} vs {b}");
            let gap = point.iter().zip(&w).map(|(p, w)| p * w).sum::<f32>() - b as f32;
            if gap.abs() < 1e-3 {
                continue;
            }
            match norm {
                Norm::Linf => {
                    let lambda = 0.999 * d.iter().fold(0.0f32, |m, v| m.max(v.abs()));
                    let best: f32 = point
                        .iter()
                        .zip(&w)
                        .map(|(&p, &w)| {
                            let room = if (w > 0.0) == (gap > 0.0) { p } else { 1.0 - p };
                            w.abs() * lambda.min(room)
                        })
                        .sum();
                    assert!(
                        best < gap.abs(),
                        "a budget of {lambda} closes {best} of {gap}"
                    );
                }
                Norm::L2 => {
                    // |μ| is the largest |d_j / w_j|: free coordinates move by exactly μ w_j,
                    // saturated ones by less.
                    let i = (0..n)
                        .max_by(|&a, &b| (d[a] / w[a]).abs().total_cmp(&(d[b] / w[b]).abs()))
                        .expect("n >= 1");
                    let mu = d[i] / w[i];
                    for j in 0..n {
                        let kkt = (mu * w[j]).clamp(-point[j], 1.0 - point[j]);
                        assert!(
                            (kkt - d[j]).abs() < 1e-4,
                            "coordinate {j}: {} vs {kkt}",
                            d[j]
                        );
                    }
                }
            }
        }
    }
}
