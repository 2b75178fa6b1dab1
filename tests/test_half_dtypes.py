"""bfloat16 and float16 tensors: casts (round to nearest even) against numpy and an integer bf16
reference, numpy interop, autograd through casts, safetensors round trips, clear errors from ops
that compute in float32 only, and scaled dot-product attention over 16-bit inputs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import ferrograd as fg
import ferrograd.functional as F


def bf16_bits(x: np.ndarray) -> np.ndarray:
    """The bf16 bits of float32 values, rounded to nearest even in integer arithmetic (NaN -> 0x7fc0)."""
    u = np.asarray(x, np.float32).view(np.uint32).astype(np.uint64)
    bits = ((u + 0x7FFF + ((u >> 16) & 1)) >> 16).astype(np.uint16)
    return np.where(np.isnan(x), np.uint16(0x7FC0), bits)


def bf16_values(x: np.ndarray) -> np.ndarray:
    """float32 values rounded to bf16 (as float32)."""
    return (bf16_bits(x).astype(np.uint32) << 16).view(np.float32)


def sdpa_reference(q: np.ndarray, k: np.ndarray, v: np.ndarray, causal: bool) -> np.ndarray:
    """Attention in float64 numpy: softmax(q k^T / sqrt(d), causal from the top left) v."""
    s = q @ np.swapaxes(k, -1, -2) / np.sqrt(q.shape[-1])
    if causal:
        s = np.where(np.tril(np.ones(s.shape[-2:], bool)), s, -np.inf)
    p = np.exp(s - s.max(-1, keepdims=True))
    return p / p.sum(-1, keepdims=True) @ v


def edge_values(rng: np.random.Generator) -> np.ndarray:
    """Random normals at several scales plus the rounding edges of both formats: ties, overflow to
    infinity, subnormals, signed zeros, infinities."""
    f16 = np.arange(0, 0x7C00, 7, dtype=np.uint16).view(np.float16).astype(np.float32)
    ties = ((f16[:-1].astype(np.float64) + f16[1:]) / 2).astype(np.float32)
    edges = np.array([65504, 65519.99, 65520, 1e6, 2.0**-24, 2.0**-25, 3 * 2.0**-26, -0.0, 0.0, np.inf, -np.inf,
                      1 + 2.0**-8, 1 + 3 * 2.0**-8, 3.4e38], dtype=np.float32)
    normals = (rng.standard_normal(4000) * 10.0 ** rng.integers(-8, 8, 4000)).astype(np.float32)
    values = np.concatenate([f16, -ties, edges, -edges, normals])
    return values


def test_casts_round_to_nearest_even_like_numpy_and_the_bf16_reference(rng: np.random.Generator) -> None:
    x = edge_values(rng)
    t = fg.tensor(x)
    with np.errstate(over="ignore"):
        want_f16 = x.astype(np.float16)
    got_f16 = t.half()
    assert got_f16.dtype == "float16"
    np.testing.assert_array_equal(got_f16.numpy().view(np.uint16), want_f16.view(np.uint16))
    got_bf16 = t.to("bfloat16")
    assert got_bf16.dtype == "bfloat16"
    np.testing.assert_array_equal(got_bf16.float().numpy().view(np.uint32), bf16_values(x).view(np.uint32))
    # Back to float32 is exact, and bf16 <-> f16 goes through those exact float32 values.
    np.testing.assert_array_equal(got_f16.float().numpy(), want_f16.astype(np.float32))
    with np.errstate(over="ignore"):
        np.testing.assert_array_equal(got_bf16.half().numpy(), bf16_values(x).astype(np.float16))
    assert np.isnan(fg.tensor(np.array([np.nan], np.float32)).bfloat16().float().numpy()).all()


def test_strided_views_and_integer_casts() -> None:
    x = np.arange(24, dtype=np.float32).reshape(4, 6) * 1.37 - 9
    t = fg.tensor(x).T[1:, ::2]
    np.testing.assert_array_equal(t.half().numpy(), x.T[1:, ::2].astype(np.float16))
    np.testing.assert_array_equal(t.bfloat16().float().numpy(), bf16_values(np.ascontiguousarray(x.T[1:, ::2])))
    ints = fg.tensor(np.array([-3, 0, 7, 300], np.int64))
    np.testing.assert_array_equal(ints.half().numpy(), np.array([-3, 0, 7, 300], np.float16))
    np.testing.assert_array_equal(fg.tensor(np.array([-2.75, 0.5, 3.5], np.float16)).long().numpy(), [-2, 0, 3])
    np.testing.assert_array_equal(fg.tensor(np.array([0, 1.5, -0.0], np.float32)).bfloat16().to("bool").numpy(),
                                  [False, True, False])


def test_numpy_interop_and_creation() -> None:
    a = np.array([[0.1, -2.5], [65504, 6e-8]], np.float16)
    t = fg.tensor(a)
    assert t.dtype == "float16" and t.shape == (2, 2)
    out = t.numpy()
    assert out.dtype == np.float16
    np.testing.assert_array_equal(out, a)
    b = fg.tensor([[0.1, 1.0 + 2.0**-9]], dtype="bfloat16")
    assert b.dtype == "bfloat16"
    np.testing.assert_array_equal(b.float().numpy(), bf16_values(np.array([[0.1, 1.0 + 2.0**-9]], np.float32)))
    with pytest.raises(TypeError, match="bfloat16"):
        b.numpy()
    copy = fg.tensor(b)
    assert copy.dtype == "bfloat16"
    np.testing.assert_array_equal(copy.float().numpy(), b.float().numpy())
    assert fg.tensor(a, dtype="float32").dtype == "float32"
    source = fg.tensor([2.0, -3.0], requires_grad=True)
    for name, want in (("float64", "float32"), ("int64", "int64"), ("float16", "float16"), (None, "float32")):
        copied = fg.tensor(source, dtype=name)
        assert copied.dtype == want and not copied.requires_grad and copied.float().tolist() == [2.0, -3.0]
    assert fg.tensor(np.ones(3, np.float32), dtype="float16").numpy().dtype == np.float16
    z = fg.zeros(2, 3, dtype="bfloat16")
    assert z.dtype == "bfloat16" and z.float().numpy().sum() == 0
    assert fg.full((2,), 1.0 + 2.0**-9, dtype="bfloat16").float().tolist() == [1.0, 1.0]
    assert fg.full((1,), 0.1, dtype="float16").item() == float(np.float16(0.1))
    assert "bfloat16" in repr(z)
    with pytest.raises(ValueError, match="dtype"):
        fg.tensor([1.0], dtype="float8")


def test_gradients_flow_through_casts_in_each_dtype(rng: np.random.Generator) -> None:
    x = fg.tensor(rng.standard_normal((3, 4)).astype(np.float32), requires_grad=True)
    w = rng.standard_normal((3, 4)).astype(np.float32)
    (x.half().float() * fg.tensor(w)).sum().backward()
    assert x.grad.dtype == "float32"
    np.testing.assert_array_equal(x.grad.numpy(), w.astype(np.float16).astype(np.float32))
    h = fg.tensor(rng.standard_normal((3, 4)).astype(np.float32), dtype="bfloat16", requires_grad=True)
    (h.float() * fg.tensor(w)).sum().backward()
    assert h.grad.dtype == "bfloat16"
    np.testing.assert_array_equal(h.grad.float().numpy(), bf16_values(w))


def test_mixed_dtype_products_name_the_dtype() -> None:
    h = fg.ones(2, 2, dtype="float16")
    with pytest.raises(TypeError, match="float16"):
        fg.nn.Linear(2, 2)(h)  # a float32 layer: products refuse mixed dtypes, as in PyTorch


def test_safetensors_keep_16_bit_tensors_bit_for_bit(tmp_path: Path, rng: np.random.Generator) -> None:
    x = rng.standard_normal((5, 3)).astype(np.float32)
    tensors = {"h": fg.tensor(x).half(), "b": fg.tensor(x).bfloat16(), "w": fg.tensor(x)}
    path = tmp_path / "m.safetensors"
    fg.save_safetensors(tensors, str(path))
    back = fg.load_safetensors(str(path))
    assert back["h"].dtype == "float16" and back["b"].dtype == "bfloat16"
    np.testing.assert_array_equal(back["h"].numpy(), x.astype(np.float16))
    np.testing.assert_array_equal(back["b"].float().numpy(), bf16_values(x))
    # The file holds the raw 16-bit values (read independently of ferrograd).
    import json
    import struct

    raw = path.read_bytes()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n])
    start, end = header["b"]["data_offsets"]
    assert header["b"]["dtype"] == "BF16" and header["h"]["dtype"] == "F16"
    np.testing.assert_array_equal(np.frombuffer(raw[8 + n + start:8 + n + end], np.uint16), bf16_bits(x).ravel())
    # A 16-bit checkpoint loads into a float32 model (values widened exactly).
    layer = fg.nn.Linear(3, 5)
    fg.save_safetensors({"weight": fg.tensor(x).bfloat16(), "bias": fg.zeros(5, dtype="float16")}, str(path))
    layer.load(str(path))
    assert layer.weight.dtype == "float32"
    np.testing.assert_array_equal(layer.weight.detach().numpy(), bf16_values(x))


@pytest.mark.parametrize("dtype", ["bfloat16", "float16"])
@pytest.mark.parametrize("causal", [False, True])
def test_attention_over_16_bit_inputs(dtype: str, causal: bool, rng: np.random.Generator) -> None:
    """On the CPU the op runs on the inputs' exact float32 values and rounds the output (and the
    gradients, which return in the inputs' dtype) once: it equals the float32 op on the widened
    inputs, rounded; and it matches a float64 reference within the format's rounding."""
    shape_q, shape_kv = (2, 3, 7, 16), (2, 3, 9, 16)
    q, k, v = (fg.tensor(rng.standard_normal(s).astype(np.float32), dtype=dtype, requires_grad=True)
               for s in (shape_q, shape_kv, shape_kv))
    out = F.scaled_dot_product_attention(q, k, v, is_causal=causal)
    assert out.dtype == dtype
    wide = [fg.tensor(t.detach().float().numpy(), requires_grad=True) for t in (q, k, v)]
    out32 = F.scaled_dot_product_attention(*wide, is_causal=causal)
    np.testing.assert_array_equal(out.detach().float().numpy(), out32.detach().to(dtype).float().numpy())
    tolerance = 2 ** -8 if dtype == "bfloat16" else 2 ** -11
    want = sdpa_reference(*(t.detach().numpy().astype(np.float64) for t in wide), causal=causal)
    np.testing.assert_allclose(out.detach().float().numpy(), want, rtol=tolerance, atol=tolerance)
    grad = fg.tensor(rng.standard_normal(out.shape).astype(np.float32), dtype=dtype)
    out.backward(grad)
    out32.backward(grad.float())
    for t, w in zip((q, k, v), wide):
        assert t.grad.dtype == dtype
        np.testing.assert_array_equal(t.grad.float().numpy(), w.grad.to(dtype).float().numpy())


def test_attention_inputs_must_share_their_dtype() -> None:
    q = fg.ones(1, 4, 8, dtype="bfloat16")
    with pytest.raises(TypeError, match="bfloat16"):
        F.scaled_dot_product_attention(q, q.half(), q)
    with pytest.raises(TypeError):
        F.scaled_dot_product_attention(q.float(), q, q)


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
def test_in_place_writes_into_16_bit_tensors_round_to_nearest_even(dtype: str) -> None:
    t = fg.zeros(2, 3, dtype=dtype)
    t.fill_(1.5)
    t[1] = fg.tensor([0.1, 2.0, -3.0])
    t[0, 1:] = 7.0
    reference = np.array([[1.5, 7.0, 7.0], [0.1, 2.0, -3.0]], dtype=np.float32)
    expected = fg.tensor(reference).to(dtype).float().numpy()
    np.testing.assert_array_equal(t.float().numpy(), expected)
    assert t.dtype == dtype and t.float().numpy()[1, 0] != np.float32(0.1)
