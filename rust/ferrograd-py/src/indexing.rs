//! Python indexing (`t[0, 1:3, ..., None, idx]`) translated into views and index_select.

use ferrograd_core::{DType, Tensor};
use pyo3::exceptions::PyIndexError;
use pyo3::prelude::*;
use pyo3::types::{PyEllipsis, PyNone, PySlice, PyTuple};

use crate::convert::operand;
use crate::errors::IntoPy;

/// Applies a Python index expression to `t`.
pub fn index(t: &Tensor, key: &Bound<'_, PyAny>) -> PyResult<Tensor> {
    let items: Vec<Bound<'_, PyAny>> = match key.cast::<PyTuple>() {
        Ok(tup) => tup.iter().collect(),
        Err(_) => vec![key.clone()],
    };
    let consumes =
        |k: &Bound<'_, PyAny>| !(k.is_instance_of::<PyNone>() || k.is_instance_of::<PyEllipsis>());
    let used = items.iter().filter(|k| consumes(k)).count();
    if used > t.rank() {
        return Err(PyIndexError::new_err(format!(
            "too many indices for tensor of dimension {}: got {used}",
            t.rank()
        )));
    }
    let mut out = t.clone();
    let mut dim = 0usize;
    for k in &items {
        if k.is_instance_of::<PyEllipsis>() {
            dim += t.rank() - used;
            continue;
        }
        if k.is_instance_of::<PyNone>() {
            out = out.unsqueeze(dim as isize).py()?;
            dim += 1;
            continue;
        }
        let size = out.shape()[dim];
        if let Ok(s) = k.cast::<PySlice>() {
            let ind = s.indices(size as isize)?;
            if ind.step <= 0 {
                return Err(PyIndexError::new_err(format!(
                    "slice step must be positive, got {}",
                    ind.step
                )));
            }
            out = out
                .slice(
                    dim,
                    ind.start.max(0) as usize,
                    ind.slicelength,
                    ind.step as usize,
                )
                .py()?;
            dim += 1;
            continue;
        }
        if let Ok(i) = k.extract::<i64>() {
            let j = if i < 0 { i + size as i64 } else { i };
            if j < 0 || j >= size as i64 {
                return Err(PyIndexError::new_err(format!(
                    "index {i} is out of bounds for dimension {dim} with size {size}"
                )));
            }
            let mut shape = out.shape().to_vec();
            shape.remove(dim);
            out = out
                .slice(dim, j as usize, 1, 1)
                .py()?
                .reshape(&shape)
                .py()?;
            continue;
        }
        let like = Tensor::zeros(&[], DType::I64, t.device()).py()?;
        let idx = operand(k, &like).map_err(|_| {
            PyIndexError::new_err("only integers, slices, None, Ellipsis and 1-D integer tensors or arrays are valid indices")
        })?;
        if !matches!(idx.dtype(), DType::I64 | DType::I32) || idx.rank() != 1 {
            return Err(PyIndexError::new_err(format!(
                "a tensor index must be a 1-D integer tensor, got dtype {} and shape {:?}",
                idx.dtype(),
                idx.shape()
            )));
        }
        let idx = wrap_negative(&idx, size)?;
        out = out.index_select(dim as isize, &idx).py()?;
        dim += 1;
    }
    Ok(out)
}

/// Negative indices count from the end, as in numpy.
fn wrap_negative(idx: &Tensor, size: usize) -> PyResult<Tensor> {
    let v: Vec<i64> = idx.to_vec::<i64>().py()?;
    let fixed: Vec<i64> = v
        .iter()
        .map(|&i| if i < 0 { i + size as i64 } else { i })
        .collect();
    Tensor::from_vec(fixed, &[v.len()]).py()
}
