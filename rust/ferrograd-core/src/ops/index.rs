//! Indexing ops: index_select, gather, scatter_add, one_hot, embedding. Indices are int64 (int32
//! is accepted and widened); out-of-range indices are errors, never panics.

use super::index_values::{take, take_values, Take};
use crate::cuda::index as gpu;
use crate::layout::normalize_axis;
use crate::{CpuStorage, DType, Device, Error, Layout, Result, Storage, Tensor};

/// Indices as i64, checked against `bound`.
fn checked_indices(op: &'static str, index: &Tensor, bound: usize) -> Result<Vec<i64>> {
    if !matches!(index.dtype(), DType::I64 | DType::I32) {
        return Err(Error::dtype(op, "int64 indices", index.dtype()));
    }
    let idx = index.to_vec::<i64>()?;
    if let Some(&bad) = idx.iter().find(|&&i| i < 0 || i as usize >= bound) {
        return Err(Error::arg(
            op,
            "index",
            format!("values in [0, {bound})"),
            bad,
        ));
    }
    Ok(idx)
}

/// Indices as a contiguous int64 tensor on the input's device (a host index tensor is copied
/// there, as torch accepts CPU indices for CUDA tensors). Host indices are checked against `bound`
/// here; device indices by the kernels, which report a bad one at the next synchronisation
/// (`cuda/fault.rs`), so the step does not wait for a copy to the host.
fn device_indices(
    op: &'static str,
    input: &Tensor,
    index: &Tensor,
    bound: usize,
) -> Result<Tensor> {
    if !matches!(index.dtype(), DType::I64 | DType::I32) {
        return Err(Error::dtype(op, "int64 indices", index.dtype()));
    }
    if index.device() == Device::Cpu {
        checked_indices(op, index, bound)?;
    }
    index
        .to_dtype(DType::I64)?
        .to_device(input.device())?
        .contiguous()
}

fn on_cuda(t: &Tensor) -> bool {
    matches!(t.device(), Device::Cuda(_))
}

/// (outer, size, inner) of `shape` around axis `dim`.
fn split_at_axis(shape: &[usize], dim: usize) -> (usize, usize, usize) {
    (
        shape[..dim].iter().product(),
        shape[dim],
        shape[dim + 1..].iter().product(),
    )
}

impl Tensor {
    /// Rows of axis `dim` picked by a 1-D index.
    pub fn index_select(&self, dim: isize, index: &Tensor) -> Result<Tensor> {
        crate::ensure_shape!(
            self.rank() > 0,
            "index_select",
            "the input needs at least one dimension, got a 0-d tensor"
        );
        let d = normalize_axis("index_select", dim, self.rank())?;
        if index.rank() != 1 {
            return Err(Error::arg(
                "index_select",
                "index",
                "a 1-D tensor",
                format!("shape {:?}", index.shape()),
            ));
        }
        let (outer, size, inner) = split_at_axis(self.shape(), d);
        let mut shape = self.shape().to_vec();
        shape[d] = index.numel();
        if self.dtype() != DType::F32 {
            let idx = checked_indices("index_select", index, size)?;
            let rows = Take::Rows((outer, size, inner), &idx);
            return take_values("index_select", self, &rows, &shape);
        }
        let out = if on_cuda(self) {
            let ix = device_indices("index_select", self, index, size)?;
            let x = self.contiguous()?;
            let (sx, si) = (x.storage()?, ix.storage()?);
            let rows = (outer, size, inner, ix.numel());
            Storage::Cuda(gpu::index_select(
                sx.cuda("index_select")?,
                si.cuda("index_select")?,
                rows,
            )?)
        } else {
            let idx = checked_indices("index_select", index, size)?;
            // Read in place: the input is often an embedding table far larger than the rows
            // taken from it.
            let rows = Take::Rows((outer, size, inner), &idx);
            Storage::Cpu(CpuStorage::F32(
                self.with_f32_slice("index_select", |x| take(x, &rows))?,
            ))
        };
        let (in_shape, index) = (self.shape().to_vec(), index.clone());
        Ok(Tensor::from_op(
            out,
            &shape,
            "index_select",
            &[self],
            Box::new(move |g| {
                // On the GPU, and recorded in a create_graph walk (index_add's backward selects
                // the rows again).
                if on_cuda(g) || crate::autograd::is_grad_enabled() {
                    let zeros = Tensor::zeros(&in_shape, DType::F32, g.device())?;
                    return Ok(vec![Some(zeros.index_add(d, &index, g)?)]);
                }
                // Added straight into fresh zeros: no copy of an (embedding-sized) zero tensor.
                let mut out = crate::cpu::fresh::zeros(in_shape.iter().product());
                add_rows_at(&mut out, &in_shape, d, &index, g)?;
                Ok(vec![Some(Tensor::from_vec(out, &in_shape)?)])
            }),
        ))
    }

    /// Out-of-place `index_add`: adds slices of `src` at the rows of axis `dim` named by `index`.
    /// The gradient passes to `self` as is and to `src` as the rows `index` selects from it.
    pub fn index_add(&self, dim: usize, index: &Tensor, src: &Tensor) -> Result<Tensor> {
        let sum = self.index_add_raw(dim, index, src)?;
        let index = index.clone();
        Ok(sum.attach_op(
            "index_add",
            &[self, src],
            Box::new(move |g| {
                Ok(vec![
                    Some(g.clone()),
                    Some(g.index_select(dim as isize, &index)?),
                ])
            }),
        ))
    }

    /// `index_add` without a tape entry.
    fn index_add_raw(&self, dim: usize, index: &Tensor, src: &Tensor) -> Result<Tensor> {
        if on_cuda(self) {
            let (outer, size, inner) = split_at_axis(self.shape(), dim);
            let ix = device_indices("index_add", self, index, size)?;
            let src = src.contiguous()?;
            crate::ensure_shape!(
                src.numel() == outer * ix.numel() * inner,
                "index_add",
                "source shape {:?} does not fit {:?}",
                src.shape(),
                self.shape()
            );
            let (sb, si, ss) = (self.storage()?, ix.storage()?, src.storage()?);
            let out = gpu::index_add(
                sb.cuda("index_add")?,
                self.layout(),
                si.cuda("index_add")?,
                ss.cuda("index_add")?,
                (outer, size, inner, ix.numel()),
            )?;
            return Ok(Tensor::from_storage(
                Storage::Cuda(out),
                Layout::contiguous(self.shape()),
            ));
        }
        let mut out = self.contiguous()?.to_vec::<f32>()?;
        add_rows_at(&mut out, self.shape(), dim, index, src)?;
        Tensor::from_vec(out, self.shape())
    }

    /// `out[..., i, ...] = self[..., index[..., i, ...], ...]` along `dim` (torch.gather).
    pub fn gather(&self, dim: isize, index: &Tensor) -> Result<Tensor> {
        crate::ensure_shape!(
            self.rank() > 0,
            "gather",
            "the input needs at least one dimension, got a 0-d tensor"
        );
        let d = normalize_axis("gather", dim, self.rank())?;
        crate::ensure_shape!(
            index.rank() == self.rank(),
            "gather",
            "index rank {} must equal input rank {}",
            index.rank(),
            self.rank()
        );
        let ok = (0..self.rank()).all(|i| i == d || index.shape()[i] <= self.shape()[i]);
        crate::ensure_shape!(
            ok,
            "gather",
            "index shape {:?} exceeds input shape {:?} outside dim {d}",
            index.shape(),
            self.shape()
        );
        if self.dtype() != DType::F32 {
            let offsets = input_offsets("gather", self.shape(), index, d)?;
            return take_values("gather", self, &Take::Offsets(&offsets), index.shape());
        }
        let out = if on_cuda(self) {
            let ix = device_indices("gather", self, index, self.shape()[d])?;
            let x = self.contiguous()?;
            let (sx, si) = (x.storage()?, ix.storage()?);
            Storage::Cuda(gpu::gather(
                sx.cuda("gather")?,
                self.shape(),
                si.cuda("gather")?,
                index.shape(),
                d,
            )?)
        } else {
            let offsets = input_offsets("gather", self.shape(), index, d)?;
            let out = self.with_f32_slice("gather", |x| take(x, &Take::Offsets(&offsets)))?;
            Storage::Cpu(CpuStorage::F32(out))
        };
        let (in_shape, out_shape, index) =
            (self.shape().to_vec(), index.shape().to_vec(), index.clone());
        Ok(Tensor::from_op(
            out,
            &out_shape,
            "gather",
            &[self],
            Box::new(move |g| {
                Ok(vec![Some(
                    Tensor::zeros(&in_shape, DType::F32, g.device())?.scatter_add(d, &index, g)?,
                )])
            }),
        ))
    }

    /// Out-of-place torch.scatter_add: `self` plus `src` added at the positions `index` names.
    pub fn scatter_add(&self, dim: usize, index: &Tensor, src: &Tensor) -> Result<Tensor> {
        super::expect_f32("scatter_add", self)?;
        crate::ensure_shape!(
            dim < self.rank(),
            "scatter_add",
            "dim {dim} is out of range for a tensor of {} dimensions",
            self.rank()
        );
        crate::ensure_shape!(
            index.shape() == src.shape(),
            "scatter_add",
            "index shape {:?} must equal source shape {:?}",
            index.shape(),
            src.shape()
        );
        crate::ensure_shape!(
            index.rank() == self.rank(),
            "scatter_add",
            "index rank {} must equal input rank {}",
            index.rank(),
            self.rank()
        );
        if on_cuda(self) {
            let ix = device_indices("scatter_add", self, index, self.shape()[dim])?;
            let src_c = src.contiguous()?;
            let (sb, si, ss) = (self.storage()?, ix.storage()?, src_c.storage()?);
            let out = gpu::scatter_add(
                sb.cuda("scatter_add")?,
                self.layout(),
                si.cuda("scatter_add")?,
                ss.cuda("scatter_add")?,
                index.shape(),
                dim,
            )?;
            let (index, src_t) = (index.clone(), src.clone());
            return Tensor::from_storage(Storage::Cuda(out), Layout::contiguous(self.shape()))
                .attach_chain(self, &src_t, dim, index);
        }
        let idx = checked_indices("scatter_add", index, self.shape()[dim])?;
        let mut out = self.contiguous()?.to_vec::<f32>()?;
        let s = src.contiguous()?.to_vec::<f32>()?;
        let strides = crate::layout::contiguous_strides(self.shape());
        for (o, v) in gather_offsets(index.shape(), &strides, dim, &idx)
            .into_iter()
            .zip(s)
        {
            out[o] += v;
        }
        let (index, src_t) = (index.clone(), src.clone());
        Tensor::from_vec(out, self.shape())?.attach_chain(self, &src_t, dim, index)
    }

    /// One-hot encoding of int64 class indices (float32 output with a trailing class axis).
    pub fn one_hot(&self, num_classes: usize) -> Result<Tensor> {
        let mut shape = self.shape().to_vec();
        shape.push(num_classes);
        if on_cuda(self) {
            let ix = device_indices("one_hot", self, self, num_classes)?;
            let out = gpu::one_hot(ix.storage()?.cuda("one_hot")?, ix.numel(), num_classes)?;
            return Ok(Tensor::from_storage(
                Storage::Cuda(out),
                Layout::contiguous(&shape),
            ));
        }
        let idx = checked_indices("one_hot", self, num_classes)?;
        let mut out = vec![0f32; idx.len() * num_classes];
        for (r, &i) in idx.iter().enumerate() {
            out[r * num_classes + i as usize] = 1.0;
        }
        Tensor::from_vec(out, &shape)
    }

    /// Rows of an embedding table `self` [num, dim] picked by int64 `ids` of any shape.
    pub fn embedding(&self, ids: &Tensor) -> Result<Tensor> {
        crate::ensure_shape!(
            self.rank() == 2,
            "embedding",
            "weight must be 2-D, got {:?}",
            self.shape()
        );
        let flat = ids.reshape(&[ids.numel()])?;
        let rows = self.index_select(0, &flat)?;
        let mut shape = ids.shape().to_vec();
        shape.push(self.shape()[1]);
        rows.reshape(&shape)
    }

    /// Gives a scatter_add result its tape entry: the gradient passes to `base` as is and to `src`
    /// gathered back from the scattered positions.
    fn attach_chain(
        &self,
        base: &Tensor,
        src: &Tensor,
        dim: usize,
        index: Tensor,
    ) -> Result<Tensor> {
        Ok(self.attach_op(
            "scatter_add",
            &[base, src],
            Box::new(move |g| Ok(vec![Some(g.clone()), Some(g.gather(dim as isize, &index)?)])),
        ))
    }
}

/// Flat offsets into a contiguous tensor of `strides` for each element of an index of `shape`,
/// replacing the coordinate along `dim` by the index value.
/// The row-major offsets into an input of `shape` that `gather` along `dim` reads, with the
/// indices checked against the axis.
fn input_offsets(
    op: &'static str,
    shape: &[usize],
    index: &Tensor,
    dim: usize,
) -> Result<Vec<usize>> {
    let idx = checked_indices(op, index, shape[dim])?;
    let strides = crate::layout::contiguous_strides(shape);
    Ok(gather_offsets(index.shape(), &strides, dim, &idx))
}

fn gather_offsets(shape: &[usize], strides: &[usize], dim: usize, idx: &[i64]) -> Vec<usize> {
    let mut coord = vec![0usize; shape.len()];
    let mut out = Vec::with_capacity(idx.len());
    for &i in idx {
        let mut off = 0;
        for (a, &c) in coord.iter().enumerate() {
            off += if a == dim { i as usize } else { c } * strides[a];
        }
        out.push(off);
        for a in (0..shape.len()).rev() {
            coord[a] += 1;
            if coord[a] < shape[a] {
                break;
            }
            coord[a] = 0;
        }
    }
    out
}

/// Adds the slices of `src` (contiguous [outer, index.len(), inner]) into `out` (contiguous,
/// of `shape`) at the positions along `dim` that `index` names; repeated indices add up.
fn add_rows_at(
    out: &mut [f32],
    shape: &[usize],
    dim: usize,
    index: &Tensor,
    src: &Tensor,
) -> Result<()> {
    let idx = checked_indices("index_add", index, shape[dim])?;
    let (outer, size, inner) = split_at_axis(shape, dim);
    crate::ensure_shape!(
        src.numel() == outer * idx.len() * inner,
        "index_add",
        "source shape {:?} does not fit {:?}",
        src.shape(),
        shape
    );
    src.with_f32_slice("index_add", |s| {
        for o in 0..outer {
            for (j, &i) in idx.iter().enumerate() {
                let dst = (o * size + i as usize) * inner;
                let from = (o * idx.len() + j) * inner;
                for (d, v) in out[dst..dst + inner].iter_mut().zip(&s[from..from + inner]) {
                    *d += v;
                }
            }
        }
    })
}
