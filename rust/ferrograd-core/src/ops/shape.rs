//! View and layout ops: reshape, permute, transpose, expand, squeeze/unsqueeze, slicing, and the
//! copying ones built on strided writes: concat, stack, pad.

use crate::layout::normalize_axis;
use crate::{Error, Layout, Result, Tensor};

/// Resolves one `-1` in a requested shape against the element count.
fn infer_shape(op: &'static str, numel: usize, shape: &[isize]) -> Result<Vec<usize>> {
    let unknown: Vec<usize> = shape
        .iter()
        .enumerate()
        .filter(|(_, &d)| d == -1)
        .map(|(i, _)| i)
        .collect();
    if unknown.len() > 1 || shape.iter().any(|&d| d < -1) {
        return Err(Error::arg(
            op,
            "shape",
            "sizes >= 0 with at most one -1",
            format!("{shape:?}"),
        ));
    }
    let known: usize = shape
        .iter()
        .filter(|&&d| d >= 0)
        .map(|&d| d as usize)
        .product();
    let mut out: Vec<usize> = shape.iter().map(|&d| d.max(0) as usize).collect();
    if let Some(&i) = unknown.first() {
        if known == 0 || !numel.is_multiple_of(known) {
            return Err(Error::shape(
                op,
                format!("shape {shape:?} is invalid for input of size {numel}"),
            ));
        }
        out[i] = numel / known;
    }
    if out.iter().product::<usize>() != numel {
        return Err(Error::shape(
            op,
            format!("shape {shape:?} is invalid for input of size {numel}"),
        ));
    }
    Ok(out)
}

impl Tensor {
    /// A new handle on the same elements and layout, recorded as a view: what a user-facing
    /// reshape to the same shape returns (as PyTorch does), so the result is not the input
    /// itself — its grad flag, hooks and gradient are its own.
    pub fn alias_view(&self) -> Tensor {
        self.view_op(
            self.layout().clone(),
            "view",
            Box::new(|g| Ok(vec![Some(g.clone())])),
        )
    }

    /// Same elements, new shape (a view when the layout allows, else a copy).
    pub fn reshape(&self, shape: &[usize]) -> Result<Tensor> {
        let n: usize = shape.iter().product();
        crate::ensure_shape!(
            n == self.numel(),
            "reshape",
            "shape {shape:?} is invalid for input of shape {:?}",
            self.shape()
        );
        if self.shape() == shape {
            return Ok(self.clone());
        }
        let src = if self.layout().is_contiguous() {
            self.clone()
        } else {
            self.contiguous()?
        };
        let layout = src
            .layout()
            .reshape(shape)
            .ok_or_else(|| Error::shape("reshape", "layout is not viewable"))?;
        let in_shape = self.shape().to_vec();
        Ok(src.view_op(
            layout,
            "reshape",
            Box::new(move |g| Ok(vec![Some(g.reshape(&in_shape)?)])),
        ))
    }

    /// Reshape with PyTorch's signed sizes (one may be -1).
    pub fn view_signed(&self, shape: &[isize]) -> Result<Tensor> {
        let s = infer_shape("reshape", self.numel(), shape)?;
        self.reshape(&s)
    }

    /// Flattens axes `start..=end` into one.
    pub fn flatten(&self, start: isize, end: isize) -> Result<Tensor> {
        if self.rank() == 0 {
            return self.reshape(&[1]);
        }
        let s = normalize_axis("flatten", start, self.rank())?;
        let e = normalize_axis("flatten", end, self.rank())?;
        if s > e {
            return Err(Error::arg(
                "flatten",
                "start_dim",
                format!("<= end_dim ({e})"),
                s,
            ));
        }
        let mut shape: Vec<usize> = self.shape()[..s].to_vec();
        shape.push(self.shape()[s..=e].iter().product());
        shape.extend_from_slice(&self.shape()[e + 1..]);
        self.reshape(&shape)
    }

    /// Reorders the axes (a view).
    pub fn permute(&self, dims: &[usize]) -> Result<Tensor> {
        let layout = self.layout().permute(dims)?;
        let mut inverse = vec![0; dims.len()];
        for (i, &d) in dims.iter().enumerate() {
            inverse[d] = i;
        }
        Ok(self.view_op(
            layout,
            "permute",
            Box::new(move |g| Ok(vec![Some(g.permute(&inverse)?)])),
        ))
    }

    /// Swaps two axes (a view).
    pub fn transpose(&self, a: isize, b: isize) -> Result<Tensor> {
        let a = normalize_axis("transpose", a, self.rank())?;
        let b = normalize_axis("transpose", b, self.rank())?;
        if self.rank() == 0 {
            return Ok(self.clone());
        }
        let mut dims: Vec<usize> = (0..self.rank()).collect();
        dims.swap(a, b);
        self.permute(&dims)
    }

    /// Broadcasts to `shape` without copying.
    pub fn expand(&self, shape: &[usize]) -> Result<Tensor> {
        if self.shape() == shape {
            return Ok(self.clone());
        }
        let layout = self.layout().broadcast_to(shape)?;
        let in_shape = self.shape().to_vec();
        Ok(self.view_op(
            layout,
            "expand",
            Box::new(move |g| Ok(vec![Some(g.sum_to(&in_shape)?)])),
        ))
    }

    /// Inserts a size-1 axis at `dim`.
    pub fn unsqueeze(&self, dim: isize) -> Result<Tensor> {
        let d = normalize_axis("unsqueeze", dim, self.rank() + 1)?;
        let mut shape = self.shape().to_vec();
        shape.insert(d, 1);
        self.reshape(&shape)
    }

    /// Removes size-1 axes (`dim` None: all of them).
    pub fn squeeze(&self, dim: Option<isize>) -> Result<Tensor> {
        match dim {
            None => {
                let shape: Vec<usize> = self.shape().iter().copied().filter(|&d| d != 1).collect();
                self.reshape(&shape)
            }
            Some(dim) => self.squeeze_axes(&[dim]),
        }
    }

    /// Removes those of the axes `dims` that have size 1; the others stay, as in PyTorch. A
    /// 0-d tensor has no axis to remove (axis 0 / -1 is accepted).
    pub fn squeeze_axes(&self, dims: &[isize]) -> Result<Tensor> {
        let mut chosen = vec![false; self.rank().max(1)];
        for &dim in dims {
            let d = normalize_axis("squeeze", dim, self.rank())?;
            if std::mem::replace(&mut chosen[d], true) {
                return Err(Error::arg(
                    "squeeze",
                    "dim",
                    "distinct axes",
                    format!("{dims:?}"),
                ));
            }
        }
        let shape: Vec<usize> = self
            .shape()
            .iter()
            .zip(&chosen)
            .filter(|&(&size, &chosen)| !(chosen && size == 1))
            .map(|(&size, _)| size)
            .collect();
        self.reshape(&shape)
    }

    /// `len` elements along `dim` from `start` with `step` (a view).
    pub fn slice(&self, dim: usize, start: usize, len: usize, step: usize) -> Result<Tensor> {
        if dim >= self.rank() {
            return Err(Error::arg(
                "slice",
                "dim",
                format!("< {}", self.rank()),
                dim,
            ));
        }
        let layout = self.layout().slice(dim, start, len, step)?;
        let in_shape = self.shape().to_vec();
        Ok(self.view_op(
            layout,
            "slice",
            Box::new(move |g| {
                let recording = crate::autograd::is_grad_enabled();
                if recording && step == 1 {
                    // A create_graph walk: zero padding around `g` is the recorded form.
                    let mut pads = vec![(0, 0); in_shape.len() - dim];
                    pads[in_shape.len() - 1 - dim] = (start, in_shape[dim] - start - len);
                    return Ok(vec![Some(g.pad(&pads, 0.0)?)]);
                }
                let full = Tensor::zeros(&in_shape, g.dtype(), g.device())?;
                full.slice(dim, start, len, step)?.assign(g)?;
                Ok(crate::double_backward::unless_recorded(
                    "slice",
                    vec![Some(full)],
                    &[g],
                ))
            }),
        ))
    }

    /// Entry `index` of axis `dim`, with that axis removed: a view (PyTorch's `select`, what
    /// `t[:, i]` gives), so writes through it reach this tensor.
    pub fn select(&self, dim: usize, index: usize) -> Result<Tensor> {
        let one = self.slice(dim, index, 1, 1)?;
        let (mut shape, mut strides) = (one.shape().to_vec(), one.layout().strides().to_vec());
        shape.remove(dim);
        strides.remove(dim);
        let layout = Layout::new(shape, strides, one.layout().offset());
        Ok(one.view_op(
            layout,
            "select",
            Box::new(move |g| Ok(vec![Some(g.unsqueeze(dim as isize)?)])),
        ))
    }

    /// Narrowing without step: elements `start..start+len` of `dim`.
    pub fn narrow(&self, dim: isize, start: usize, len: usize) -> Result<Tensor> {
        crate::ensure_shape!(
            self.rank() > 0,
            "narrow",
            "the input needs at least one dimension, got a 0-d tensor"
        );
        let d = normalize_axis("narrow", dim, self.rank())?;
        self.slice(d, start, len, 1)
    }

    /// Joins tensors along an existing axis.
    pub fn cat(tensors: &[Tensor], dim: isize) -> Result<Tensor> {
        let first = tensors
            .first()
            .ok_or_else(|| Error::arg("cat", "tensors", "a non-empty list", "an empty list"))?;
        crate::ensure_shape!(
            first.rank() > 0,
            "cat",
            "0-d tensors cannot be concatenated; stack them instead"
        );
        let d = normalize_axis("cat", dim, first.rank())?;
        let mut shape = first.shape().to_vec();
        shape[d] = 0;
        for t in tensors {
            let same_rest = t.rank() == first.rank()
                && (0..t.rank()).all(|i| i == d || t.shape()[i] == first.shape()[i]);
            crate::ensure_shape!(
                same_rest,
                "cat",
                "expected shapes matching {:?} except in dim {d}, got {:?}",
                first.shape(),
                t.shape()
            );
            if t.dtype() != first.dtype() {
                return Err(Error::dtype("cat", first.dtype(), t.dtype()));
            }
            super::same_device("cat", first, t)?;
            shape[d] += t.shape()[d];
        }
        let out = Tensor::zeros(&shape, first.dtype(), first.device())?;
        let mut at = 0;
        let mut sizes = Vec::with_capacity(tensors.len());
        for t in tensors {
            let n = t.shape()[d];
            out.slice(d, at, n, 1)?.assign(t)?;
            sizes.push(n);
            at += n;
        }
        let refs: Vec<&Tensor> = tensors.iter().collect();
        Ok(out.attach_op(
            "cat",
            &refs,
            Box::new(move |g| {
                let mut at = 0;
                sizes
                    .iter()
                    .map(|&n| {
                        let part = g.slice(d, at, n, 1)?.contiguous()?;
                        at += n;
                        Ok(Some(part))
                    })
                    .collect()
            }),
        ))
    }

    /// Joins tensors of one shape along a new axis.
    pub fn stack(tensors: &[Tensor], dim: isize) -> Result<Tensor> {
        let first = tensors
            .first()
            .ok_or_else(|| Error::arg("stack", "tensors", "a non-empty list", "an empty list"))?;
        let d = normalize_axis("stack", dim, first.rank() + 1)?;
        let parts = tensors
            .iter()
            .map(|t| {
                crate::ensure_shape!(
                    t.shape() == first.shape(),
                    "stack",
                    "expected all shapes {:?}, got {:?}",
                    first.shape(),
                    t.shape()
                );
                t.unsqueeze(d as isize)
            })
            .collect::<Result<Vec<_>>>()?;
        Tensor::cat(&parts, d as isize)
    }

    /// Constant padding; `pads` lists (before, after) pairs starting from the LAST axis, as in
    /// torch.nn.functional.pad.
    pub fn pad(&self, pads: &[(usize, usize)], value: f32) -> Result<Tensor> {
        if pads.len() > self.rank() {
            return Err(Error::arg(
                "pad",
                "pad",
                format!("at most {} (before, after) pairs", self.rank()),
                pads.len(),
            ));
        }
        super::expect_f32("pad", self)?;
        let mut shape = self.shape().to_vec();
        let mut starts = vec![0; self.rank()];
        for (i, &(before, after)) in pads.iter().enumerate() {
            let axis = self.rank() - 1 - i;
            shape[axis] += before + after;
            starts[axis] = before;
        }
        let out = Tensor::full(&shape, value as f64, self.dtype(), self.device())?;
        let mut inner = out.clone();
        for (axis, &s) in starts.iter().enumerate() {
            inner = inner.slice(axis, s, self.shape()[axis], 1)?;
        }
        inner.assign(self)?;
        let in_shape = self.shape().to_vec();
        Ok(out.attach_op(
            "pad",
            &[self],
            Box::new(move |g| {
                let mut inner = g.clone();
                for (axis, &s) in starts.iter().enumerate() {
                    inner = inner.slice(axis, s, in_shape[axis], 1)?;
                }
                Ok(vec![Some(inner.contiguous()?)])
            }),
        ))
    }
}
