"""``F.pad``'s non-constant modes ('reflect', 'replicate', 'circular') against numpy's 'reflect',
'edge' and 'wrap' padding (values) and JAX's ``jnp.pad`` (gradients), the padding layers against
``F.pad``, and the argument errors."""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np
import pytest

import ferrograd as fg
import ferrograd.functional as F
import ferrograd.nn as nn
from reference import check_op

NUMPY_MODES = {"reflect": "reflect", "replicate": "edge", "circular": "wrap"}


def numpy_widths(ndim: int, pad: tuple[int, ...]) -> list[tuple[int, int]]:
    """numpy's per-axis (before, after) widths for a PyTorch ``pad`` (pairs from the last axis)."""
    pairs = [(pad[i], pad[i + 1]) for i in range(0, len(pad), 2)]
    return [(0, 0)] * (ndim - len(pairs)) + pairs[::-1]


# (input shape, pad): 1-d, 2-d and 3-d paddings on both accepted ranks, asymmetric pads, and the
# largest pads each mode allows (size - 1 for reflect, size for circular) on some axis.
CASES = [
    ((2, 5), (2, 3)),
    ((2, 3, 5), (4, 1)),
    ((3, 4, 5), (1, 2, 3, 0)),
    ((2, 3, 4, 5), (0, 4, 3, 1)),
    ((2, 4, 3, 5), (2, 1, 1, 2, 3, 0)),
    ((2, 2, 4, 3, 5), (1, 2, 2, 1, 1, 3)),
]


def largest_pad(mode: str, shape: tuple[int, ...], pad: tuple[int, ...]) -> tuple[int, ...]:
    """``pad`` with its first pair at the mode's limit for the last axis (other modes: unchanged)."""
    limit = {"reflect": shape[-1] - 1, "circular": shape[-1]}.get(mode)
    return pad if limit is None else (limit, limit, *pad[2:])


@pytest.mark.parametrize("mode", list(NUMPY_MODES))
@pytest.mark.parametrize("shape,pad", CASES)
def test_values_match_numpy(rng, mode, shape, pad):
    x = rng.standard_normal(shape).astype(np.float32)
    for p in (pad, largest_pad(mode, shape, pad)):
        got = F.pad(fg.tensor(x), p, mode=mode).numpy()
        np.testing.assert_array_equal(got, np.pad(x, numpy_widths(x.ndim, p), mode=NUMPY_MODES[mode]))


def test_known_values():
    x = fg.tensor(np.arange(4, dtype=np.float32).reshape(1, 4))
    assert F.pad(x, (3, 2), mode="reflect").numpy().tolist() == [[3, 2, 1, 0, 1, 2, 3, 2, 1]]
    assert F.pad(x, (2, 1), mode="replicate").numpy().tolist() == [[0, 0, 0, 1, 2, 3, 3]]
    assert F.pad(x, (4, 1), mode="circular").numpy().tolist() == [[0, 1, 2, 3, 0, 1, 2, 3, 0]]


@pytest.mark.parametrize("mode", list(NUMPY_MODES))
@pytest.mark.parametrize("shape,pad", [CASES[1], CASES[3], CASES[4]])
def test_gradients_match_jax(rng, mode, shape, pad):
    x = rng.standard_normal(shape).astype(np.float32)
    p = largest_pad(mode, shape, pad)
    widths = numpy_widths(x.ndim, p)
    check_op(lambda t: F.pad(t, p, mode=mode), lambda v: jnp.pad(v, widths, mode=NUMPY_MODES[mode]), [x])


@pytest.mark.parametrize("mode", ["constant", *NUMPY_MODES])
@pytest.mark.parametrize("pad", [(-1, 2), (2, -1), (-2, -1), (-1, -1, 2, -3), (3, -2, -1, 1), (0, 0, -2, 0)])
def test_negative_sizes_crop(rng, mode, pad):
    """A negative size crops that side, as in PyTorch: reflection and replication about the
    input's own edges (pad, then crop), wrapping within what the crop leaves (crop, then pad)."""
    x = rng.standard_normal((2, 5, 6)).astype(np.float32)
    if len(pad) == 2:
        x = x[0]
    widths = numpy_widths(x.ndim, pad)
    grow = [(max(b, 0), max(a, 0)) for b, a in widths]
    crop = tuple(slice(max(-b, 0), n - max(-a, 0)) for (b, a), n in zip(widths, x.shape))
    if mode == "circular":
        want = np.pad(x[crop], grow, mode="wrap")
    else:
        padded = np.pad(x, grow, mode={"constant": "constant", **NUMPY_MODES}[mode])
        want = padded[tuple(slice(max(-b, 0), n - max(-a, 0)) for (b, a), n in zip(widths, padded.shape))]
    got = F.pad(fg.tensor(x), pad, mode=mode).numpy()
    np.testing.assert_array_equal(got, want)
    np_mode = {"constant": "constant", **NUMPY_MODES}[mode]
    if mode == "circular":
        check_op(lambda t: F.pad(t, pad, mode=mode), lambda v: jnp.pad(v[crop], grow, mode="wrap"), [x])
    else:
        check_op(lambda t: F.pad(t, pad, mode=mode),
                 lambda v: jnp.pad(v, grow, mode=np_mode)[tuple(slice(max(-b, 0), v.shape[i] + max(b, 0) + max(a, 0) - max(-a, 0))
                                                               for i, (b, a) in enumerate(widths))], [x])


def test_gradient_sums_the_reflected_copies():
    x = fg.tensor(np.zeros((1, 3), dtype=np.float32), requires_grad=True)
    F.pad(x, (2, 2), mode="reflect").sum().backward()
    # Output [2, 1, 0, 1, 2, 1, 0]: element 1 is read three times, 0 and 2 twice.
    assert x.grad.numpy().tolist() == [[2.0, 3.0, 2.0]]


def test_constant_mode_is_unchanged(rng):
    x = rng.standard_normal((2, 3, 4)).astype(np.float32)
    got = F.pad(fg.tensor(x), (1, 2, 0, 3), value=1.5).numpy()
    np.testing.assert_array_equal(got, np.pad(x, [(0, 0), (0, 3), (1, 2)], constant_values=1.5))


LAYERS = [
    (nn.ZeroPad1d, 1, "constant"), (nn.ZeroPad2d, 2, "constant"),
    (nn.ReflectionPad1d, 1, "reflect"), (nn.ReflectionPad2d, 2, "reflect"),
    (nn.ReplicationPad1d, 1, "replicate"), (nn.ReplicationPad2d, 2, "replicate"),
    (nn.CircularPad1d, 1, "circular"), (nn.CircularPad2d, 2, "circular"),
]


@pytest.mark.parametrize("layer,axes,mode", LAYERS, ids=[c[0].__name__ for c in LAYERS])
def test_layers_equal_functional_pad(rng, layer, axes, mode):
    x = fg.tensor(rng.standard_normal((2, 3, 4, 5)[-(axes + 2):]).astype(np.float32))
    asymmetric = (1, 3, 2, 0)[:2 * axes]
    for padding, expected in ((2, (2,) * 2 * axes), (asymmetric, asymmetric)):
        module = layer(padding)
        assert module.padding == expected
        np.testing.assert_array_equal(module(x).numpy(), F.pad(x, expected, mode=mode).numpy())
        assert repr(module) == f"{layer.__name__}({expected})"


@pytest.mark.parametrize("layer,axes", [(nn.ConstantPad1d, 1), (nn.ConstantPad2d, 2)])
def test_constant_pad_layers(rng, layer, axes):
    x = fg.tensor(rng.standard_normal((2, 3, 4)).astype(np.float32))
    padding = (2, 1, 0, 3)[:2 * axes]
    module = layer(padding, -0.5)
    np.testing.assert_array_equal(module(x).numpy(), F.pad(x, padding, value=-0.5).numpy())
    assert module(x).numpy()[..., 0].tolist() == np.full(module(x).shape[:-1], -0.5).tolist()
    assert repr(module) == f"{layer.__name__}(padding={padding}, value=-0.5)"
    assert layer(1, 2.0).padding == (1,) * 2 * axes


def test_layer_padding_length_error():
    with pytest.raises(ValueError, match=r"ReflectionPad2d: argument `padding` expected an int or 4 sizes, got \(1, 2\)"):
        nn.ReflectionPad2d((1, 2))


@pytest.mark.parametrize("shape,pad,kwargs,message", [
    ((2, 3, 4), (1, 1), dict(mode="symmetric"), r"argument `mode` expected one of .*'circular'\], got 'symmetric'"),
    ((2, 3, 4), (1, 1, 1), dict(mode="reflect"), r"argument `pad` expected an even number of sizes, got 3"),
    ((2, 3, 4), (1, 1) * 4, dict(mode="reflect"), r"argument `pad` expected 2, 4 or 6 sizes in mode 'reflect', got 8"),
    ((4,), (1, 1), dict(mode="replicate"), r"argument `input` expected 2 or 3 dimensions for 2 pad sizes .*, got 1"),
    ((2, 3, 4, 5), (1, 1), dict(mode="circular"), r"argument `input` expected 2 or 3 dimensions .*, got 4"),
    ((2, 3, 4), (4, 0), dict(mode="reflect"), r"argument `pad` expected sizes below the axis size 4 .*got \(4, 0\)"),
    ((2, 3, 4), (0, 0, 0, 3), dict(mode="reflect"), r"below the axis size 3 .*got \(0, 3\) for axis 1"),
    ((2, 3, 4), (0, 5), dict(mode="circular"), r"expected sizes at most the 4 elements the crop leaves of axis 2 .*got \(0, 5\)"),
    ((2, 3, 4), (-2, 3), dict(mode="circular"), r"at most the 2 elements the crop leaves of axis 2 \(size 4\).*got \(-2, 3\)"),
    ((2, 3, 4), (-3, -1), dict(mode="replicate"), r"argument `pad` \(-3, -1\) leaves axis 2 of size 4 with 0 elements"),
    ((2, 3, 4), (-3, -2), {}, r"argument `pad` \(-3, -2\) crops more than the 4 elements of axis 2"),
    ((2, 3), (1, 1) * 3, {}, r"argument `pad` expected at most 4 sizes for an input of 2 dimensions, got 6"),
    ((2, 3, 4), (1, 1), dict(mode="reflect", value=2.0), r"argument `value` expected 0 in mode 'reflect'.*got 2.0"),
])
def test_errors_name_the_argument(shape, pad, kwargs, message):
    with pytest.raises(ValueError, match=message):
        F.pad(fg.zeros(*shape), pad, **kwargs)
