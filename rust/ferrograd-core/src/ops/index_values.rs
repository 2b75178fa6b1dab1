//! What `index_select` and `gather` take from their input, in any dtype. Float32 inputs are read
//! in place and carry gradients (`index.rs`); inputs of other dtypes (integer labels, bool masks,
//! 16-bit weights) carry none, and are taken here on the host (a CUDA operand is read back and the
//! result uploaded, as the integer ops do), so `labels[batch]` works on an int64 tensor.

use crate::storage::Element;
use crate::{with_cpu_vec, Device, Error, Layout, Result, Storage, Tensor};

/// Which entries of a row-major buffer to take.
pub(super) enum Take<'a> {
    /// `index_select` along the middle axis of `(outer, size, inner)`: whole rows.
    Rows((usize, usize, usize), &'a [i64]),
    /// `gather`: single entries at these offsets.
    Offsets(&'a [usize]),
}

/// The entries `how` names, from the row-major buffer `x`.
pub(super) fn take<T: Copy>(x: &[T], how: &Take<'_>) -> Vec<T> {
    match how {
        Take::Rows((outer, size, inner), idx) => {
            let mut out = Vec::with_capacity(outer * idx.len() * inner);
            for o in 0..*outer {
                for &i in idx.iter() {
                    let start = (o * size + i as usize) * inner;
                    out.extend_from_slice(&x[start..start + inner]);
                }
            }
            out
        }
        Take::Offsets(offsets) => offsets.iter().map(|&o| x[o]).collect(),
    }
}

/// `take` from `x` in its own dtype, as a new tensor of `shape` on `x`'s device with no autograd
/// history; an input that would need one (it requires grad) is refused.
pub(super) fn take_values(
    op: &'static str,
    x: &Tensor,
    how: &Take<'_>,
    shape: &[usize],
) -> Result<Tensor> {
    if x.requires_grad() && crate::autograd::is_grad_enabled() {
        return Err(Error::dtype(
            op,
            "float32 (the dtype that carries gradients)",
            x.dtype(),
        ));
    }
    let host = x.to_device(Device::Cpu)?.contiguous()?;
    let base = host.layout().offset();
    let storage = host.storage()?;
    let values = with_cpu_vec!(storage.cpu(op)?, v => Element::wrap(take(&v[base..], how)));
    Tensor::from_storage(Storage::Cpu(values), Layout::contiguous(shape)).to_device(x.device())
}

#[cfg(test)]
mod tests {
    use crate::{DType, Tensor};

    #[test]
    fn index_select_and_gather_take_entries_in_their_own_dtype() {
        let labels = Tensor::from_vec(vec![10i64, 11, 12, 13, 14, 15], &[3, 2]).unwrap();
        let index = Tensor::from_vec(vec![2i64, 0, 2], &[3]).unwrap();
        let rows = labels.index_select(0, &index).unwrap();
        assert_eq!(rows.dtype(), DType::I64);
        assert_eq!(rows.shape(), &[3, 2]);
        assert_eq!(rows.to_vec::<i64>().unwrap(), vec![14, 15, 10, 11, 14, 15]);
        // A transposed view is read in its logical order.
        let columns = labels
            .transpose(0, 1)
            .unwrap()
            .index_select(1, &index)
            .unwrap();
        assert_eq!(
            columns.to_vec::<i64>().unwrap(),
            vec![14, 10, 14, 15, 11, 15]
        );
        let mask = Tensor::from_vec(vec![true, false, false, true], &[2, 2]).unwrap();
        let picks = Tensor::from_vec(vec![1i64, 1, 0, 0], &[2, 2]).unwrap();
        let gathered = mask.gather(1, &picks).unwrap();
        assert_eq!(gathered.dtype(), DType::Bool);
        assert_eq!(
            gathered.to_vec::<bool>().unwrap(),
            vec![false, false, false, false]
        );
        let bad = Tensor::from_vec(vec![3i64], &[1]).unwrap();
        assert!(labels.index_select(0, &bad).is_err());
    }
}
