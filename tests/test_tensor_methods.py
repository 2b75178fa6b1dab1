"""PyTorch's composite Tensor methods, function forms and factories against numpy, with gradients
checked against their analytic values (float32 inputs; tolerances stated per check)."""

from __future__ import annotations

import math

import numpy as np
import pytest

import ferrograd as fg


@pytest.fixture
def x() -> np.ndarray:
    return np.random.default_rng(3).normal(size=(3, 4, 5)).astype(np.float32)


def grad_of(fn, value: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
    """d/dx of sum(weights * fn(x)) through ferrograd's autograd."""
    leaf = fg.tensor(value, requires_grad=True)
    out = fn(leaf)
    w = np.random.default_rng(9).normal(size=out.shape).astype(np.float32) if weights is None else weights
    (out * fg.tensor(w)).sum().backward()
    return leaf.grad.numpy()


def test_arithmetic_comparison_and_shape_methods_match_numpy(x: np.ndarray) -> None:
    t, u = fg.tensor(x), fg.tensor(x[::-1].copy())
    y = x[::-1]
    np.testing.assert_array_equal(t.add(u, alpha=2).numpy(), x + np.float32(2) * y)
    np.testing.assert_array_equal(t.sub(u).numpy(), x - y)
    np.testing.assert_array_equal(t.mul(u).numpy(), x * y)
    np.testing.assert_array_equal(t.div(u).numpy(), x / y)
    for name, op in [("eq", np.equal), ("ne", np.not_equal), ("lt", np.less), ("le", np.less_equal),
                     ("gt", np.greater), ("ge", np.greater_equal)]:
        np.testing.assert_array_equal(getattr(t, name)(u).numpy(), op(x, y), err_msg=name)
    np.testing.assert_allclose(t.reciprocal().numpy(), 1 / x, rtol=1e-6)
    np.testing.assert_allclose(t.abs().rsqrt().numpy(), 1 / np.sqrt(np.abs(x)), rtol=1e-6)
    np.testing.assert_allclose(t.lerp(u, 0.3).numpy(), x + np.float32(0.3) * (y - x), rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(t.std(1).numpy(), x.std(1, ddof=1), rtol=1e-5)
    np.testing.assert_allclose(fg.std(t, 2, correction=0).numpy(), x.std(2), rtol=1e-5)
    m = fg.tensor(x[0])
    assert m.t().shape == (5, 4) and t.mT.shape == (3, 5, 4) and fg.ones(3).t().shape == (3,)
    assert t.view_as(fg.zeros(60)).shape == (60,) and t.reshape_as(fg.zeros(12, 5)).shape == (12, 5)
    assert fg.ones(1, 5).expand_as(m).shape == (4, 5) and fg.ones(2).long().type_as(t).dtype == "float32"
    np.testing.assert_array_equal(t.narrow(1, 1, 2).numpy(), x[:, 1:3])
    np.testing.assert_array_equal(t.narrow(-1, -2, 2).numpy(), x[..., 3:])
    for got, want in zip(t.split(2, 1), np.split(x, [2], 1)):
        np.testing.assert_array_equal(got.numpy(), want)
    for got, want in zip(t.split([1, 3, 1], 2), np.split(x, [1, 4], 2)):
        np.testing.assert_array_equal(got.numpy(), want)
    assert [c.shape[2] for c in t.chunk(3, 2)] == [2, 2, 1] and len(fg.chunk(t, 5, 0)) == 3
    assert [s.tolist() for s in fg.tensor([[1.0, 2.0], [3.0, 4.0]]).unbind(1)] == [[1.0, 3.0], [2.0, 4.0]]
    np.testing.assert_array_equal(t.repeat(2, 1, 3).numpy(), np.tile(x, (2, 1, 3)))
    np.testing.assert_array_equal(m.repeat(2, 1, 2).numpy(), np.tile(x[0], (2, 1, 2)))
    np.testing.assert_array_equal(t.flip((0, 2)).numpy(), x[::-1, :, ::-1])
    for k in (-1, 0, 2):
        np.testing.assert_array_equal(t.tril(k).numpy(), np.tril(x, k))
        np.testing.assert_array_equal(fg.triu(t, k).numpy(), np.triu(x, k))
    np.testing.assert_array_equal(t.masked_fill(t > 0, -1.5).numpy(), np.where(x > 0, np.float32(-1.5), x))
    np.testing.assert_allclose(fg.outer(fg.tensor(x[0, 0]), fg.tensor(x[1, 1])).numpy(), np.outer(x[0, 0], x[1, 1]),
                               rtol=1e-6)
    np.testing.assert_allclose(m.mm(fg.tensor(x[1].T)).numpy(), x[0] @ x[1].T, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(t.bmm(t.mT).numpy(), x @ x.transpose(0, 2, 1), rtol=1e-5, atol=1e-5)


def test_reductions_sorting_and_predicates_match_numpy(x: np.ndarray) -> None:
    t = fg.tensor(x)
    for dim in (0, 1, 2):
        # A prefix sum groups additions differently from numpy's running sum: a few ulps apart.
        np.testing.assert_allclose(t.cumsum(dim).numpy(), np.cumsum(x, dim), rtol=1e-5, atol=1e-5)
    for p, want in [(2, np.sqrt((x**2).sum())), ("fro", np.sqrt((x**2).sum())), (1, np.abs(x).sum()),
                    (math.inf, np.abs(x).max()), (-math.inf, np.abs(x).min()), (3, (np.abs(x)**3).sum() ** (1 / 3))]:
        np.testing.assert_allclose(t.norm(p).numpy(), want, rtol=1e-5, err_msg=str(p))
    np.testing.assert_allclose(t.norm(2, dim=(1, 2), keepdim=True).numpy(),
                               np.sqrt((x**2).sum((1, 2), keepdims=True)), rtol=1e-5)
    np.testing.assert_allclose(fg.norm(t, math.inf, dim=1).numpy(), np.abs(x).max(1), rtol=0)
    ties = np.array([[3.0, 1.0, 3.0, np.nan, -np.inf, 1.0, np.inf]], np.float32)
    for values in (x, ties):
        s = fg.tensor(values)
        for descending in (False, True):
            order = s.argsort(-1, descending=descending).numpy()
            want = (np.lexsort((-values, ~np.isnan(values)), axis=-1) if descending
                    else np.argsort(values, -1, kind="stable"))
            np.testing.assert_array_equal(order, want)
            result = s.sort(descending=descending)
            np.testing.assert_array_equal(result.values.numpy(), np.take_along_axis(values, want, -1))
    assert fg.tensor(ties).argsort(descending=True).tolist() == [[3, 6, 0, 2, 1, 5, 4]]
    assert fg.tensor(np.array([2, -2**62, 7, 2])).argsort(descending=True).tolist() == [2, 0, 3, 1]
    top = t.topk(2, dim=1)
    np.testing.assert_array_equal(top.values.numpy(), -np.sort(-x, 1)[:, :2])
    np.testing.assert_array_equal(top.indices.numpy(), np.argsort(-x, 1, kind="stable")[:, :2])
    np.testing.assert_array_equal(fg.topk(t, 3, largest=False).values.numpy(), np.sort(x, -1)[..., :3])
    odd = fg.tensor(np.array([1.0, np.nan, np.inf, -np.inf, 0.0], np.float32))
    assert odd.isnan().tolist() == [False, True, False, False, False]
    assert fg.isinf(odd).tolist() == [False, False, True, True, False]
    assert odd.isfinite().tolist() == [True, False, False, False, True]
    assert bool(odd.any()) and not bool(odd.all()) and bool(fg.ones(3).all())
    rows = fg.tensor(np.array([[0.0, 1.0], [0.0, 0.0]], np.float32))
    assert rows.any(1).tolist() == [True, False] and rows.all(0).tolist() == [False, False]
    assert fg.allclose(t, t + 1e-7) and not t.allclose(t + 1e-3) and fg.equal(t, t.clone()) and not t.equal(t[0])


def test_composite_methods_carry_gradients(x: np.ndarray) -> None:
    w = np.random.default_rng(9)
    g = w.normal(size=(3, 4, 5)).astype(np.float32)
    np.testing.assert_allclose(grad_of(lambda t: t.cumsum(1), x, g), np.flip(np.cumsum(np.flip(g, 1), 1), 1),
                               rtol=1e-5, atol=1e-5)
    np.testing.assert_array_equal(grad_of(lambda t: t.flip(2), x, g), g[..., ::-1])
    tiles = w.normal(size=(3, 8, 5)).astype(np.float32)
    np.testing.assert_allclose(grad_of(lambda t: t.repeat(1, 2, 1), x, tiles), tiles[:, :4] + tiles[:, 4:], rtol=1e-6)
    np.testing.assert_array_equal(grad_of(lambda t: t.tril(), x, g), np.tril(g))
    np.testing.assert_array_equal(grad_of(lambda t: t.masked_fill(t > 0, 0.0), x, g), np.where(x > 0, 0, g))
    sorted_g = w.normal(size=(3, 4, 5)).astype(np.float32)
    order = np.argsort(x, -1)
    want = np.zeros_like(x)
    np.put_along_axis(want, order, sorted_g, -1)
    np.testing.assert_allclose(grad_of(lambda t: t.sort().values, x, sorted_g), want, rtol=1e-6)
    n = np.sqrt((x**2).sum(-1, keepdims=True))
    norm_g = w.normal(size=(3, 4)).astype(np.float32)
    np.testing.assert_allclose(grad_of(lambda t: t.norm(dim=-1), x, norm_g), norm_g[..., None] * x / n, rtol=1e-5)
    zero = np.zeros((2, 3), np.float32)
    assert np.array_equal(grad_of(lambda t: t.norm(dim=1), zero, np.ones(2, np.float32)), zero)
    sd = x.std(2, ddof=1, keepdims=True)
    std_g = w.normal(size=(3, 4)).astype(np.float32)
    want = std_g[..., None] * (x - x.mean(2, keepdims=True)) / (4 * sd)
    np.testing.assert_allclose(grad_of(lambda t: t.std(2), x, std_g), want, rtol=1e-4, atol=1e-6)
    pieces = grad_of(lambda t: fg.cat([p * (i + 1) for i, p in enumerate(t.split([1, 3], 1))], 1), x, g)
    np.testing.assert_array_equal(pieces, np.concatenate([g[:, :1], 2 * g[:, 1:]], 1))


def test_in_place_methods_and_new_tensors() -> None:
    t = fg.tensor([1.0, -2.0, 3.0])
    assert t.add_(fg.tensor([1.0, 1.0, 1.0]), alpha=2).tolist() == [3.0, 0.0, 5.0]
    assert t.sub_(1).tolist() == [2.0, -1.0, 4.0] and t.mul_(2).tolist() == [4.0, -2.0, 8.0]
    assert t.div_(4).tolist() == [1.0, -0.5, 2.0] and t.clamp_(0.0, 1.5).tolist() == [1.0, 0.0, 1.5]
    assert t.fill_(7).tolist() == [7.0] * 3 and t.zero_().tolist() == [0.0] * 3
    leaf = fg.tensor([1.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="add_: in-place updates are not recorded by autograd"):
        leaf.add_(1.0)
    with pytest.raises(RuntimeError, match="mul_: in-place"):
        fg.zeros(1).mul_(leaf)
    with fg.no_grad():
        leaf.sub_(0.5)
    assert leaf.tolist() == [0.5]
    i = fg.tensor(np.array([1, 2], np.int64))
    assert i.new_zeros(2, 3).dtype == "int64" and i.new_ones((2,)).tolist() == [1, 1]
    assert t.new_full((2,), 0.5).tolist() == [0.5, 0.5] and t.new_tensor([1, 2]).dtype == "float32"
    assert t.element_size() == 4 and i.element_size() == 8 and t.half().element_size() == 2 and t.nelement() == 3


def test_factories_match_numpy_and_the_seeded_generator() -> None:
    assert fg.arange(5).tolist() == list(range(5)) and fg.arange(5).dtype == "int64"
    np.testing.assert_array_equal(fg.arange(1, 2, 0.25).numpy(), np.arange(1, 2, 0.25, dtype=np.float32))
    np.testing.assert_array_equal(fg.arange(10, 0, -3).numpy(), [10, 7, 4, 1])
    np.testing.assert_array_equal(fg.linspace(-1, 1, 5).numpy(), np.linspace(-1, 1, 5).astype(np.float32))
    np.testing.assert_array_equal(fg.eye(2, 3).numpy(), np.eye(2, 3, dtype=np.float32))
    assert fg.empty(2, 3).tolist() == [[0.0] * 3] * 2
    base = fg.zeros(2, 2)
    assert fg.full_like(base, 3).tolist() == [[3.0, 3.0]] * 2
    fg.manual_seed(5)
    u = fg.rand(4, 3)
    fg.manual_seed(5)
    np.testing.assert_array_equal(fg.rand_like(base.new_zeros(4, 3)).numpy(), u.numpy())
    fg.manual_seed(5)
    draws = fg.randint(-3, 4, (4, 3))
    np.testing.assert_array_equal(draws.numpy(), np.floor(u.numpy() * 7).astype(np.int64) - 3)
    fg.manual_seed(1)
    many = fg.randint(10, size=(20000,)).numpy()
    assert many.min() == 0 and many.max() == 9 and abs(np.bincount(many).std() / 2000) < 0.05
    fg.manual_seed(2)
    perm = fg.randperm(50)
    fg.manual_seed(2)
    assert sorted(perm.tolist()) == list(range(50)) and perm.tolist() == fg.randperm(50).tolist()
    fg.manual_seed(5)
    assert fg.randn_like(base).shape == (2, 2)
    assert fg.is_tensor(base) and not fg.is_tensor(np.zeros(2)) and fg.numel(base) == 4
    assert fg.from_numpy(np.ones(2)).dtype == "float32"


def test_function_forms_equal_their_methods(x: np.ndarray) -> None:
    t = fg.tensor(np.abs(x) + 0.1)
    for fn, method in [(fg.exp, t.exp), (fg.log, t.log), (fg.sqrt, t.sqrt), (fg.abs, t.abs), (fg.sigmoid, t.sigmoid),
                       (fg.tanh, t.tanh), (fg.relu, t.relu), (fg.softmax, t.softmax), (fg.log_softmax, t.log_softmax),
                       (fg.sum, t.sum), (fg.mean, t.mean), (fg.var, t.var), (fg.argmax, t.argmax),
                       (fg.argmin, t.argmin), (fg.flatten, t.flatten), (fg.isnan, t.isnan)]:
        np.testing.assert_array_equal(fn(t).numpy(), method().numpy(), err_msg=fn.__name__)
    np.testing.assert_array_equal(fg.matmul(t, t.mT).numpy(), (t @ t.mT).numpy())
    np.testing.assert_array_equal(fg.clamp(t, 0.5, 1.0).numpy(), t.clamp(0.5, 1.0).numpy())
    assert fg.reshape(t, (60,)).shape == (60,) and fg.transpose(t, 0, 2).shape == (5, 4, 3)
    assert fg.permute(t, (2, 0, 1)).shape == (5, 3, 4) and fg.unsqueeze(t, 0).shape == (1, 3, 4, 5)
    assert fg.squeeze(fg.unsqueeze(t, 1)).shape == (3, 4, 5) and fg.flip(t, 0).tolist() == t.flip(0).tolist()
    np.testing.assert_array_equal(fg.maximum(t, 1 - t).numpy(), np.maximum(t.numpy(), 1 - t.numpy()))
    np.testing.assert_array_equal(fg.minimum(t, 1 - t).numpy(), np.minimum(t.numpy(), 1 - t.numpy()))
    assert fg.max(t).item() == t.max().item() and fg.min(t, 1)[1].tolist() == t.min(1)[1].tolist()
    np.testing.assert_array_equal(fg.max(t, 1 - t).numpy(), np.maximum(t.numpy(), 1 - t.numpy()))
    np.testing.assert_array_equal(fg.min(t, 1 - t).numpy(), np.minimum(t.numpy(), 1 - t.numpy()))
    np.testing.assert_array_equal(fg.where(t > 1, t, 0.0).numpy(), np.where(t.numpy() > 1, t.numpy(), 0))
    np.testing.assert_array_equal(fg.where(t > 1, -1, t).numpy(), np.where(t.numpy() > 1, -1, t.numpy()))
    assert fg.where(t > 1, 1, 0).dtype == "float32"
    with pytest.raises(TypeError, match="where: argument `a` expected a Tensor or a number, got str"):
        fg.where(t > 1, "one", t)
    assert fg.sort(t).values.tolist() == t.sort().values.tolist()
    assert fg.argsort(t, 1).tolist() == t.argsort(1).tolist()
    assert fg.cumsum(t, 0).tolist() == t.cumsum(0).tolist() and len(fg.split(t, 2, 2)) == 3


def test_bad_arguments_raise_clear_errors() -> None:
    t = fg.zeros(2, 3)
    with pytest.raises(IndexError, match="narrow: argument `dim` expected a value in \\[-2, 1\\], got 2"):
        t.narrow(2, 0, 1)
    with pytest.raises(IndexError, match="narrow: entries 2..4 lie outside dimension 1 of size 3"):
        t.narrow(1, 2, 2)
    with pytest.raises(ValueError, match="split: argument `split_size_or_sections` expected sizes adding up to 3"):
        t.split([1, 1], 1)
    with pytest.raises(ValueError, match="chunk: argument `chunks` expected a positive number, got 0"):
        t.chunk(0)
    with pytest.raises(ValueError, match="repeat: argument `sizes` expected 2 or more"):
        t.repeat(2)
    with pytest.raises(ValueError, match="t: expected a tensor of at most 2 dimensions"):
        fg.zeros(1, 2, 3).t()
    with pytest.raises(ValueError, match="tril: expected a tensor of at least 2 dimensions"):
        fg.zeros(3).tril()
    with pytest.raises(ValueError, match="norm: argument `p` expected"):
        t.norm(-1)
    with pytest.raises(ValueError, match="topk: argument `k` expected a value in \\[0, 3\\], got 4"):
        t.topk(4)
    with pytest.raises(ValueError, match="div: argument `rounding_mode` expected None"):
        t.div(2, rounding_mode="round")
    with pytest.raises(ValueError, match="mm: expected two 2-D tensors"):
        fg.zeros(3).mm(t)
    with pytest.raises(ValueError, match="arange: argument `step`"):
        fg.arange(0, 3, 0)
    with pytest.raises(ValueError, match="randint: arguments `low` and `high` expected low < high, got 3 and 3"):
        fg.randint(3, 3, (2,))
    with pytest.raises(ValueError, match="randperm: argument `n`"):
        fg.randperm(-1)


@pytest.mark.parametrize("shape,dim,size,step", [((5, 7), 1, 3, 2), ((4, 6, 5), 0, 2, 1), ((4, 6, 5), -1, 5, 3),
                                                 ((7,), 0, 0, 2)])
def test_unfold_gives_the_sliding_windows_and_sums_their_gradients(shape, dim, size, step) -> None:
    """``Tensor.unfold``: numpy's sliding windows along ``dim``, every ``step``-th one, as a new
    last axis; the gradient of an element adds the upstream gradients of every window holding it."""
    rng = np.random.default_rng(3)
    x = rng.standard_normal(shape).astype(np.float32)
    axis = dim % len(shape)
    windows = np.lib.stride_tricks.sliding_window_view(x, size, axis=axis)
    expected = np.take(windows, np.arange(0, windows.shape[axis], step), axis=axis)
    t = fg.tensor(x, requires_grad=True)
    out = t.unfold(dim, size, step)
    np.testing.assert_array_equal(out.detach().numpy(), expected)
    g = rng.standard_normal(expected.shape).astype(np.float32)
    (out * fg.tensor(g)).sum().backward()
    grad = np.zeros_like(x, dtype=np.float64)
    for w in range(expected.shape[axis]):
        for j in range(size):
            index = [slice(None)] * len(shape)
            index[axis] = w * step + j
            upstream = np.take(np.take(g, w, axis=axis), j, axis=-1)
            grad[tuple(index)] += upstream
    np.testing.assert_allclose(t.grad.numpy(), grad, rtol=1e-6, atol=1e-6)
    with pytest.raises(ValueError, match="unfold: argument `step` expected a positive int"):
        t.unfold(dim, size, 0)
