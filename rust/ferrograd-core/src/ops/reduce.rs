//! Reductions over axes (sum, mean, max, min, argmax, argmin, var), with keepdim.

use super::integer::{is_integral, IntegralReduce};
use crate::cpu::reduce::{arg_rows, reduce_rows, sum_axes_contiguous, RowReduce};
use crate::layout::normalize_axis;
use crate::{CpuStorage, DType, Error, Result, Storage, Tensor};

/// Axes normalised, sorted and deduplicated; an empty list means all axes.
fn resolve_axes(op: &'static str, axes: &[isize], rank: usize) -> Result<Vec<usize>> {
    if axes.is_empty() {
        return Ok((0..rank).collect());
    }
    let mut out = axes
        .iter()
        .map(|&a| normalize_axis(op, a, rank))
        .collect::<Result<Vec<_>>>()?;
    out.sort_unstable();
    out.dedup();
    Ok(out)
}

/// Output shape of a reduction: reduced axes become 1 (keepdim) or disappear.
fn reduced_shape(shape: &[usize], axes: &[usize], keepdim: bool) -> Vec<usize> {
    shape
        .iter()
        .enumerate()
        .filter_map(|(i, &d)| match (axes.contains(&i), keepdim) {
            (true, true) => Some(1),
            (true, false) => None,
            (false, _) => Some(d),
        })
        .collect()
}

impl Tensor {
    /// Reduces `axes` (moved last, so each output reduces one row of `inner` elements) on the
    /// tensor's device: f32 values, or int64 indices for arg-reductions.
    fn reduce_raw(
        &self,
        op: &'static str,
        axes: &[usize],
        keepdim: bool,
        kind: RowReduce,
    ) -> Result<(Vec<usize>, Storage)> {
        super::expect_f32(op, self)?;
        let kept: Vec<usize> = (0..self.rank()).filter(|i| !axes.contains(i)).collect();
        let perm: Vec<usize> = kept.iter().chain(axes.iter()).copied().collect();
        let layout = self.layout().permute(&perm)?;
        let inner: usize = axes.iter().map(|&a| self.shape()[a]).product();
        let out_shape = reduced_shape(self.shape(), axes, keepdim);
        if inner == 0 {
            if kind != RowReduce::Sum {
                return Err(Error::shape(
                    op,
                    format!("cannot reduce an empty axis of shape {:?}", self.shape()),
                ));
            }
            let zeros = Tensor::zeros(&out_shape, DType::F32, self.device())?;
            let st = zeros.storage()?.copy_layout(zeros.layout())?;
            return Ok((out_shape, st));
        }
        let st = self.storage()?;
        let out = match &*st {
            Storage::Cpu(_) => {
                let data = CpuStorage::gather_layout(st.f32s(op)?, &layout);
                Storage::Cpu(match kind {
                    RowReduce::ArgMax => CpuStorage::I64(arg_rows(&data, inner, true)),
                    RowReduce::ArgMin => CpuStorage::I64(arg_rows(&data, inner, false)),
                    _ => CpuStorage::F32(reduce_rows(&data, inner, kind)),
                })
            }
            // Leading reduced axes of a contiguous tensor are columns: read them row by row.
            Storage::Cuda(s)
                if self.layout().is_contiguous()
                    && axes.iter().enumerate().all(|(i, &a)| i == a)
                    && !kept.is_empty()
                    && matches!(kind, RowReduce::Sum | RowReduce::Max | RowReduce::Min) =>
            {
                let cols = self.numel() / inner;
                Storage::Cuda(crate::cuda::reduce::columns(
                    s,
                    self.layout().offset(),
                    (inner, cols),
                    kind,
                )?)
            }
            Storage::Cuda(s) => Storage::Cuda(crate::cuda::reduce::rows(s, &layout, inner, kind)?),
        };
        Ok((out_shape, out))
    }

    /// Sum over `axes` (sorted, deduplicated, non-negative); integers and bools count in int64.
    pub fn sum_axes(&self, axes: &[usize], keepdim: bool) -> Result<Tensor> {
        if is_integral(self.dtype()) {
            return self.integral_reduce("sum", axes, keepdim, IntegralReduce::Sum);
        }
        if let Some(dtype) = super::half_result(&[self]) {
            return super::widened(&[self], dtype, |t| t[0].sum_axes(axes, keepdim));
        }
        let (shape, values) = if self.device() == crate::Device::Cpu {
            super::expect_f32("sum", self)?;
            let st = self.storage()?;
            let data = st.f32s("sum")?;
            // Contiguous inputs are read in place; other views are gathered once first.
            let sums = match self.layout().contiguous_range() {
                Some((a, b)) => sum_axes_contiguous(&data[a..b], self.shape(), axes),
                None => sum_axes_contiguous(
                    &CpuStorage::gather_layout(data, self.layout()),
                    self.shape(),
                    axes,
                ),
            };
            (
                reduced_shape(self.shape(), axes, keepdim),
                Storage::Cpu(CpuStorage::F32(sums)),
            )
        } else {
            self.reduce_raw("sum", axes, keepdim, RowReduce::Sum)?
        };
        let in_shape = self.shape().to_vec();
        let kept_shape = reduced_shape(&in_shape, axes, true);
        Ok(Tensor::from_op(
            values,
            &shape,
            "sum",
            &[self],
            Box::new(move |g| {
                Ok(vec![Some(
                    g.reshape(&kept_shape)?.expand(&in_shape)?.contiguous()?,
                )])
            }),
        ))
    }

    /// Sum over `dims` (empty: all), PyTorch-style signed axes.
    pub fn sum(&self, dims: &[isize], keepdim: bool) -> Result<Tensor> {
        let axes = resolve_axes("sum", dims, self.rank())?;
        self.sum_axes(&axes, keepdim)
    }

    /// Mean over `dims` (empty: all).
    pub fn mean(&self, dims: &[isize], keepdim: bool) -> Result<Tensor> {
        let axes = resolve_axes("mean", dims, self.rank())?;
        // A 0-d tensor (axis 0 accepted) holds one element.
        let n: usize = axes
            .iter()
            .map(|&a| self.shape().get(a).copied().unwrap_or(1))
            .product();
        self.sum_axes(&axes, keepdim)?.mul_scalar(1.0 / n as f32)
    }

    /// Variance over `dims` with Bessel's `correction` (1 = unbiased, as torch.var's default).
    pub fn var(&self, dims: &[isize], correction: usize, keepdim: bool) -> Result<Tensor> {
        let axes = resolve_axes("var", dims, self.rank())?;
        // A 0-d tensor (axis 0 accepted) holds one element.
        let n: usize = axes
            .iter()
            .map(|&a| self.shape().get(a).copied().unwrap_or(1))
            .product();
        let centered = self.sub(&self.sum_axes(&axes, true)?.mul_scalar(1.0 / n as f32)?)?;
        let denom = n.saturating_sub(correction) as f32;
        centered
            .square()?
            .sum_axes(&axes, keepdim)?
            .mul_scalar(1.0 / denom)
    }

    /// Index of the maximum along `dim` (int64; the first one at ties).
    pub fn argmax(&self, dim: isize, keepdim: bool) -> Result<Tensor> {
        self.arg_reduce("argmax", dim, keepdim, true)
    }

    /// Index of the minimum along `dim` (int64).
    pub fn argmin(&self, dim: isize, keepdim: bool) -> Result<Tensor> {
        self.arg_reduce("argmin", dim, keepdim, false)
    }

    fn arg_reduce(&self, op: &'static str, dim: isize, keepdim: bool, max: bool) -> Result<Tensor> {
        let axis = normalize_axis(op, dim, self.rank())?;
        if is_integral(self.dtype()) {
            let kind = if max {
                IntegralReduce::ArgMax
            } else {
                IntegralReduce::ArgMin
            };
            return self.integral_reduce(op, &[axis], keepdim, kind);
        }
        let kind = if max {
            RowReduce::ArgMax
        } else {
            RowReduce::ArgMin
        };
        let (shape, indices) = self.reduce_raw(op, &[axis], keepdim, kind)?;
        Ok(Tensor::from_storage(
            indices,
            crate::Layout::contiguous(&shape),
        ))
    }

    /// Maximum along `dim`; the gradient flows to the (first) arg-max.
    pub fn max_dim(&self, dim: isize, keepdim: bool) -> Result<Tensor> {
        self.extremum_dim("max", dim, keepdim, true)
    }

    /// Minimum along `dim`; the gradient flows to the (first) arg-min.
    pub fn min_dim(&self, dim: isize, keepdim: bool) -> Result<Tensor> {
        self.extremum_dim("min", dim, keepdim, false)
    }

    fn extremum_dim(
        &self,
        op: &'static str,
        dim: isize,
        keepdim: bool,
        max: bool,
    ) -> Result<Tensor> {
        let axis = normalize_axis(op, dim, self.rank())?;
        if is_integral(self.dtype()) {
            return self.integral_reduce(op, &[axis], keepdim, integral_extremum(max));
        }
        let kind = if max { RowReduce::Max } else { RowReduce::Min };
        let (shape, values) = self.reduce_raw(op, &[axis], keepdim, kind)?;
        let index = self.arg_reduce(op, dim, true, max)?;
        let in_shape = self.shape().to_vec();
        Ok(Tensor::from_op(
            values,
            &shape,
            op,
            &[self],
            Box::new(move |g| {
                let mut kept = in_shape.clone();
                kept[axis] = 1;
                let zeros = Tensor::zeros(&in_shape, DType::F32, g.device())?;
                Ok(vec![Some(zeros.scatter_add(
                    axis,
                    &index,
                    &g.reshape(&kept)?,
                )?)])
            }),
        ))
    }

    /// Maximum of all elements; ties share the gradient equally, as in PyTorch.
    pub fn max_all(&self) -> Result<Tensor> {
        self.extremum_all("max", true)
    }

    /// Minimum of all elements.
    pub fn min_all(&self) -> Result<Tensor> {
        self.extremum_all("min", false)
    }

    fn extremum_all(&self, op: &'static str, max: bool) -> Result<Tensor> {
        let axes: Vec<usize> = (0..self.rank()).collect();
        if is_integral(self.dtype()) {
            return self.integral_reduce(op, &axes, false, integral_extremum(max));
        }
        let kind = if max { RowReduce::Max } else { RowReduce::Min };
        let (_, values) = self.reduce_raw(op, &axes, false, kind)?;
        let x = self.clone();
        Ok(Tensor::from_op_saving_output(
            values,
            &[],
            op,
            &[self],
            move |y| {
                Box::new(move |g| {
                    let mask = x.eq(&y)?.to_dtype(DType::F32)?;
                    let count = mask.sum(&[], false)?;
                    Ok(vec![Some(mask.mul(&g.div(&count)?)?)])
                })
            },
        ))
    }
}

/// The integer reduction for a maximum (`max`) or a minimum.
fn integral_extremum(max: bool) -> IntegralReduce {
    match max {
        true => IntegralReduce::Max,
        false => IntegralReduce::Min,
    }
}
