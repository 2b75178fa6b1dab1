//! Loss functions with PyTorch's semantics. cross_entropy with class-index targets is one fused
//! kernel (its backward reuses the gradient computed in the forward pass); the others are short
//! compositions of differentiable ops.

use crate::cpu::cross_entropy::cross_entropy_rows;
use crate::{DType, Error, Result, Storage, Tensor};

/// How per-element losses are combined.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reduction {
    None,
    Mean,
    Sum,
}

impl Reduction {
    /// Parses `"none"`, `"mean"` or `"sum"`.
    pub fn parse(op: &'static str, s: &str) -> Result<Reduction> {
        match s {
            "none" => Ok(Reduction::None),
            "mean" => Ok(Reduction::Mean),
            "sum" => Ok(Reduction::Sum),
            _ => Err(Error::arg(
                op,
                "reduction",
                "'none', 'mean' or 'sum'",
                format!("{s:?}"),
            )),
        }
    }

    fn apply(self, losses: Tensor) -> Result<Tensor> {
        match self {
            Reduction::None => Ok(losses),
            Reduction::Mean => losses.mean(&[], false),
            Reduction::Sum => losses.sum(&[], false),
        }
    }
}

/// Reduction of `kl_div`, which adds PyTorch's 'batchmean' (sum divided by the batch size).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KlReduction {
    None,
    Mean,
    Sum,
    BatchMean,
}

/// Moves the class axis (1) last and flattens: [N, C, d...] -> [N*d..., C].
fn classes_last(op: &'static str, logits: &Tensor) -> Result<Tensor> {
    match logits.rank() {
        2 => Ok(logits.clone()),
        r if r > 2 => {
            let mut perm: Vec<usize> = vec![0];
            perm.extend(2..r);
            perm.push(1);
            let c = logits.shape()[1];
            logits
                .permute(&perm)?
                .reshape(&[logits.numel() / c.max(1), c])
        }
        _ => Err(Error::shape(
            op,
            format!(
                "input must be [N, C] or [N, C, d1, ...], got {:?}",
                logits.shape()
            ),
        )),
    }
}

fn check_class_weight(op: &'static str, weight: Option<&Tensor>, classes: usize) -> Result<()> {
    match weight {
        Some(w) if w.shape() != [classes] => Err(Error::arg(
            op,
            "weight",
            format!("a tensor of shape [{classes}]"),
            format!("shape {:?}", w.shape()),
        )),
        _ => Ok(()),
    }
}

/// Cross-entropy of logits [N, C] / [N, C, d...] against int64 class indices [N] / [N, d...] or
/// against class probabilities with the logits' shape.
pub fn cross_entropy(
    logits: &Tensor,
    target: &Tensor,
    weight: Option<&Tensor>,
    ignore_index: i64,
    reduction: Reduction,
    label_smoothing: f32,
) -> Result<Tensor> {
    const OP: &str = "cross_entropy";
    super::expect_f32(OP, logits)?;
    if !(0.0..=1.0).contains(&label_smoothing) {
        return Err(Error::arg(
            OP,
            "label_smoothing",
            "a value in [0, 1]",
            label_smoothing,
        ));
    }
    let rows = classes_last(OP, logits)?;
    let classes = rows.shape()[1];
    check_class_weight(OP, weight, classes)?;
    if target.dtype().is_float() {
        crate::ensure_shape!(
            target.shape() == logits.shape(),
            OP,
            "probability targets must have the input's shape {:?}, got {:?}",
            logits.shape(),
            target.shape()
        );
        let q = classes_last(OP, target)?;
        let q = if label_smoothing > 0.0 {
            q.affine(1.0 - label_smoothing, label_smoothing / classes as f32)?
        } else {
            q
        };
        let weighted = match weight {
            Some(w) => q.mul(w)?,
            None => q,
        };
        let per_row = rows
            .log_softmax(-1)?
            .mul(&weighted)?
            .sum(&[-1], false)?
            .neg()?;
        let per_row = per_row.reshape(&non_class_shape(logits))?;
        return reduction.apply(per_row);
    }
    if !matches!(target.dtype(), DType::I64 | DType::I32) {
        return Err(Error::dtype(
            OP,
            "int64 class indices or float probabilities",
            target.dtype(),
        ));
    }
    let expected = non_class_shape(logits);
    if let crate::Device::Cuda(_) = logits.device() {
        let targets = (target, ignore_index);
        return cross_entropy_cuda(logits, &rows, targets, weight, reduction, label_smoothing);
    }
    let t = class_targets(OP, target, logits, &expected, classes, ignore_index)?;
    let w = weight.map(|w| w.to_vec::<f32>()).transpose()?;
    let x = rows.contiguous()?;
    let fused = {
        let st = x.storage()?;
        match &*st {
            Storage::Cpu(_) => cross_entropy_rows(
                st.f32s(OP)?,
                classes,
                &t,
                w.as_deref(),
                ignore_index,
                label_smoothing,
            ),
            Storage::Cuda(_) => return Err(crate::storage::no_cuda_kernel(OP)),
        }
    };

    let row_grad = Tensor::from_vec(fused.grad, x.shape())?;
    let (out_shape, values, scale): (Vec<usize>, Vec<f32>, f32) = match reduction {
        Reduction::None => (expected.clone(), fused.loss, 1.0),
        Reduction::Sum => (vec![], vec![fused.loss.iter().sum()], 1.0),
        Reduction::Mean => {
            let denom: f32 = fused.row_weight.iter().sum();
            (
                vec![],
                vec![fused.loss.iter().sum::<f32>() / denom],
                1.0 / denom,
            )
        }
    };
    let logits_shape = logits.shape().to_vec();
    let rows_shape = x.shape().to_vec();
    let sums = row_coefficient_sums(&t, w.as_deref(), classes, ignore_index, label_smoothing);
    let coefficient_sums = Tensor::from_vec(sums, &[rows_shape[0], 1])?;
    Ok(Tensor::from_vec(values, &out_shape)?.attach_op(
        OP,
        &[logits],
        Box::new(move |g| {
            // Upstream gradient per row (a scalar for mean/sum), times the saved row gradients.
            let per_row = if g.rank() == 0 {
                g.mul_scalar(scale)?
            } else {
                g.reshape(&[rows_shape[0], 1])?
            };
            let row_grad = match crate::autograd::is_grad_enabled() {
                true => recorded_row_gradients(&row_grad, &x, &coefficient_sums)?,
                false => row_grad.clone(),
            };
            let dx = row_grad.mul(&per_row)?;
            Ok(vec![Some(restore_class_axis(&dx, &logits_shape)?)])
        }),
    ))
}

/// Each row's gradient is `S p - a` for the softmax `p` of its logits and constant class
/// coefficients `a` (the targets' weights, smoothed); `S = sum_c a_c` is
/// `(1 - e) w_t + (e / C) sum_c w_c`, or 0 for an ignored row.
fn row_coefficient_sums(
    targets: &[i64],
    weight: Option<&[f32]>,
    classes: usize,
    ignore_index: i64,
    smoothing: f32,
) -> Vec<f32> {
    let w = |c: usize| weight.map_or(1.0, |w| w[c]);
    let total: f32 = (0..classes).map(w).sum();
    targets
        .iter()
        .map(|&t| match t == ignore_index {
            true => 0.0,
            false => (1.0 - smoothing) * w(t as usize) + smoothing / classes as f32 * total,
        })
        .collect()
}

/// The saved row gradients `S p - a` with their dependence on the logits `x` recorded, for
/// create_graph walks: the same values plus `S (p - p)`, where the first `p` is a recorded softmax.
fn recorded_row_gradients(row_grad: &Tensor, x: &Tensor, sums: &Tensor) -> Result<Tensor> {
    let p = x.softmax(-1)?;
    row_grad.add(&p.sub(&p.detach())?.mul(sums)?)
}

/// `cross_entropy` with class-index targets on CUDA: the fused kernel writes per-row losses,
/// weights and logits' gradients on the device, checking the targets' range there too (reported at
/// the next synchronisation, see `cuda/fault.rs`); the reduction runs on the device, so nothing
/// waits for it.
fn cross_entropy_cuda(
    logits: &Tensor,
    rows: &Tensor,
    (target, ignore_index): (&Tensor, i64),
    weight: Option<&Tensor>,
    reduction: Reduction,
    label_smoothing: f32,
) -> Result<Tensor> {
    const OP: &str = "cross_entropy";
    super::same_device(OP, logits, target)?;
    if let Some(w) = weight {
        super::same_device(OP, logits, w)?;
    }
    let (n, classes) = (rows.shape()[0], rows.shape()[1]);
    let expected = non_class_shape(logits);
    crate::ensure_shape!(
        target.shape() == expected.as_slice(),
        OP,
        "target shape {:?} does not match input {:?} (expected {:?})",
        target.shape(),
        logits.shape(),
        expected
    );
    if !matches!(target.dtype(), DType::I64 | DType::I32) {
        return Err(Error::dtype(OP, "int64 class indices", target.dtype()));
    }
    let t = target.to_dtype(DType::I64)?.contiguous()?;
    let x = rows.contiguous()?;
    let w = weight.map(|w| w.contiguous()).transpose()?;
    let fused = {
        let (sx, st) = (x.storage()?, t.storage()?);
        let sw = w.as_ref().map(|w| w.storage()).transpose()?;
        let sw = sw.as_ref().map(|s| s.cuda(OP)).transpose()?;
        crate::cuda::loss::cross_entropy_rows(
            sx.cuda(OP)?,
            (n, classes),
            st.cuda(OP)?,
            sw,
            ignore_index,
            label_smoothing,
        )?
    };
    let device = |s, shape: &[usize]| {
        Tensor::from_storage(Storage::Cuda(s), crate::Layout::contiguous(shape))
    };
    let loss = device(fused.loss, &[n]);
    let row_weight = device(fused.row_weight, &[n]);
    let row_grad = device(fused.grad, &[n, classes]);
    let (values, denom) = match reduction {
        Reduction::None => (loss.reshape(&expected)?, None),
        Reduction::Sum => (loss.sum(&[], false)?, None),
        Reduction::Mean => {
            let denom = row_weight.sum(&[], false)?;
            (loss.sum(&[], false)?.div(&denom)?, Some(denom))
        }
    };
    let logits_shape = logits.shape().to_vec();
    Ok(values.attach_op(
        OP,
        &[logits],
        Box::new(move |g| {
            let per_row = match &denom {
                _ if g.rank() != 0 => g.reshape(&[n, 1])?,
                Some(d) => g.div(d)?,
                None => g.clone(),
            };
            let row_grad = match crate::autograd::is_grad_enabled() {
                true => {
                    let mut sums = row_weight.mul_scalar(1.0 - label_smoothing)?;
                    if label_smoothing > 0.0 {
                        // The smoothing's share of each kept row's sum (see `row_coefficient_sums`).
                        let total = match &w {
                            Some(w) => w.sum(&[], false)?,
                            None => Tensor::full(&[], classes as f64, DType::F32, x.device())?,
                        };
                        let ignored =
                            Tensor::full(&[], ignore_index as f64, DType::I64, t.device())?;
                        let kept = t.ne(&ignored)?.to_dtype(DType::F32)?;
                        let share = kept
                            .mul(&total)?
                            .mul_scalar(label_smoothing / classes as f32)?;
                        sums = sums.add(&share)?;
                    }
                    recorded_row_gradients(&row_grad, &x, &sums.reshape(&[n, 1])?)?
                }
                false => row_grad.clone(),
            };
            let dx = row_grad.mul(&per_row)?;
            Ok(vec![Some(restore_class_axis(&dx, &logits_shape)?)])
        }),
    ))
}

/// int64 class targets checked against the input: the shape without the class axis, and every
/// value a class in range or `ignore_index`.
fn class_targets(
    op: &'static str,
    target: &Tensor,
    input: &Tensor,
    expected: &[usize],
    classes: usize,
    ignore_index: i64,
) -> Result<Vec<i64>> {
    crate::ensure_shape!(
        target.shape() == expected,
        op,
        "target shape {:?} does not match input {:?} (expected {:?})",
        target.shape(),
        input.shape(),
        expected
    );
    let t = target.to_vec::<i64>()?;
    if let Some(&bad) = t
        .iter()
        .find(|&&v| v != ignore_index && (v < 0 || v as usize >= classes))
    {
        return Err(Error::arg(
            op,
            "target",
            format!("class indices in [0, {classes}) or ignore_index {ignore_index}"),
            bad,
        ));
    }
    Ok(t)
}

/// The logits' shape without the class axis.
fn non_class_shape(logits: &Tensor) -> Vec<usize> {
    let mut s = logits.shape().to_vec();
    if s.len() >= 2 {
        s.remove(1);
    }
    s
}

/// Inverse of `classes_last` for a gradient [N*d..., C].
fn restore_class_axis(rows: &Tensor, shape: &[usize]) -> Result<Tensor> {
    if shape.len() == 2 {
        return Ok(rows.clone());
    }
    let mut permuted: Vec<usize> = vec![shape[0]];
    permuted.extend(&shape[2..]);
    permuted.push(shape[1]);
    let r = shape.len();
    let mut perm = vec![0, r - 1];
    perm.extend(1..r - 1);
    rows.reshape(&permuted)?.permute(&perm)?.contiguous()
}

/// Negative log-likelihood of log-probabilities [N, C] / [N, C, d...] and int64 targets.
pub fn nll_loss(
    log_probs: &Tensor,
    target: &Tensor,
    weight: Option<&Tensor>,
    ignore_index: i64,
    reduction: Reduction,
) -> Result<Tensor> {
    const OP: &str = "nll_loss";
    super::expect_f32(OP, log_probs)?;
    let rows = classes_last(OP, log_probs)?;
    let classes = rows.shape()[1];
    check_class_weight(OP, weight, classes)?;
    // Targets and weights are read on the host (a small copy when they live on a GPU); the
    // picked rows and weights go back to the input's device.
    let host = crate::Device::Cpu;
    let w = weight
        .map(|w| w.to_device(host)?.to_vec::<f32>())
        .transpose()?;
    let expected = non_class_shape(log_probs);
    let t = class_targets(
        OP,
        &target.to_device(host)?,
        log_probs,
        &expected,
        classes,
        ignore_index,
    )?;
    let safe: Vec<i64> = t
        .iter()
        .map(|&v| if v == ignore_index { 0 } else { v })
        .collect();
    let row_w: Vec<f32> = t
        .iter()
        .map(|&v| {
            if v == ignore_index {
                0.0
            } else {
                w.as_ref().map_or(1.0, |w| w[v as usize])
            }
        })
        .collect();
    let device = log_probs.device();
    let picked = rows
        .gather(
            1,
            &Tensor::from_vec(safe, &[t.len(), 1])?.to_device(device)?,
        )?
        .reshape(&[t.len()])?;
    let rw = Tensor::from_vec(row_w.clone(), &[t.len()])?.to_device(device)?;
    let losses = picked.mul(&rw)?.neg()?;
    match reduction {
        Reduction::Mean => losses
            .sum(&[], false)?
            .mul_scalar(1.0 / row_w.iter().sum::<f32>()),
        Reduction::None => losses.reshape(&expected),
        Reduction::Sum => losses.sum(&[], false),
    }
}

fn check_same_shape(op: &'static str, input: &Tensor, target: &Tensor) -> Result<()> {
    crate::ensure_shape!(
        input.shape() == target.shape(),
        op,
        "input shape {:?} and target shape {:?} differ",
        input.shape(),
        target.shape()
    );
    super::expect_f32(op, input)?;
    super::expect_f32(op, target)
}

/// Mean squared error.
pub fn mse_loss(input: &Tensor, target: &Tensor, reduction: Reduction) -> Result<Tensor> {
    check_same_shape("mse_loss", input, target)?;
    reduction.apply(input.sub(target)?.square()?)
}

/// Mean absolute error.
pub fn l1_loss(input: &Tensor, target: &Tensor, reduction: Reduction) -> Result<Tensor> {
    check_same_shape("l1_loss", input, target)?;
    reduction.apply(input.sub(target)?.abs()?)
}

/// Huber-style loss: 0.5 d²/beta where |d| < beta, else |d| - 0.5 beta (beta = 0 gives L1).
pub fn smooth_l1_loss(
    input: &Tensor,
    target: &Tensor,
    reduction: Reduction,
    beta: f32,
) -> Result<Tensor> {
    check_same_shape("smooth_l1_loss", input, target)?;
    if beta < 0.0 {
        return Err(Error::arg("smooth_l1_loss", "beta", "a value >= 0", beta));
    }
    let d = input.sub(target)?;
    let ad = d.abs()?;
    if beta == 0.0 {
        return reduction.apply(ad);
    }
    let quadratic = d.square()?.mul_scalar(0.5 / beta)?;
    let linear = ad.add_scalar(-0.5 * beta)?;
    let small = ad.lt(&Tensor::full(&[], beta as f64, DType::F32, d.device())?)?;
    reduction.apply(small.where_cond(&quadratic, &linear)?)
}

/// Binary cross-entropy of probabilities; logs are clamped at -100 as in PyTorch.
pub fn binary_cross_entropy(
    probs: &Tensor,
    target: &Tensor,
    weight: Option<&Tensor>,
    reduction: Reduction,
) -> Result<Tensor> {
    check_same_shape("binary_cross_entropy", probs, target)?;
    for (name, values) in [("input", probs), ("target", target)] {
        check_probabilities("binary_cross_entropy", name, values)?;
    }
    let log_p = probs.log()?.clamp(-100.0, f32::INFINITY)?;
    let log_q = probs
        .affine(-1.0, 1.0)?
        .log()?
        .clamp(-100.0, f32::INFINITY)?;
    let mut losses = target
        .mul(&log_p)?
        .add(&target.affine(-1.0, 1.0)?.mul(&log_q)?)?
        .neg()?;
    if let Some(w) = weight {
        losses = losses.mul(w)?;
    }
    reduction.apply(losses)
}

/// Every value of a host tensor in [0, 1] (NaN fails), as PyTorch checks on the CPU: outside
/// it the loss is NaN or meaningless, which a training run would only show epochs later. A CUDA
/// tensor is not read back for the check (that would wait for the device).
fn check_probabilities(op: &'static str, name: &str, values: &Tensor) -> Result<()> {
    if values.device() != crate::Device::Cpu {
        return Ok(());
    }
    let bad =
        values.with_f32_slice(op, |v| v.iter().copied().find(|p| !(0.0..=1.0).contains(p)))?;
    match bad {
        Some(p) => Err(Error::arg(op, name, "values in [0, 1]", p)),
        None => Ok(()),
    }
}

/// Binary cross-entropy on logits in the stable form
/// `(1 - y) x + (1 + (pw - 1) y) (log(1 + exp(-|x|)) + max(-x, 0))`.
pub fn binary_cross_entropy_with_logits(
    logits: &Tensor,
    target: &Tensor,
    weight: Option<&Tensor>,
    pos_weight: Option<&Tensor>,
    reduction: Reduction,
) -> Result<Tensor> {
    check_same_shape("binary_cross_entropy_with_logits", logits, target)?;
    let softplus_neg = logits
        .abs()?
        .neg()?
        .exp()?
        .add_scalar(1.0)?
        .log()?
        .add(&logits.neg()?.relu()?)?;
    let coeff = match pos_weight {
        Some(pw) => target.mul(&pw.add_scalar(-1.0)?)?.add_scalar(1.0)?,
        None => Tensor::ones(&[], DType::F32, logits.device())?,
    };
    let mut losses = target
        .affine(-1.0, 1.0)?
        .mul(logits)?
        .add(&coeff.mul(&softplus_neg)?)?;
    if let Some(w) = weight {
        losses = losses.mul(w)?;
    }
    reduction.apply(losses)
}

/// KL divergence with `input` = log q; `target` is p (or log p with `log_target`).
pub fn kl_div(
    input: &Tensor,
    target: &Tensor,
    reduction: KlReduction,
    log_target: bool,
) -> Result<Tensor> {
    check_same_shape("kl_div", input, target)?;
    let pointwise = if log_target {
        target.exp()?.mul(&target.sub(input)?)?
    } else {
        // p log p is 0 where p = 0; the mask keeps log's -inf (and its NaN gradient) out.
        let positive = target.gt_scalar(0.0)?;
        let one = Tensor::ones(&[], DType::F32, target.device())?;
        let safe = positive.where_cond(target, &one)?;
        let plogp = positive.where_cond(&safe.mul(&safe.log()?)?, &target.zeros_like()?)?;
        plogp.sub(&target.mul(input)?)?
    };
    match reduction {
        KlReduction::None => Ok(pointwise),
        KlReduction::Mean => pointwise.mean(&[], false),
        KlReduction::Sum => pointwise.sum(&[], false),
        KlReduction::BatchMean => {
            let n = input.shape().first().copied().unwrap_or(1).max(1);
            pointwise.sum(&[], false)?.mul_scalar(1.0 / n as f32)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::gradcheck;

    use crate::testing::random_leaf as leaf;

    /// A loop over rows with PyTorch's definition, in f64.
    fn reference(x: &[f32], c: usize, t: &[i64], w: &[f32], ignore: i64, eps: f64) -> f64 {
        let (mut total, mut denom) = (0.0, 0.0);
        for (i, &ti) in t.iter().enumerate() {
            if ti == ignore {
                continue;
            }
            let row: Vec<f64> = x[i * c..(i + 1) * c].iter().map(|&v| v as f64).collect();
            let lse = row.iter().map(|v| v.exp()).sum::<f64>().ln();
            let hard = w[ti as usize] as f64 * (lse - row[ti as usize]);
            let smooth: f64 = (0..c).map(|k| w[k] as f64 * (lse - row[k])).sum();
            total += (1.0 - eps) * hard + eps / c as f64 * smooth;
            denom += w[ti as usize] as f64;
        }
        total / denom
    }

    #[test]
    fn cross_entropy_matches_definition_and_gradients() {
        let x = leaf(&[5, 4], 1);
        let t = Tensor::from_vec(vec![3i64, 0, -100, 2, 1], &[5]).unwrap();
        let wv = vec![0.5f32, 1.0, 2.0, 1.5];
        let w = Tensor::from_vec(wv.clone(), &[4]).unwrap();
        let got = cross_entropy(&x, &t, Some(&w), -100, Reduction::Mean, 0.1)
            .unwrap()
            .item()
            .unwrap();
        let want = reference(
            &x.to_vec::<f32>().unwrap(),
            4,
            &t.to_vec::<i64>().unwrap(),
            &wv,
            -100,
            0.1,
        );
        assert!((got - want).abs() < 1e-5, "{got} vs {want}");
        gradcheck(
            |v| cross_entropy(&v[0], &t, Some(&w), -100, Reduction::Mean, 0.1),
            std::slice::from_ref(&x),
            1e-2,
            1e-2,
        );
        gradcheck(
            |v| cross_entropy(&v[0], &t, None, -100, Reduction::None, 0.0),
            std::slice::from_ref(&x),
            1e-2,
            1e-2,
        );
        let img = leaf(&[2, 3, 2, 2], 2);
        let ti = Tensor::from_vec(vec![0i64, 1, 2, 0, 2, 2, 1, 0], &[2, 2, 2]).unwrap();
        gradcheck(
            |v| cross_entropy(&v[0], &ti, None, -100, Reduction::Sum, 0.0),
            &[img],
            1e-2,
            1e-2,
        );
        let bad = Tensor::from_vec(vec![4i64, 0, 0, 0, 0], &[5]).unwrap();
        assert!(cross_entropy(&x, &bad, None, -100, Reduction::Mean, 0.0).is_err());
    }

    #[test]
    fn probability_targets_equal_index_targets_for_one_hot() {
        let x = leaf(&[3, 4], 3);
        let t = Tensor::from_vec(vec![1i64, 3, 0], &[3]).unwrap();
        let a = cross_entropy(&x, &t, None, -100, Reduction::Mean, 0.2)
            .unwrap()
            .item()
            .unwrap();
        let b = cross_entropy(&x, &t.one_hot(4).unwrap(), None, -100, Reduction::Mean, 0.2)
            .unwrap()
            .item()
            .unwrap();
        assert!((a - b).abs() < 1e-5, "{a} vs {b}");
        let n = nll_loss(&x.log_softmax(1).unwrap(), &t, None, -100, Reduction::Mean)
            .unwrap()
            .item()
            .unwrap();
        let c = cross_entropy(&x, &t, None, -100, Reduction::Mean, 0.0)
            .unwrap()
            .item()
            .unwrap();
        assert!((n - c).abs() < 1e-5);
    }

    #[test]
    fn elementwise_losses_have_correct_gradients() {
        let (x, y) = (leaf(&[3, 4], 4), leaf(&[3, 4], 5));
        gradcheck(
            |v| mse_loss(&v[0], &v[1], Reduction::Mean),
            &[x.clone(), y.clone()],
            1e-2,
            1e-2,
        );
        gradcheck(
            |v| smooth_l1_loss(&v[0], &v[1], Reduction::Sum, 0.5),
            &[x.clone(), y.clone()],
            1e-3,
            1e-2,
        );
        let p = x.sigmoid().unwrap().detach();
        p.set_requires_grad(true).unwrap();
        let q = y.sigmoid().unwrap().detach();
        gradcheck(
            |v| binary_cross_entropy(&v[0], &q, None, Reduction::Mean),
            &[p],
            1e-3,
            1e-2,
        );
        gradcheck(
            |v| binary_cross_entropy_with_logits(&v[0], &q, None, None, Reduction::Mean),
            std::slice::from_ref(&x),
            1e-3,
            1e-2,
        );
        gradcheck(
            |v| kl_div(&v[0].log_softmax(1)?, &q, KlReduction::BatchMean, false),
            &[x],
            1e-3,
            1e-2,
        );
    }
}
