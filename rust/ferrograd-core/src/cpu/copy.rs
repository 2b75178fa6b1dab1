//! Strided copies between buffers.

use crate::storage::Element;
use crate::{CpuStorage, Error, Layout, Result};

/// Writes the elements of `src` (viewed through `src_layout`) into `dst` at `dst_layout`, row-major.
pub fn copy_into(
    dst: &mut CpuStorage,
    dst_layout: &Layout,
    src: &CpuStorage,
    src_layout: &Layout,
) -> Result<()> {
    fn typed<T: Element>(dst: &mut [T], dl: &Layout, src: &[T], sl: &Layout) {
        match (dl.contiguous_range(), sl.contiguous_range()) {
            (Some((a, b)), Some((c, d))) => dst[a..b].copy_from_slice(&src[c..d]),
            _ => {
                for (o, i) in dl.offsets().zip(sl.offsets()) {
                    dst[o] = src[i];
                }
            }
        }
    }
    if dst_layout.numel() != src_layout.numel() {
        return Err(Error::shape(
            "copy",
            format!("{:?} into {:?}", src_layout.shape(), dst_layout.shape()),
        ));
    }
    // An empty view may carry an offset past the end of its (empty) buffer: nothing to copy.
    if dst_layout.numel() == 0 {
        return Ok(());
    }
    macro_rules! arm {
        ($($v:ident),*) => {
            match (dst, src) {
                $((CpuStorage::$v(d), CpuStorage::$v(s)) => typed(d, dst_layout, s, src_layout),)*
                (d, s) => return Err(Error::dtype("copy", d.dtype(), s.dtype())),
            }
        };
    }
    arm!(F32, I64, I32, U8, Bool, BF16, F16);
    Ok(())
}
