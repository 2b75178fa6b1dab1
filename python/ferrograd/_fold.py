"""``fold``: sliding blocks back into an image, summing where they overlap (the adjoint of
``unfold``): the arguments are checked here, and the core's col2im (``_core.fold``, on the CPU or
a GPU) does the summing; its gradient is ``unfold``'s im2col, and each records the other in a
create_graph walk, so both are twice differentiable."""

from __future__ import annotations

from typing import TYPE_CHECKING

from . import _core
from ._core import Tensor

if TYPE_CHECKING:  # functional imports this module, so its alias is only read by type checkers
    from .functional import IntOrPair


def fold(input: Tensor, output_size: IntOrPair, kernel_size: IntOrPair, dilation: IntOrPair = 1,
         padding: IntOrPair = 0, stride: IntOrPair = 1) -> Tensor:
    """Blocks ``[N, C * kH * kW, L]`` (or unbatched ``[C * kH * kW, L]``) summed into an image
    ``[N, C, H, W]`` of ``output_size`` (H, W), as ``torch.nn.functional.fold``: column ``l`` is
    the block at position ``l``, rows ordered as :func:`unfold` makes them; taps falling in the
    ``padding`` are dropped."""
    from .functional import _pair

    h, w = _pair("output_size", output_size)
    kh, kw = _pair("kernel_size", kernel_size)
    dh, dw = _pair("dilation", dilation)
    ph, pw = _pair("padding", padding)
    sh, sw = _pair("stride", stride)
    for name, values, least in (("output_size", (h, w), 1), ("kernel_size", (kh, kw), 1), ("dilation", (dh, dw), 1),
                                ("padding", (ph, pw), 0), ("stride", (sh, sw), 1)):
        if min(values) < least:
            raise ValueError(f"fold: argument `{name}` expected values >= {least}, got {values}")
    if input.ndim not in (2, 3):
        raise ValueError(f"fold: argument `input` expected shape [N, C * kH * kW, L] or [C * kH * kW, L], got "
                         f"{list(input.shape)}")
    x = input if input.ndim == 3 else input.unsqueeze(0)
    n, rows, length = x.shape
    if rows % (kh * kw):
        raise ValueError(f"fold: argument `input` expected a size along dim -2 divisible by kH * kW = {kh * kw}, "
                         f"got {rows} (shape {list(input.shape)})")
    blocks_h = (h + 2 * ph - dh * (kh - 1) - 1) // sh + 1
    blocks_w = (w + 2 * pw - dw * (kw - 1) - 1) // sw + 1
    if blocks_h < 1 or blocks_w < 1 or length != blocks_h * blocks_w:
        raise ValueError(f"fold: argument `input` expected {max(blocks_h, 0) * max(blocks_w, 0)} blocks along dim -1 "
                         f"for output_size {(h, w)}, kernel_size {(kh, kw)}, dilation {(dh, dw)}, padding {(ph, pw)} "
                         f"and stride {(sh, sw)}, got {length}")
    out = _core.fold(x, (h, w), (kh, kw), (sh, sw), (ph, pw), (dh, dw))
    return out if input.ndim == 3 else out.squeeze(0)
