//! Python indexing (`t[0, 1:3, ..., None, idx]`) translated into views and index_select.

use ferrograd_core::{DType, Tensor};
use pyo3::exceptions::PyIndexError;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyEllipsis, PyList, PyNone, PySlice, PyTuple};

use crate::convert::operand;
use crate::errors::IntoPy;

/// Applies a Python index expression to `t`.
pub fn index(t: &Tensor, key: &Bound<'_, PyAny>) -> PyResult<Tensor> {
    let items: Vec<Bound<'_, PyAny>> = match key.cast::<PyTuple>() {
        Ok(tup) => tup.iter().collect(),
        Err(_) => vec![key.clone()],
    };
    let used: usize = items.iter().map(consumed_dims).sum();
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
        let idx = match list_index(k)? {
            Some(idx) => idx,
            None => {
                let like = Tensor::zeros(&[], DType::I64, t.device()).py()?;
                operand(k, &like).map_err(|_| {
                    PyIndexError::new_err("only integers, slices, None, Ellipsis, lists of integers or bools, 1-D integer tensors or arrays and bool masks are valid indices")
                })?
            }
        };
        if idx.dtype() == DType::Bool {
            out = select_by_mask(&out, dim, &idx)?;
            dim += 1;
            continue;
        }
        if !matches!(idx.dtype(), DType::I64 | DType::I32) || idx.rank() != 1 {
            return Err(PyIndexError::new_err(format!(
                "a tensor index must be a 1-D integer tensor, got dtype {} and shape {:?}",
                idx.dtype(),
                idx.shape()
            )));
        }
        let idx = wrap_negative(&idx, size, dim)?;
        out = out.index_select(dim as isize, &idx).py()?;
        dim += 1;
    }
    Ok(out)
}

/// A Python list as an index, as in PyTorch: a list of bools is a mask, a list of ints picks
/// positions (`t[[0, 2]]`). `None` for anything that is not a list.
fn list_index(k: &Bound<'_, PyAny>) -> PyResult<Option<Tensor>> {
    let Ok(list) = k.cast::<PyList>() else {
        return Ok(None);
    };
    let n = list.len();
    if n > 0 && list.iter().all(|item| item.is_instance_of::<PyBool>()) {
        return Ok(Some(
            Tensor::from_vec(list.extract::<Vec<bool>>()?, &[n]).py()?,
        ));
    }
    let positions = list
        .extract::<Vec<i64>>()
        .map_err(|_| PyIndexError::new_err("a list index must hold only integers or only bools"))?;
    Ok(Some(Tensor::from_vec(positions, &[n]).py()?))
}

/// How many dimensions an index item consumes: none for None and Ellipsis, all of a bool mask's,
/// one otherwise.
fn consumed_dims(k: &Bound<'_, PyAny>) -> usize {
    if k.is_instance_of::<PyNone>() || k.is_instance_of::<PyEllipsis>() {
        return 0;
    }
    let is_bool = k
        .getattr("dtype")
        .and_then(|d| d.str())
        .is_ok_and(|d| d == "bool");
    match is_bool {
        // A 0-d mask counts as one index here and is rejected by `select_by_mask`.
        true => k
            .getattr("ndim")
            .and_then(|n| n.extract::<usize>())
            .map_or(1, |n| n.max(1)),
        false => 1,
    }
}

/// `t[..., mask]` at `dim`: the entries where the bool `mask` (shaped like the dimensions from
/// `dim` on that it covers) holds, those dimensions flattened into one, as numpy does. The
/// positions are found on the host; the selection is an index_select, so gradients flow.
fn select_by_mask(t: &Tensor, dim: usize, mask: &Tensor) -> PyResult<Tensor> {
    let rank = mask.rank();
    let covered = t.shape().get(dim..dim + rank);
    if rank == 0 || covered != Some(mask.shape()) {
        return Err(PyIndexError::new_err(format!(
            "a bool mask index must have the shape of the dimensions it covers, got mask shape {:?} for dimensions {:?} of shape {:?}",
            mask.shape(),
            dim..dim + rank,
            t.shape()
        )));
    }
    let flags = mask
        .to_device(ferrograd_core::Device::Cpu)
        .and_then(|m| m.to_vec::<bool>())
        .py()?;
    let positions: Vec<i64> = (0..flags.len() as i64)
        .filter(|&i| flags[i as usize])
        .collect();
    let mut merged = t.shape()[..dim].to_vec();
    merged.push(flags.len());
    merged.extend_from_slice(&t.shape()[dim + rank..]);
    let count = positions.len();
    let index = Tensor::from_vec(positions, &[count])
        .and_then(|i| i.to_device(t.device()))
        .py()?;
    t.reshape(&merged)
        .and_then(|flat| flat.index_select(dim as isize, &index))
        .py()
}

/// Negative indices count from the end, as in numpy.
fn wrap_negative(idx: &Tensor, size: usize, dim: usize) -> PyResult<Tensor> {
    let v: Vec<i64> = idx.to_vec::<i64>().py()?;
    let mut fixed = Vec::with_capacity(v.len());
    for &i in &v {
        let j = if i < 0 { i + size as i64 } else { i };
        if j < 0 || j >= size as i64 {
            return Err(PyIndexError::new_err(format!(
                "index {i} is out of bounds for dimension {dim} with size {size}"
            )));
        }
        fixed.push(j);
    }
    Tensor::from_vec(fixed, &[v.len()]).py()
}
