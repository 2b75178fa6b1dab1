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
    if items
        .iter()
        .filter(|k| k.is_instance_of::<PyEllipsis>())
        .count()
        > 1
    {
        return Err(PyIndexError::new_err(
            "an index can only have a single ellipsis ('...')",
        ));
    }
    let used: usize = items.iter().map(consumed_dims).sum();
    if used > t.rank() {
        return Err(PyIndexError::new_err(format!(
            "too many indices for tensor of dimension {}: got {used}",
            t.rank()
        )));
    }
    let parsed = items
        .iter()
        .map(|k| parse_item(k, t))
        .collect::<PyResult<Vec<_>>>()?;
    let arrays = parsed
        .iter()
        .filter(|i| matches!(i, Item::Positions(_)))
        .count();
    let masks = parsed.iter().filter(|i| matches!(i, Item::Mask(_))).count();
    // One 1-D array (or one mask) among slices indexes its axis alone; anything more pairs up.
    let advanced = masks > 1
        || parsed.iter().any(|i| match i {
            Item::Positions(p) => p.rank() != 1 || arrays + masks > 1,
            Item::Int(_) => arrays > 0,
            _ => false,
        });
    if advanced {
        return index_advanced(t, &parsed, used);
    }
    let mut out = t.clone();
    let mut dim = 0usize;
    for item in parsed {
        if basic_step(&mut out, &mut dim, &item, t.rank() - used)? {
            continue;
        }
        match item {
            Item::Ellipsis | Item::NewAxis | Item::Slice(_) => {}
            Item::Int(i) => {
                let j = checked_position(i, out.shape()[dim], dim)?;
                out = out.select(dim, j).py()?;
            }
            Item::Mask(mask) => {
                out = select_by_mask(&out, dim, &mask)?;
                dim += 1;
            }
            Item::Positions(idx) => {
                let idx = wrap_negative(&idx, out.shape()[dim], dim)?;
                out = out.index_select(dim as isize, &idx).py()?;
                dim += 1;
            }
        }
    }
    Ok(out)
}

/// One item of an index expression.
enum Item<'py> {
    Ellipsis,
    NewAxis,
    Slice(Bound<'py, PySlice>),
    Int(i64),
    /// A bool mask (tensor, array or list of bools).
    Mask(Tensor),
    /// Integer positions of any shape (tensor, array or list of ints).
    Positions(Tensor),
}

fn parse_item<'py>(k: &Bound<'py, PyAny>, t: &Tensor) -> PyResult<Item<'py>> {
    if k.is_instance_of::<PyEllipsis>() {
        return Ok(Item::Ellipsis);
    }
    if k.is_instance_of::<PyNone>() {
        return Ok(Item::NewAxis);
    }
    if let Ok(s) = k.cast::<PySlice>() {
        return Ok(Item::Slice(s.clone()));
    }
    if let Ok(i) = k.extract::<i64>() {
        return Ok(Item::Int(i));
    }
    let idx = match list_index(k)? {
        Some(idx) => idx,
        None => {
            let like = Tensor::zeros(&[], DType::I64, t.device()).py()?;
            operand(k, &like).map_err(|_| {
                PyIndexError::new_err("only integers, slices, None, Ellipsis, lists of integers or bools, integer tensors or arrays and bool masks are valid indices")
            })?
        }
    };
    match idx.dtype() {
        DType::Bool => Ok(Item::Mask(idx)),
        DType::I64 | DType::I32 => Ok(Item::Positions(idx)),
        other => Err(PyIndexError::new_err(format!(
            "a tensor index must hold integers or bools, got dtype {other} and shape {:?}",
            idx.shape()
        ))),
    }
}

/// Applies an Ellipsis (skipping `skipped` axes), None or slice at axis `dim` of `out`; false for
/// the other items, which the caller handles.
fn basic_step(
    out: &mut Tensor,
    dim: &mut usize,
    item: &Item<'_>,
    skipped: usize,
) -> PyResult<bool> {
    match item {
        Item::Ellipsis => *dim += skipped,
        Item::NewAxis => {
            *out = out.unsqueeze(*dim as isize).py()?;
            *dim += 1;
        }
        Item::Slice(s) => {
            *out = apply_slice(out, *dim, s)?;
            *dim += 1;
        }
        _ => return Ok(false),
    }
    Ok(true)
}

fn apply_slice(out: &Tensor, dim: usize, s: &Bound<'_, PySlice>) -> PyResult<Tensor> {
    let ind = s.indices(out.shape()[dim] as isize)?;
    if ind.step <= 0 {
        return Err(PyIndexError::new_err(format!(
            "slice step must be positive, got {}",
            ind.step
        )));
    }
    out.slice(
        dim,
        ind.start.max(0) as usize,
        ind.slicelength,
        ind.step as usize,
    )
    .py()
}

fn checked_position(i: i64, size: usize, dim: usize) -> PyResult<usize> {
    let j = if i < 0 { i + size as i64 } else { i };
    if j < 0 || j >= size as i64 {
        return Err(PyIndexError::new_err(format!(
            "index {i} is out of bounds for dimension {dim} with size {size}"
        )));
    }
    Ok(j as usize)
}

/// numpy's advanced indexing: the integer indices (arrays, and integers beside them) broadcast
/// together and pick one entry per broadcast position (`x[rows, cols]` pairs them up, it does
/// not take the outer product). The picked axes become the broadcast shape, in place of the
/// indexed axes when those are adjacent in the expression, else in front. Computed as one
/// index_select over the indexed axes moved to the front and flattened, so gradients flow.
fn index_advanced(t: &Tensor, items: &[Item<'_>], used: usize) -> PyResult<Tensor> {
    let mut out = t.clone();
    let mut dim = 0usize;
    // (axis of `out`, positions) of each advanced index, and where it stood in the expression.
    let mut indexed: Vec<(usize, Tensor)> = Vec::new();
    let mut places: Vec<usize> = Vec::new();
    for (place, item) in items.iter().enumerate() {
        if basic_step(&mut out, &mut dim, item, t.rank() - used)? {
            continue;
        }
        match item {
            Item::Ellipsis | Item::NewAxis | Item::Slice(_) => {}
            Item::Int(i) => {
                let j = checked_position(*i, out.shape()[dim], dim)?;
                indexed.push((dim, Tensor::from_vec(vec![j as i64], &[]).py()?));
                places.push(place);
                dim += 1;
            }
            Item::Positions(p) => {
                let flat = p.reshape(&[p.numel()]).py()?;
                let wrapped = wrap_negative(&flat, out.shape()[dim], dim)?;
                indexed.push((dim, wrapped.reshape(p.shape()).py()?));
                places.push(place);
                dim += 1;
            }
            Item::Mask(_) => {
                return Err(PyIndexError::new_err(
                    "a bool mask cannot be combined with other tensor indices or masks; index with the mask first",
                ))
            }
        }
    }
    let mut picked_shape: Vec<usize> = Vec::new();
    for (_, p) in &indexed {
        picked_shape =
            ferrograd_core::layout::broadcast_shapes("index", &picked_shape, p.shape()).py()?;
    }
    let axes: Vec<usize> = indexed.iter().map(|(d, _)| *d).collect();
    let rest: Vec<usize> = (0..out.rank()).filter(|d| !axes.contains(d)).collect();
    // Row-major positions into the indexed axes flattened into one.
    let count: usize = picked_shape.iter().product();
    let mut flat = vec![0i64; count];
    for (d, p) in &indexed {
        let size = out.shape()[*d] as i64;
        let values = p
            .expand(&picked_shape)
            .and_then(|e| e.to_vec::<i64>())
            .py()?;
        for (f, v) in flat.iter_mut().zip(values) {
            *f = *f * size + v;
        }
    }
    let order: Vec<usize> = axes.iter().chain(&rest).copied().collect();
    let moved = out.permute(&order).py()?;
    let mut merged = vec![axes.iter().map(|&d| out.shape()[d]).product::<usize>()];
    merged.extend(rest.iter().map(|&d| out.shape()[d]));
    let positions = Tensor::from_vec(flat, &[count])
        .and_then(|f| f.to_device(t.device()))
        .py()?;
    let picked = moved
        .reshape(&merged)
        .and_then(|m| m.index_select(0, &positions))
        .py()?;
    let mut shape = picked_shape.clone();
    shape.extend(rest.iter().map(|&d| out.shape()[d]));
    let picked = picked.reshape(&shape).py()?;
    let adjacent = places.windows(2).all(|w| w[1] == w[0] + 1);
    if !adjacent || axes[0] == 0 {
        return Ok(picked);
    }
    // Adjacent indices: the picked axes go where the first indexed axis was.
    let (b, before) = (picked_shape.len(), axes[0]);
    let order: Vec<usize> = (b..b + before)
        .chain(0..b)
        .chain(b + before..shape.len())
        .collect();
    picked.permute(&order).py()
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
    let v: Vec<i64> = idx
        .to_device(ferrograd_core::Device::Cpu)
        .and_then(|i| i.to_dtype(DType::I64))
        .and_then(|i| i.to_vec::<i64>())
        .py()?;
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
