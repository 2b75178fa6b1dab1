//! The order of an `[N, C, H, W]` tensor's elements in memory, as PyTorch's `torch.memory_format`:
//! row-major (`Contiguous`, NCHW) or channels-last (`ChannelsLast`, NHWC: the channels of a pixel
//! side by side). A channels-last tensor keeps its logical shape `[N, C, H, W]`; only its strides
//! differ, so every op reads it like any other view. The GPU convolution reads and writes it in
//! place and gives its output the input's format (`ops/conv_cuda.rs`); pointwise ops and batch
//! norm keep it by working on the `[N, H, W, C]` view, which is row-major (`in_nhwc_order`).

use crate::layout::contiguous_strides;
use crate::{Error, Layout, Result, Tensor};

/// Axes of an `[N, C, H, W]` tensor from the outermost in memory to the innermost, for
/// channels-last: N, H, W, then C. Also the permutation to the `[N, H, W, C]` view.
const CHANNELS_LAST_ORDER: [usize; 4] = [0, 2, 3, 1];

/// The permutation from an `[N, H, W, C]` view back to `[N, C, H, W]`.
const FROM_NHWC: [usize; 4] = [0, 3, 1, 2];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MemoryFormat {
    /// Row-major.
    Contiguous,
    /// `[N, C, H, W]` stored as `[N, H, W, C]`.
    ChannelsLast,
}

impl MemoryFormat {
    /// The strides of a dense tensor of `shape` (rank 4 for channels-last) in this format.
    pub fn strides(self, shape: &[usize]) -> Vec<usize> {
        match self {
            MemoryFormat::Contiguous => contiguous_strides(shape),
            MemoryFormat::ChannelsLast => {
                let mut strides = vec![0; 4];
                let mut acc = 1;
                for &axis in CHANNELS_LAST_ORDER.iter().rev() {
                    strides[axis] = acc;
                    acc *= shape[axis].max(1);
                }
                strides
            }
        }
    }

    /// The format a convolution's output takes for an input laid out as `layout`: channels-last
    /// when the input is channels-last and not also row-major (a tensor with one channel, or one
    /// pixel, is both; PyTorch keeps such tensors row-major too).
    pub fn of_input(layout: &Layout) -> MemoryFormat {
        match layout.is_channels_last() && !layout.is_contiguous() {
            true => MemoryFormat::ChannelsLast,
            false => MemoryFormat::Contiguous,
        }
    }
}

impl Layout {
    /// True when this rank-4 layout holds its elements densely in `[N, H, W, C]` order (any
    /// offset). As in PyTorch, an axis of size 1 matches any stride.
    pub fn is_channels_last(&self) -> bool {
        if self.rank() != 4 {
            return false;
        }
        let mut acc = 1;
        for &axis in CHANNELS_LAST_ORDER.iter().rev() {
            let size = self.shape()[axis];
            if size != 1 && self.strides()[axis] != acc {
                return false;
            }
            acc *= size;
        }
        true
    }

    /// True when the layout is dense in `format`'s order.
    pub fn is_in_format(&self, format: MemoryFormat) -> bool {
        match format {
            MemoryFormat::Contiguous => self.is_contiguous(),
            MemoryFormat::ChannelsLast => self.is_channels_last(),
        }
    }
}

impl Tensor {
    /// This tensor when it is dense in `format`'s order already, else a copy that is (recorded by
    /// autograd; the gradient passes through unchanged). Channels-last needs a rank-4 tensor.
    pub fn contiguous_in(&self, format: MemoryFormat) -> Result<Tensor> {
        match format {
            MemoryFormat::Contiguous => self.contiguous(),
            MemoryFormat::ChannelsLast => {
                if self.rank() != 4 {
                    return Err(Error::arg(
                        "contiguous",
                        "memory_format",
                        "a rank-4 [N, C, H, W] tensor for channels_last",
                        format!("shape {:?}", self.shape()),
                    ));
                }
                if self.layout().is_channels_last() {
                    return Ok(self.clone());
                }
                // The copy is made in [N, H, W, C] order, then viewed back as [N, C, H, W].
                self.permute(&CHANNELS_LAST_ORDER)?
                    .contiguous()?
                    .permute(&FROM_NHWC)
            }
        }
    }

    /// True for a rank-4 tensor stored channels-last and not also row-major: the tensors whose
    /// format pointwise ops and batch norm keep.
    pub(crate) fn is_channels_last_only(&self) -> bool {
        MemoryFormat::of_input(self.layout()) == MemoryFormat::ChannelsLast
    }

    /// `f` applied to the `[N, H, W, C]` views of `operands` (each of rank 4 at most; a smaller one
    /// gets leading axes of size 1 first, as broadcasting would give it), and its result viewed back
    /// as `[N, C, H, W]`. For a channels-last operand that view is row-major, so a pointwise `f`
    /// runs over row-major data and its result is channels-last, as PyTorch keeps a pointwise op's
    /// input format. Autograd records the views, so gradients come back in the same order.
    pub(crate) fn in_nhwc_order(
        operands: &[&Tensor],
        f: impl FnOnce(&[Tensor]) -> Result<Tensor>,
    ) -> Result<Tensor> {
        let views = operands
            .iter()
            .map(|t| {
                let mut shape = vec![1; 4 - t.rank().min(4)];
                shape.extend_from_slice(t.shape());
                t.reshape(&shape)?.permute(&CHANNELS_LAST_ORDER)
            })
            .collect::<Result<Vec<_>>>()?;
        f(&views)?.permute(&FROM_NHWC)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn channels_last_strides_put_the_channels_innermost() {
        let shape = [2, 3, 4, 5];
        assert_eq!(
            MemoryFormat::ChannelsLast.strides(&shape),
            vec![60, 1, 15, 3]
        );
        let l = Layout::new(shape.to_vec(), vec![60, 1, 15, 3], 7);
        assert!(l.is_channels_last() && !l.is_contiguous());
        assert_eq!(MemoryFormat::of_input(&l), MemoryFormat::ChannelsLast);
        // One channel: row-major and channels-last at once, and treated as row-major.
        let single = Layout::contiguous(&[2, 1, 4, 5]);
        assert!(single.is_channels_last() && single.is_contiguous());
        assert_eq!(MemoryFormat::of_input(&single), MemoryFormat::Contiguous);
        assert!(!Layout::contiguous(&shape).is_channels_last());
        assert!(!Layout::contiguous(&[2, 3, 4]).is_channels_last());
    }

    #[test]
    fn contiguous_in_channels_last_keeps_values_and_passes_gradients() {
        let values: Vec<f32> = (0..24).map(|v| v as f32).collect();
        let x = Tensor::from_vec(values.clone(), &[1, 2, 3, 4]).unwrap();
        x.set_requires_grad(true).unwrap();
        let y = x.contiguous_in(MemoryFormat::ChannelsLast).unwrap();
        assert!(y.layout().is_channels_last() && !y.layout().is_contiguous());
        assert_eq!(y.to_vec::<f32>().unwrap(), values);
        // Already channels-last: the same tensor.
        let again = y.contiguous_in(MemoryFormat::ChannelsLast).unwrap();
        assert!(again.layout() == y.layout());
        let weights =
            Tensor::from_vec((0..24).map(|v| (v * v) as f32).collect(), &[1, 2, 3, 4]).unwrap();
        y.mul(&weights)
            .unwrap()
            .sum(&[0, 1, 2, 3], false)
            .unwrap()
            .backward(None)
            .unwrap();
        let grad = x.grad().unwrap().to_vec::<f32>().unwrap();
        assert_eq!(grad, weights.to_vec::<f32>().unwrap());
        assert!(Tensor::from_vec(vec![0.0; 6], &[2, 3])
            .unwrap()
            .contiguous_in(MemoryFormat::ChannelsLast)
            .is_err());
    }

    /// Pointwise ops keep a channels-last operand's format, with the values and gradients of the
    /// row-major computation.
    #[test]
    fn pointwise_ops_keep_channels_last() {
        let values: Vec<f32> = (0..48).map(|v| (v as f32 - 20.0) * 0.25).collect();
        let bias = Tensor::from_vec(vec![0.5f32, -1.0, 2.0], &[3, 1, 1]).unwrap();
        let run = |format: MemoryFormat| {
            let x = Tensor::from_vec(values.clone(), &[2, 3, 2, 4]).unwrap();
            x.set_requires_grad(true).unwrap();
            let xf = x.contiguous_in(format).unwrap();
            let y = xf
                .relu()
                .unwrap()
                .add(&bias)
                .unwrap()
                .mul(&xf)
                .unwrap()
                .exp()
                .unwrap();
            let channels_last = y.layout().is_channels_last() && !y.layout().is_contiguous();
            y.sum(&[0, 1, 2, 3], false).unwrap().backward(None).unwrap();
            let grad = x.grad().unwrap().to_vec::<f32>().unwrap();
            (y.to_vec::<f32>().unwrap(), grad, channels_last)
        };
        let (y_nchw, g_nchw, nchw_is_cl) = run(MemoryFormat::Contiguous);
        let (y_cl, g_cl, cl_is_cl) = run(MemoryFormat::ChannelsLast);
        assert!(!nchw_is_cl && cl_is_cl);
        assert_eq!(y_cl, y_nchw);
        assert_eq!(g_cl, g_nchw);
    }
}
