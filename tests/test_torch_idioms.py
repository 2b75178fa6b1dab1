"""PyTorch idioms that ferrograd accepts with PyTorch's results (zero_grad(set_to_none),
pickling and deep copies, Sequential editing, dtype conversion of modules, ...)."""

from __future__ import annotations

import copy
import pickle

import numpy as np
import pytest

import ferrograd as fg
from ferrograd import nn


def _backward_once(model: nn.Module) -> None:
    model(fg.ones(2, 3)).sum().backward()


def test_zero_grad_set_to_none_on_modules_and_optimizers():
    model = nn.Linear(3, 2)
    opt = fg.optim.SGD(model.parameters(), lr=0.1)
    _backward_once(model)
    model.zero_grad(set_to_none=False)
    np.testing.assert_array_equal(model.weight.grad.numpy(), np.zeros((2, 3), np.float32))
    np.testing.assert_array_equal(model.bias.grad.numpy(), np.zeros(2, np.float32))
    model.zero_grad()
    assert model.weight.grad is None and model.bias.grad is None
    _backward_once(model)
    model.zero_grad(set_to_none=True)
    assert model.weight.grad is None
    _backward_once(model)
    opt.zero_grad(set_to_none=False)
    np.testing.assert_array_equal(model.weight.grad.numpy(), np.zeros((2, 3), np.float32))
    # Zeroed in place: the next backward accumulates onto zeros.
    _backward_once(model)
    np.testing.assert_array_equal(model.bias.grad.numpy(), np.full(2, 2.0, np.float32))
    opt.zero_grad()
    assert model.weight.grad is None
    with pytest.raises(TypeError, match="set_to_none"):
        model.zero_grad(set_to_none="yes")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="set_to_none"):
        opt.zero_grad(set_to_none=None)  # type: ignore[arg-type]


def test_pickle_and_deepcopy_tensors_keep_dtype_shape_and_requires_grad():
    t = fg.tensor([[1.5, -2.0, 3.25]]).to(fg.bfloat16)
    back = pickle.loads(pickle.dumps(t))
    assert back.dtype == "bfloat16" and tuple(back.shape) == (1, 3)
    np.testing.assert_array_equal(back.float().numpy(), [[1.5, -2.0, 3.25]])
    ints = pickle.loads(pickle.dumps(fg.tensor([1, 2, 3])))
    assert ints.dtype == "int64" and ints.tolist() == [1, 2, 3]
    scalar = pickle.loads(pickle.dumps(fg.ones(2, 3).sum()))
    assert tuple(scalar.shape) == () and scalar.item() == 6.0
    w = fg.tensor([1.0, 2.0], requires_grad=True)
    (w * 3).sum().backward()
    d = copy.deepcopy(w)
    assert d is not w and d.requires_grad and d.is_leaf and str(d.device) == "cpu"
    np.testing.assert_array_equal(d.detach().numpy(), [1.0, 2.0])
    np.testing.assert_array_equal(d.grad.numpy(), [3.0, 3.0])
    d.grad = None
    np.testing.assert_array_equal(w.grad.numpy(), [3.0, 3.0])
    assert pickle.loads(pickle.dumps(w)).requires_grad
    with pytest.raises(RuntimeError, match="leaves"):
        copy.deepcopy(w * 2)


def test_deepcopy_of_a_model_trains_independently():
    fg.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.ReLU(), nn.Linear(4, 1))
    clone = copy.deepcopy(model)
    before = {k: v.numpy().copy() for k, v in model.state_dict().items()}
    assert list(clone.state_dict()) == list(before)
    for p, q in zip(model.parameters(), clone.parameters()):
        assert p is not q and q.requires_grad and q.is_leaf
        np.testing.assert_array_equal(p.detach().numpy(), q.detach().numpy())
    opt = fg.optim.SGD(clone.parameters(), lr=0.5)
    clone(fg.randn(8, 3)).sum().backward()
    opt.step()
    for k, v in model.state_dict().items():
        np.testing.assert_array_equal(v.numpy(), before[k])
    assert any(not np.array_equal(v.numpy(), before[k]) for k, v in clone.state_dict().items())
    assert all(p.grad is None for p in model.parameters())


def test_sequential_setitem_delitem_insert_extend():
    model = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 3))
    new = nn.Linear(3, 2)
    model[2] = new
    assert model[2] is new and model[-1] is new
    assert list(model.state_dict()) == ["0.weight", "0.bias", "2.weight", "2.bias"]
    assert any(p is new.weight for p in model.parameters())
    assert tuple(model(fg.ones(1, 4)).shape) == (1, 2)
    first = model[0]
    del model[0]
    assert [type(m).__name__ for m in model] == ["ReLU", "Linear"]
    assert list(model.state_dict()) == ["1.weight", "1.bias"]
    model.insert(0, first)
    assert list(model.state_dict()) == ["0.weight", "0.bias", "2.weight", "2.bias"]
    model.insert(-1, nn.Tanh())
    assert [type(m).__name__ for m in model] == ["Linear", "ReLU", "Tanh", "Linear"]
    model.extend(nn.Sequential(nn.Sigmoid()))
    model.append(nn.Identity())
    assert [type(m).__name__ for m in model] == ["Linear", "ReLU", "Tanh", "Linear", "Sigmoid", "Identity"]
    del model[1:3]
    assert [type(m).__name__ for m in model] == ["Linear", "Linear", "Sigmoid", "Identity"]
    assert list(model.state_dict()) == ["0.weight", "0.bias", "1.weight", "1.bias"]
    x = fg.ones(1, 4)
    expected = 1 / (1 + np.exp(-(new(first(x)).detach().numpy())))
    np.testing.assert_allclose(model(x).detach().numpy(), expected, rtol=1e-6)
    with pytest.raises(IndexError, match="idx"):
        model[4] = nn.ReLU()
    with pytest.raises(TypeError, match="Module"):
        model[0] = "relu"  # type: ignore[assignment]
    with pytest.raises(IndexError, match="index"):
        model.insert(9, nn.ReLU())


def test_module_float_half_bfloat16_cast_parameters_and_buffers():
    model = nn.Sequential(nn.Linear(3, 2), nn.BatchNorm1d(2))
    weight = model[0].weight.detach().numpy().copy()
    assert model.half() is model
    dtypes = {k: v.dtype for k, v in model.state_dict().items()}
    assert dtypes == {"0.weight": "float16", "0.bias": "float16", "1.weight": "float16", "1.bias": "float16",
                      "1.running_mean": "float16", "1.running_var": "float16", "1.num_batches_tracked": "int64"}
    assert all(p.requires_grad and p.is_leaf for p in model.parameters())
    model.bfloat16()
    assert {p.dtype for p in model.parameters()} == {"bfloat16"}
    model.float()
    assert list(model.state_dict()) == list(dtypes)
    assert {p.dtype for p in model.parameters()} == {"float32"}
    np.testing.assert_allclose(model[0].weight.detach().numpy(), weight, rtol=1e-2)
    assert tuple(model(fg.ones(4, 3)).shape) == (4, 2)
    with pytest.raises(TypeError, match="float64"):
        model.double()


def test_clip_grad_norm_returns_a_0d_tensor():
    a = fg.tensor([3.0, 0.0], requires_grad=True)
    a.grad = fg.tensor([3.0, 4.0])
    norm = nn.utils.clip_grad_norm_(a, 1.0)
    assert isinstance(norm, fg.Tensor) and tuple(norm.shape) == () and norm.dtype == "float32"
    assert float(norm) == pytest.approx(5.0)
    np.testing.assert_allclose(a.grad.numpy(), [3 / (5 + 1e-6), 4 / (5 + 1e-6)], rtol=1e-6)


def test_full_infers_its_dtype_from_the_fill_value():
    assert fg.full((2,), True).dtype == "bool" and fg.full((2,), True).tolist() == [True, True]
    assert fg.full((2, 1), 3).dtype == "int64" and fg.full((2, 1), 3).tolist() == [[3], [3]]
    assert fg.full((2,), -2**60).tolist() == [-2**60, -2**60]
    assert fg.full((2,), 2.5).dtype == "float32" and fg.full((2,), 2.5).tolist() == [2.5, 2.5]
    assert fg.full((2,), 3, dtype="float32").tolist() == [3.0, 3.0]
    assert fg.full_like(fg.tensor([1, 2]), 7).dtype == "int64"
    assert fg.full_like(fg.ones(2), 7).dtype == "float32"
    assert fg.ones(2).dtype == "float32" and fg.zeros(2).dtype == "float32"
    with pytest.raises(TypeError, match="value"):
        fg.full((2,), "3")  # type: ignore[arg-type]


def test_clamp_with_tensor_bounds_matches_pytorch_values_and_gradients():
    x = fg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    lo = fg.tensor([2.0, 2.0, 2.0], requires_grad=True)
    hi = fg.tensor([2.5, 2.5, 3.0], requires_grad=True)
    y = fg.clamp(x, min=lo, max=hi)
    y.sum().backward()
    # Values and gradients from torch.clamp (ties split half and half).
    np.testing.assert_array_equal(y.detach().numpy(), [2.0, 2.0, 3.0])
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 0.5, 0.5])
    np.testing.assert_array_equal(lo.grad.numpy(), [1.0, 0.5, 0.0])
    np.testing.assert_array_equal(hi.grad.numpy(), [0.0, 0.0, 0.5])
    # PGD projection: x_adv.clamp(x - eps, x + eps), bounds broadcasting, min > max gives max.
    base = fg.tensor([[0.0, 1.0], [2.0, 3.0]])
    adv = fg.tensor([[0.5, 0.95], [1.0, 3.05]])
    np.testing.assert_allclose(adv.clip(base - 0.1, base + 0.1).numpy(), [[0.1, 0.95], [1.9, 3.05]], rtol=1e-6)
    np.testing.assert_array_equal(base.clamp(min=fg.tensor([1.0, 0.0])).numpy(), [[1.0, 1.0], [2.0, 3.0]])
    np.testing.assert_array_equal(fg.clamp(fg.tensor([1.0, 5.0]), fg.tensor(2.0), fg.tensor(1.0)).numpy(), [1.0, 1.0])
    mixed = fg.tensor([1.0, 5.0])
    mixed.clamp_(fg.tensor(2.0), 3.0)
    np.testing.assert_array_equal(mixed.numpy(), [2.0, 3.0])


def test_clamp_of_integer_tensors():
    out = fg.tensor([1, 5, -2]).clamp(0, 3)
    assert out.dtype == "int64" and out.tolist() == [1, 3, 0]
    assert fg.tensor([1, 5]).clamp(min=fg.tensor([2, 2])).tolist() == [2, 5]
    promoted = fg.tensor([1, 5]).clamp(0.5, 3)
    assert promoted.dtype == "float32" and promoted.tolist() == [1.0, 3.0]
    with pytest.raises(ValueError, match="min"):
        fg.tensor([1, 2]).clamp()
    with pytest.raises(TypeError, match="min"):
        fg.tensor([1, 2]).clamp(min="0")  # type: ignore[arg-type]


def test_to_accepts_pytorchs_keyword_and_positional_forms():
    x = fg.tensor([[1.5, -2.0]])
    assert x.to(dtype=fg.float16).dtype == "float16"
    y = x.to("cpu", fg.bfloat16)
    assert y.dtype == "bfloat16" and str(y.device) == "cpu" and y.float().tolist() == [[1.5, -2.0]]
    assert x.to(x.device, non_blocking=True).tolist() == [[1.5, -2.0]]
    assert x.to(device="cpu", dtype=fg.int64).tolist() == [[1, -2]]
    like = x.to(fg.tensor([1]))
    assert like.dtype == "int64" and like.tolist() == [[1, -2]]
    assert x.to(fg.float32, copy=True) is not x
    w = fg.tensor([1.0, 2.0], requires_grad=True)
    w.to(dtype=fg.float32).sum().backward()
    assert w.grad.tolist() == [1.0, 1.0]
    with pytest.raises(TypeError, match="dtype"):
        x.to(dtype="float64")
    with pytest.raises(TypeError, match="blocking"):
        x.to("cpu", blocking=True)


def test_reduction_keyword_forms():
    x = fg.tensor([[1.0, 5.0], [7.0, 2.0]])
    values, indices = fg.max(x, dim=1)
    assert values.tolist() == [5.0, 7.0] and indices.tolist() == [1, 0]
    low = fg.min(x, dim=1, keepdim=True)
    assert low.values.tolist() == [[1.0], [2.0]] and low.indices.tolist() == [[0], [1]]
    assert fg.max(x, other=fg.full((2,), 3.0)).tolist() == [[3.0, 5.0], [7.0, 3.0]]
    assert x.sum(axis=1).tolist() == [6.0, 9.0] and fg.sum(x, axis=0).tolist() == [8.0, 7.0]
    assert x.mean(axis=0, keepdim=True).tolist() == [[4.0, 3.5]] and fg.mean(x, axis=1).tolist() == [3.0, 4.5]
    as_float = fg.tensor([1, 2, 4]).sum(dtype=fg.float32)
    assert as_float.dtype == "float32" and as_float.item() == 7.0
    assert x.sum(dim=0).tolist() == [8.0, 7.0] and x.sum().item() == 15.0
    with pytest.raises(TypeError, match="axis"):
        x.sum(1, axis=1)
    with pytest.raises(TypeError, match="dim"):
        fg.max(x, 1, dim=1)


def test_no_grad_and_enable_grad_as_bare_decorators():
    @fg.no_grad
    def doubled(x: fg.Tensor) -> tuple[fg.Tensor, bool]:
        return x * 2, fg.is_grad_enabled()

    @fg.enable_grad
    def tripled(x: fg.Tensor) -> fg.Tensor:
        return x * 3

    w = fg.ones(2, requires_grad=True)
    out, enabled = doubled(w)
    assert doubled.__name__ == "doubled" and not enabled and not out.requires_grad and out.tolist() == [2.0, 2.0]
    assert fg.is_grad_enabled()
    with fg.no_grad():
        assert tripled(w).requires_grad
    assert not fg.no_grad()(lambda: (w * 2).requires_grad)()
    with pytest.raises(TypeError, match="no_grad"):
        fg.no_grad(3)  # type: ignore[call-arg]


def test_one_hot_returns_int64_like_pytorch():
    import ferrograd.functional as F

    hot = F.one_hot(fg.tensor([2, 0, 1]))
    assert hot.dtype == "int64" and hot.tolist() == [[0, 0, 1], [1, 0, 0], [0, 1, 0]]
    assert nn.functional.one_hot(fg.tensor([[1], [0]]), 3).tolist() == [[[0, 1, 0]], [[1, 0, 0]]]
    targets = hot.float()
    assert targets.dtype == "float32" and targets.sum().item() == 3.0


def test_isinstance_parameter_is_true_for_registered_parameters_only():
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    registered = list(model.parameters())
    assert len(registered) == 4 and all(isinstance(p, nn.Parameter) for p in registered)
    # The idiom that selects weights by type while initialising.
    found = [p for m in model.modules() for p in vars(m).values() if isinstance(p, nn.Parameter)]
    assert len(found) == 4
    assert not isinstance(fg.zeros(3), nn.Parameter)
    assert not isinstance(registered[0] * 2, nn.Parameter)  # not a leaf
    assert not isinstance(3.0, nn.Parameter)
    wrapped = nn.Parameter(fg.zeros(2))
    assert isinstance(wrapped, nn.Parameter) and wrapped.requires_grad and wrapped.is_leaf
    registered[0].requires_grad_(False)
    assert not isinstance(registered[0], nn.Parameter)


def test_squeeze_takes_a_tuple_of_axes():
    x = fg.zeros(1, 3, 1, 2, 1)
    assert x.squeeze((0, 2)).shape == (3, 2, 1)
    assert fg.squeeze(x, (0, -1)).shape == (3, 1, 2)
    assert x.squeeze(dim=(1, 2)).shape == (1, 3, 2, 1)  # size-3 axis 1 stays, as in PyTorch
    assert x.squeeze(()).shape == (1, 3, 1, 2, 1)
    assert fg.zeros(()).squeeze((0,)).shape == ()
    with pytest.raises(ValueError, match="squeeze.*distinct axes"):
        x.squeeze((0, -5))
    with pytest.raises((ValueError, IndexError), match="squeeze"):
        x.squeeze((0, 5))
    grad_source = fg.ones(1, 3, requires_grad=True)
    (grad_source.squeeze((0,)) * fg.tensor([1.0, 2.0, 3.0])).sum().backward()
    np.testing.assert_array_equal(grad_source.grad.numpy(), [[1.0, 2.0, 3.0]])


def test_cumsum_and_cumprod_of_integer_tensors_are_exact_int64():
    values = np.array([[3, -1, 4], [1, 5, 9]], np.int64)
    t = fg.tensor(values)
    for dim in (0, 1, -1):
        got = t.cumsum(dim)
        assert got.dtype == "int64"
        np.testing.assert_array_equal(got.numpy(), np.cumsum(values, axis=dim))
        np.testing.assert_array_equal(fg.cumprod(t, dim).numpy(), np.cumprod(values, axis=dim))
    big = fg.tensor(np.array([2**40, 2**40 + 1], np.int64))
    assert big.cumsum(0).numpy().tolist() == [2**40, 2**41 + 1]  # exact past float32's 24 bits
    np.testing.assert_array_equal((t > 2).cumsum(1).numpy(), np.cumsum(values > 2, axis=1))
    assert fg.tensor(7).cumsum(0).shape == () and fg.tensor(7).cumsum(0).item() == 7


def test_to_names_both_kinds_of_argument_for_an_unknown_string():
    x = fg.zeros(2)
    for bad in ("int16", "float64", "gpu"):
        with pytest.raises(ValueError, match=rf"to\(\): argument expected a device .* or a dtype .*got '{bad}'"):
            x.to(bad)
    assert x.to("int64").dtype == "int64" and x.to("cpu").dtype == "float32"
    # A conversion that changes nothing returns the tensor itself, as in PyTorch.
    assert x.to("cpu") is x and x.to("float32") is x and x.to(x) is x and x.to(device="cpu") is x
    assert x.to("cpu", copy=True) is not x and x.to("int64") is not x


def test_norms_and_medians_of_values_holding_nan_are_nan():
    nan = float("nan")
    assert np.isnan(fg.linalg.vector_norm(fg.tensor([nan, 1.0])).item())
    assert np.isnan(fg.tensor([[nan, 0.0]]).norm().item())
    assert np.isnan(fg.cdist(fg.tensor([[nan, 0.0]]), fg.tensor([[1.0, 1.0]])).item())
    zero = fg.zeros(3, requires_grad=True)
    zero.norm().backward()
    np.testing.assert_array_equal(zero.grad.numpy(), np.zeros(3, np.float32))  # gradient 0 at 0
    assert np.isnan(fg.tensor([1.0, nan, 2.0]).median().item())
    assert fg.tensor([3.0, 1.0, 2.0, 5.0]).median().item() == 2.0
    x = fg.tensor([[1.0, nan, 2.0], [3.0, 1.0, 2.0]], requires_grad=True)
    values, indices = x.median(1)
    assert np.isnan(values.tolist()[0]) and values.tolist()[1] == 2.0
    assert indices.tolist() == [1, 2]
    values.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])


def test_optimizer_state_is_keyed_by_parameter_and_step_takes_a_closure():
    fg.manual_seed(0)
    model = nn.Linear(3, 1)
    opt = fg.optim.Adam(model.parameters(), lr=0.1)
    x, y = fg.randn(8, 3), fg.randn(8, 1)
    assert opt.state[model.weight] == {}

    def closure():
        opt.zero_grad()
        loss = ((model(x) - y) ** 2).mean()
        loss.backward()
        return loss

    with fg.no_grad():  # the closure still runs with gradients on
        first = opt.step(closure)
    assert isinstance(first, fg.Tensor) and first.ndim == 0
    state = opt.state[model.weight]
    assert state["step"] == 1 and tuple(state["exp_avg"].shape) == (1, 3)
    losses = [float(opt.step(closure)) for _ in range(30)]
    assert losses[-1] < 0.5 * float(first)
    assert opt.step() is None


def test_backward_with_inputs_accumulates_only_into_them():
    a = fg.tensor([1.0, 2.0], requires_grad=True)
    b = fg.tensor([3.0, 4.0], requires_grad=True)
    (a * b).sum().backward(inputs=[a])
    assert a.grad.tolist() == [3.0, 4.0] and b.grad is None
    (a * b * b).sum().backward(inputs=(a, b))  # accumulates: a.grad += b^2, b.grad = 2ab
    assert a.grad.tolist() == [12.0, 20.0] and b.grad.tolist() == [6.0, 16.0]
    (a * a).sum().backward(inputs=b)  # b is unused: its gradient is left alone
    assert b.grad.tolist() == [6.0, 16.0]
    x = fg.tensor([0.5, -1.0], requires_grad=True)
    (x**3).sum().backward(inputs=[x], create_graph=True)
    assert x.grad.requires_grad  # the pass was recorded
    np.testing.assert_allclose(fg.autograd.grad(x.grad.sum(), x)[0].numpy(), [3.0, -6.0])
    with pytest.raises(RuntimeError, match="inputs.*empty"):
        (a * b).sum().backward(inputs=[])
    with pytest.raises(TypeError, match="backward: argument `inputs` expected tensors, got int"):
        (a * b).sum().backward(inputs=[3])
