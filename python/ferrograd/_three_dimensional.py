"""3-D convolution and pooling over [N, C, D, H, W] volumes, built on the 2-D kernels: each depth
tap of the kernel is a 2-D operation over every (sample, output depth) slice, and the taps are
summed (convolution, average pooling) or maximised (max pooling) along the depth axis; adaptive
pooling reduces each of PyTorch's depth windows, then pools the 2-D planes adaptively. Autograd
differentiates through that composition."""

from __future__ import annotations

from typing import Any, Optional, Sequence, Union

from . import _core
from ._conv_padding import pad_end, string_padding
from ._core import Tensor
from ._unbatched import accepts_unbatched

IntOrTriple = Union[int, Sequence[int]]


def _triple(name: str, v: IntOrTriple) -> tuple[int, int, int]:
    if isinstance(v, int):
        return (v, v, v)
    if isinstance(v, (tuple, list)) and len(v) == 3 and all(isinstance(i, int) for i in v):
        return (int(v[0]), int(v[1]), int(v[2]))
    raise ValueError(f"argument `{name}` expected an int or a triple of ints, got {v!r}")


def _volume(x: Tensor, op: str) -> None:
    if x.ndim != 5:
        raise ValueError(f"{op}: expected an input of shape [N, C, D, H, W] or [C, D, H, W], got {list(x.shape)}")


def _depth_taps(x: Tensor, taps: int, stride: int, dilation: int, out: int) -> list[Tensor]:
    """For each depth tap j, the [N, C, out, H, W] slices at depths ``o * stride + j * dilation``."""
    return [x[:, :, j * dilation: j * dilation + stride * (out - 1) + 1: stride] for j in range(taps)]


def _as_images(x: Tensor) -> Tensor:
    """[N, C, D, H, W] as [N * D, C, H, W]: one image per (sample, depth)."""
    n, c, d, h, w = x.shape
    return x.permute(0, 2, 1, 3, 4).reshape(n * d, c, h, w)


def _as_volume(images: Tensor, n: int) -> Tensor:
    """The inverse of :func:`_as_images`."""
    nd, c, h, w = images.shape
    return images.reshape(n, nd // n, c, h, w).permute(0, 2, 1, 3, 4)


def _output_size(op: str, size: int, kernel: int, stride: int, padding: int, dilation: int) -> int:
    out = (size + 2 * padding - dilation * (kernel - 1) - 1) // stride + 1
    if out < 1:
        raise ValueError(f"{op}: the depth {size} (padding {padding}) is smaller than the kernel's extent "
                         f"{dilation * (kernel - 1) + 1}")
    return out


@accepts_unbatched(5)
def conv3d(x: Tensor, weight: Tensor, bias: Optional[Tensor] = None, stride: IntOrTriple = 1,
           padding: Union[IntOrTriple, str] = 0, dilation: IntOrTriple = 1, groups: int = 1) -> Tensor:
    """3-D convolution of an [N, C_in, D, H, W] input with ``weight`` [C_out, C_in/groups, kD, kH,
    kW]; ``padding`` may be ``'valid'`` or ``'same'``, as :func:`ferrograd.functional.conv2d`'s."""
    _volume(x, "conv3d")
    if weight.ndim != 5:
        raise ValueError(f"conv3d: argument `weight` expected shape [C_out, C_in/groups, kD, kH, kW], "
                         f"got {list(weight.shape)}")
    s, d = _triple("stride", stride), _triple("dilation", dilation)
    if isinstance(padding, str):
        p_list, extra = string_padding("conv3d", padding, weight.shape[2:], s, d)
        x, p = pad_end(x, extra), (p_list[0], p_list[1], p_list[2])
    else:
        p = _triple("padding", padding)
    n, kd = x.shape[0], weight.shape[2]
    out_d = _output_size("conv3d", x.shape[2], kd, s[0], p[0], d[0])
    if p[0]:
        x = _core.pad(x, [(0, 0), (0, 0), (p[0], p[0])], 0.0)
    total: Optional[Tensor] = None
    for j, taps in enumerate(_depth_taps(x, kd, s[0], d[0], out_d)):
        y = _core.conv2d(_as_images(taps), weight[:, :, j], None, s[1:], p[1:], d[1:], groups)
        total = y if total is None else total + y
    assert total is not None  # kD >= 1
    out = _as_volume(total, n)
    return out if bias is None else out + bias.reshape(1, -1, 1, 1, 1)


@accepts_unbatched(5)
def conv_transpose3d(x: Tensor, weight: Tensor, bias: Optional[Tensor] = None, stride: IntOrTriple = 1,
                     padding: IntOrTriple = 0, output_padding: IntOrTriple = 0, groups: int = 1,
                     dilation: IntOrTriple = 1) -> Tensor:
    """Transposed 3-D convolution (the gradient of :func:`conv3d` with respect to its input) of an
    [N, C_in, D, H, W] input with ``weight`` [C_in, C_out/groups, kD, kH, kW]; each output size is
    ``(in - 1) * stride - 2 * padding + dilation * (k - 1) + output_padding + 1``."""
    _volume(x, "conv_transpose3d")
    if weight.ndim != 5:
        raise ValueError(f"conv_transpose3d: argument `weight` expected shape [C_in, C_out/groups, kD, kH, kW], "
                         f"got {list(weight.shape)}")
    s, p = _triple("stride", stride), _triple("padding", padding)
    op, d = _triple("output_padding", output_padding), _triple("dilation", dilation)
    n, depth, kd = x.shape[0], x.shape[2], weight.shape[2]
    full = (depth - 1) * s[0] + d[0] * (kd - 1) + 1 + op[0]
    if full - 2 * p[0] < 1 or op[0] >= max(s[0], d[0]):
        raise ValueError(f"conv_transpose3d: depth {depth} with stride {s[0]}, padding {p[0]}, dilation {d[0]} and "
                         f"output_padding {op[0]} gives no output (output_padding must be below stride or dilation)")
    images = _as_images(x)
    total: Optional[Tensor] = None
    for j in range(kd):
        # Each depth tap scatters the input's depths o to output depths o * stride + j * dilation:
        # the transposed 2-D convolution of every depth slice, spread `stride` apart and shifted.
        y = _as_volume(_core.conv_transpose2d(images, weight[:, :, j], None, s[1:], p[1:], op[1:], groups, d[1:]), n)
        if s[0] > 1:
            gaps = _core.full([*y.shape[:3], s[0] - 1, *y.shape[3:]], 0.0, y.dtype, str(y.device), False)
            y = _core.cat([y.unsqueeze(3), gaps], 3).reshape(y.shape[0], y.shape[1], depth * s[0], *y.shape[3:])
            y = y[:, :, : (depth - 1) * s[0] + 1]
        y = _core.pad(y, [(0, 0), (0, 0), (j * d[0], full - j * d[0] - y.shape[2])], 0.0)
        total = y if total is None else total + y
    assert total is not None  # kD >= 1
    out = total[:, :, p[0]: full - p[0]]
    return out if bias is None else out + bias.reshape(1, -1, 1, 1, 1)


@accepts_unbatched(5)
def max_pool3d(x: Tensor, kernel_size: IntOrTriple, stride: Optional[IntOrTriple] = None, padding: IntOrTriple = 0,
               dilation: IntOrTriple = 1, ceil_mode: bool = False) -> Tensor:
    """Max pooling over [N, C, D, H, W] windows; ``stride`` defaults to ``kernel_size``. Padding
    counts as -inf, as in PyTorch."""
    _volume(x, "max_pool3d")
    if ceil_mode:
        raise NotImplementedError("max_pool3d: ceil_mode=True is not supported yet")
    k = _triple("kernel_size", kernel_size)
    s = k if stride is None else _triple("stride", stride)
    p, d = _triple("padding", padding), _triple("dilation", dilation)
    n, c, depth = x.shape[:3]
    out_d = _output_size("max_pool3d", depth, k[0], s[0], p[0], d[0])
    planes = x.reshape(n, c * depth, x.shape[3], x.shape[4])
    pooled = _core.max_pool2d(planes, k[1:], s[1:], p[1:], d[1:], False)
    pooled = pooled.reshape(n, c, depth, pooled.shape[2], pooled.shape[3])
    if p[0]:
        pooled = _core.pad(pooled, [(0, 0), (0, 0), (p[0], p[0])], float("-inf"))
    best: Optional[Tensor] = None
    for taps in _depth_taps(pooled, k[0], s[0], d[0], out_d):
        best = taps if best is None else best.maximum(taps)
    assert best is not None
    return best


@accepts_unbatched(5)
def avg_pool3d(x: Tensor, kernel_size: IntOrTriple, stride: Optional[IntOrTriple] = None, padding: IntOrTriple = 0,
               ceil_mode: bool = False, count_include_pad: bool = True, divisor_override: Optional[int] = None) -> Tensor:
    """Average pooling over [N, C, D, H, W] windows; ``stride`` defaults to ``kernel_size``. The
    divisor is the window's size (``count_include_pad``), the number of input elements in it, or
    ``divisor_override``, as in PyTorch."""
    _volume(x, "avg_pool3d")
    if ceil_mode:
        raise NotImplementedError("avg_pool3d: ceil_mode=True is not supported yet")
    k = _triple("kernel_size", kernel_size)
    s = k if stride is None else _triple("stride", stride)
    p = _triple("padding", padding)

    def window_sums(v: Tensor) -> Tensor:
        n, c, depth = v.shape[:3]
        out_d = _output_size("avg_pool3d", depth, k[0], s[0], p[0], 1)
        planes = v.reshape(n, c * depth, v.shape[3], v.shape[4])
        sums = _core.avg_pool2d(planes, k[1:], s[1:], p[1:], False, True) * float(k[1] * k[2])
        sums = sums.reshape(n, c, depth, sums.shape[2], sums.shape[3])
        if p[0]:
            sums = _core.pad(sums, [(0, 0), (0, 0), (p[0], p[0])], 0.0)
        total: Optional[Tensor] = None
        for taps in _depth_taps(sums, k[0], s[0], 1, out_d):
            total = taps if total is None else total + taps
        assert total is not None
        return total

    sums = window_sums(x)
    if divisor_override is not None:
        if divisor_override <= 0:
            raise ValueError(f"avg_pool3d: argument `divisor_override` expected a positive int, got {divisor_override}")
        return sums / float(divisor_override)
    if count_include_pad or not any(p):
        return sums / float(k[0] * k[1] * k[2])
    ones = _core.full([1, 1, *x.shape[2:]], 1.0, x.dtype, str(x.device), False)
    return sums / window_sums(ones)


def _adaptive_3d(x: Tensor, output_size: Union[int, Sequence[Optional[int]]], op: str, largest: bool) -> Tensor:
    from ._adaptive_max_pool import adaptive_max_pool2d

    batched = x.ndim == 5
    if x.ndim not in (4, 5):
        raise ValueError(f"{op}: expected an input of shape [N, C, D, H, W] or [C, D, H, W], got {list(x.shape)}")
    v = x if batched else x.unsqueeze(0)
    sizes = [output_size] * 3 if isinstance(output_size, int) else list(output_size)
    if len(sizes) != 3:
        raise ValueError(f"{op}: argument `output_size` expected an int or three sizes, got {output_size!r}")
    depth, height, width = v.shape[2:]
    od, oh, ow = (s if s is not None else full for s, full in zip(sizes, (depth, height, width)))
    planes = []
    for i in range(od):
        start, end = (i * depth) // od, -((-(i + 1) * depth) // od)
        window = v[:, :, start:end]
        reduced = window.amax(2) if largest else window.mean(2)
        planes.append(adaptive_max_pool2d(reduced, (oh, ow)) if largest else _core.adaptive_avg_pool2d(reduced, (oh, ow)))
    out = _core.stack(planes, 2)
    return out if batched else out.squeeze(0)


def adaptive_avg_pool3d(x: Tensor, output_size: Union[int, Sequence[Optional[int]]]) -> Tensor:
    """Average pooling of [N, C, D, H, W] (or [C, D, H, W]) to ``output_size`` (an int, or three
    sizes, None keeping that axis) over PyTorch's adaptive windows."""
    return _adaptive_3d(x, output_size, "adaptive_avg_pool3d", False)


def adaptive_max_pool3d(x: Tensor, output_size: Union[int, Sequence[Optional[int]]],
                        return_indices: bool = False) -> Any:
    """Max pooling of [N, C, D, H, W] (or [C, D, H, W]) to ``output_size`` over PyTorch's adaptive
    windows; with ``return_indices`` also each maximum's position ``d * H * W + h * W + w``."""
    from ._adaptive_max_pool import adaptive_max_indices

    values = _adaptive_3d(x, output_size, "adaptive_max_pool3d", True)
    if not return_indices:
        return values
    volumes = x if x.ndim == 5 else x.unsqueeze(0)
    indices = adaptive_max_indices(volumes, [int(s) for s in values.shape[-3:]])
    return values, indices if x.ndim == 5 else indices.squeeze(0)
