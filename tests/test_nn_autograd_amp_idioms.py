"""PyTorch spellings in nn, autograd and amp: PReLU, padding='same', Huber loss, one_hot's default,
inplace=, add_module, gradient clipping by value, flat parameter vectors, autograd.grad's keywords,
inference_mode, amp.autocast and GradScaler.

References: numpy formulas for PReLU and Huber values and gradients; for padding='same', the
explicit zero padding PyTorch applies (``dilation * (k - 1)`` per axis, the smaller half first),
written with F.pad and run through F.conv2d; for GradScaler, PyTorch's algorithm (skip on inf/NaN
and halve, double after growth_interval clean steps) and the exact equality of a power-of-two
scaled step with the unscaled one.
"""

from __future__ import annotations

import numpy as np
import pytest

import ferrograd as fg
import ferrograd.nn.functional as F
from ferrograd import nn, optim


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(0)


def test_nn_functional_is_functional() -> None:
    assert F is fg.functional and fg.nn.functional is fg.functional
    from ferrograd.nn.functional import relu

    assert relu is fg.functional.relu


def test_prelu_matches_numpy(rng: np.random.Generator) -> None:
    x = rng.standard_normal((2, 3, 4, 5)).astype(np.float32)
    x[0, :, 0, 0] = 0.0  # the kink: the input gets the slope, the slope nothing
    upstream = rng.standard_normal(x.shape).astype(np.float32)
    layer = nn.PReLU(3, init=0.1)
    with fg.no_grad():
        layer.weight.copy_(fg.tensor([0.1, -0.3, 0.7]))
    slope = np.array([0.1, -0.3, 0.7], np.float32).reshape(1, 3, 1, 1)
    xt = fg.tensor(x, requires_grad=True)
    out = layer(xt)
    out.backward(fg.tensor(upstream))
    np.testing.assert_allclose(out.detach().numpy(), np.where(x > 0, x, slope * x), rtol=1e-6)
    np.testing.assert_allclose(xt.grad.numpy(), upstream * np.where(x > 0, 1.0, slope), rtol=1e-6)
    np.testing.assert_allclose(layer.weight.grad.numpy(), (upstream * np.where(x > 0, 0.0, x)).sum(axis=(0, 2, 3)),
                               rtol=1e-5)
    assert list(layer.state_dict()) == ["weight"] and repr(layer) == "PReLU(num_parameters=3)"


def test_prelu_shared_slope_and_errors(rng: np.random.Generator) -> None:
    x = rng.standard_normal((4, 6)).astype(np.float32)
    layer = nn.PReLU()
    np.testing.assert_array_equal(layer.weight.detach().numpy(), [0.25])
    xt = fg.tensor(x, requires_grad=True)
    layer(xt).sum().backward()
    np.testing.assert_allclose(layer.weight.grad.numpy(), [x[x <= 0].sum()], rtol=1e-5)
    np.testing.assert_allclose(F.prelu(fg.tensor(x), fg.tensor([0.5])).numpy(), np.where(x > 0, x, 0.5 * x))
    with pytest.raises(ValueError, match=r"prelu: argument `weight` expected 1 or 6"):
        F.prelu(fg.tensor(x), fg.tensor([0.1, 0.2]))


def explicit_same_pads(kernel: tuple[int, int], dilation: tuple[int, int]) -> list[int]:
    """F.pad's list (left, right, top, bottom) of PyTorch's padding='same'."""
    pads = []
    for k, d in reversed(list(zip(kernel, dilation))):
        total = d * (k - 1)
        pads += [total // 2, total - total // 2]
    return pads


@pytest.mark.parametrize("kernel,dilation", [((3, 3), (1, 1)), ((2, 4), (1, 1)), ((4, 3), (2, 1)), ((3, 2), (1, 3)),
                                             ((1, 1), (1, 1))])
def test_conv2d_same_padding_equals_explicit_padding(rng: np.random.Generator, kernel: tuple[int, int],
                                                     dilation: tuple[int, int]) -> None:
    x = rng.standard_normal((2, 3, 7, 6)).astype(np.float32)
    layer = nn.Conv2d(3, 4, kernel, padding="same", dilation=dilation)
    assert layer.padding == "same"
    xs, xe = fg.tensor(x, requires_grad=True), fg.tensor(x, requires_grad=True)
    same = layer(xs)
    explicit = F.conv2d(F.pad(xe, explicit_same_pads(kernel, dilation)), layer.weight, layer.bias, dilation=dilation)
    assert same.shape == (2, 4, 7, 6)
    np.testing.assert_allclose(same.detach().numpy(), explicit.detach().numpy(), rtol=1e-6, atol=1e-6)
    same.sum().backward()
    explicit.sum().backward()
    np.testing.assert_allclose(xs.grad.numpy(), xe.grad.numpy(), rtol=1e-6, atol=1e-6)
    fused = nn.Sequential(layer, nn.ReLU(inplace=True))(fg.tensor(x))  # the Conv2d + ReLU fusion
    np.testing.assert_allclose(fused.detach().numpy(), np.maximum(explicit.detach().numpy(), 0), rtol=1e-6, atol=1e-6)


def test_conv1d_same_and_valid_padding(rng: np.random.Generator) -> None:
    x = rng.standard_normal((2, 3, 9)).astype(np.float32)
    layer = nn.Conv1d(3, 2, 4, padding="same", dilation=2)
    out = layer(fg.tensor(x))
    explicit = F.conv1d(F.pad(fg.tensor(x), [3, 3]), layer.weight, layer.bias, dilation=2)
    assert out.shape == (2, 2, 9)
    np.testing.assert_allclose(out.detach().numpy(), explicit.detach().numpy(), rtol=1e-6, atol=1e-6)
    even = F.conv1d(fg.tensor(x), layer.weight, padding="same")
    np.testing.assert_allclose(even.detach().numpy(),
                               F.conv1d(F.pad(fg.tensor(x), [1, 2]), layer.weight).detach().numpy(), rtol=1e-6)
    images, kernel = fg.tensor(x[:, :, None, :]), fg.tensor(x[:1, :, None, :3])
    np.testing.assert_array_equal(F.conv2d(images, kernel, padding="valid").numpy(), F.conv2d(images, kernel).numpy())


def test_same_padding_needs_stride_one() -> None:
    with pytest.raises(ValueError, match=r"Conv2d: argument `padding` 'same' expected stride 1"):
        nn.Conv2d(3, 4, 3, stride=2, padding="same")
    with pytest.raises(ValueError, match=r"conv1d: argument `padding` 'same' expected stride 1"):
        F.conv1d(fg.zeros(1, 1, 5), fg.zeros(1, 1, 3), stride=2, padding="same")
    with pytest.raises(ValueError, match=r"argument `padding` expected an int, a tuple of ints, 'same' or 'valid'"):
        nn.Conv2d(3, 4, 3, padding="full")


@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
def test_huber_loss_matches_numpy(rng: np.random.Generator, reduction: str) -> None:
    delta = 1.5
    x = rng.standard_normal((4, 5)).astype(np.float32) * 2
    y = rng.standard_normal((4, 5)).astype(np.float32)
    d = (x - y).astype(np.float64)
    assert (np.abs(d) < delta).any() and (np.abs(d) > delta).any()  # both branches
    elementwise = np.where(np.abs(d) <= delta, 0.5 * d**2, delta * (np.abs(d) - 0.5 * delta))
    slope = np.where(np.abs(d) <= delta, d, delta * np.sign(d))
    expected = {"none": elementwise, "mean": elementwise.mean(), "sum": elementwise.sum()}[reduction]
    xt = fg.tensor(x, requires_grad=True)
    loss = F.huber_loss(xt, fg.tensor(y), reduction=reduction, delta=delta)
    np.testing.assert_allclose(loss.detach().numpy(), expected, rtol=1e-5, atol=1e-6)
    loss.sum().backward()
    np.testing.assert_allclose(xt.grad.numpy(), slope / (d.size if reduction == "mean" else 1), rtol=1e-5, atol=1e-7)
    module = nn.HuberLoss(reduction=reduction, delta=delta)(fg.tensor(x), fg.tensor(y))
    np.testing.assert_allclose(module.numpy(), expected, rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match=r"huber_loss: argument `delta` expected a value > 0"):
        F.huber_loss(xt, fg.tensor(y), delta=0.0)


def test_one_hot_default_takes_largest_label_plus_one() -> None:
    np.testing.assert_array_equal(F.one_hot(fg.tensor([0, 3, 1])).numpy(), np.eye(4, dtype=np.float32)[[0, 3, 1]])
    assert F.one_hot(fg.tensor([0, 1]), num_classes=5).shape == (2, 5)


def test_inplace_follows_the_in_place_rule() -> None:
    values = np.array([-2.0, -0.5, 0.5, 8.0], np.float32)
    for fn, expected in [(F.relu, np.maximum(values, 0)), (F.relu6, np.clip(values, 0, 6)),
                         (F.hardtanh, np.clip(values, -1, 1)), (lambda t, inplace: F.leaky_relu(t, 0.1, inplace),
                                                               np.where(values > 0, values, 0.1 * values))]:
        x = fg.tensor(values)
        with fg.no_grad():
            out = fn(x, inplace=True)
        assert out is x  # written in place: no gradient depends on x
        np.testing.assert_allclose(x.numpy(), expected, rtol=1e-6)
        leaf = fg.tensor(values, requires_grad=True)
        x = leaf * 1.0
        out = fn(x, inplace=True)  # recorded: the out-of-place result, x keeps its values
        np.testing.assert_allclose(out.detach().numpy(), expected, rtol=1e-6)
        np.testing.assert_array_equal(x.detach().numpy(), values)
    for layer in (nn.ReLU(inplace=True), nn.LeakyReLU(inplace=True), nn.ELU(inplace=True), nn.SiLU(inplace=True),
                  nn.Hardtanh(inplace=True), nn.ReLU6(inplace=True), nn.Hardswish(inplace=True),
                  nn.Hardsigmoid(inplace=True), nn.Mish(inplace=True)):
        plain = type(layer)()
        np.testing.assert_allclose(layer(fg.tensor(values)).numpy(), plain(fg.tensor(values)).numpy(), rtol=1e-6)
    assert repr(nn.ReLU(inplace=True)) == "ReLU(inplace=True)"


def test_add_module_and_register_module() -> None:
    model = nn.Module()
    model.add_module("fc", nn.Linear(2, 3))
    model.register_module("act", nn.ReLU())
    assert [name for name, _ in model.named_children()] == ["fc", "act"]
    assert list(model.state_dict()) == ["fc.weight", "fc.bias"]
    with pytest.raises(KeyError, match="add_module: argument `name`"):
        model.add_module("a.b", nn.ReLU())
    with pytest.raises(KeyError, match="add_module: argument `name` expected a new attribute name"):
        model.add_module("forward", nn.ReLU())
    with pytest.raises(TypeError, match="add_module: argument `module` expected a Module or None, got int"):
        model.add_module("x", 3)  # type: ignore[arg-type]


def test_clip_grad_value_clamps_the_gradients(rng: np.random.Generator) -> None:
    layer = nn.Linear(4, 3)
    x = fg.tensor(rng.standard_normal((8, 4)).astype(np.float32) * 5)
    (layer(x) ** 2).sum().backward()
    before = [p.grad.numpy().copy() for p in layer.parameters()]
    assert max(np.abs(b).max() for b in before) > 0.5
    nn.utils.clip_grad_value_(layer.parameters(), 0.5)
    for p, b in zip(layer.parameters(), before):
        np.testing.assert_array_equal(p.grad.numpy(), np.clip(b, -0.5, 0.5))


def test_parameters_to_vector_round_trip(rng: np.random.Generator) -> None:
    layer = nn.Linear(4, 3)
    params = list(layer.parameters())
    vec = nn.utils.parameters_to_vector(params)
    np.testing.assert_array_equal(vec.detach().numpy(), np.concatenate([p.detach().numpy().ravel() for p in params]))
    new = rng.standard_normal(15).astype(np.float32)
    nn.utils.vector_to_parameters(fg.tensor(new), params)
    assert all(a is b and a.is_leaf and a.requires_grad for a, b in zip(layer.parameters(), params))
    np.testing.assert_array_equal(layer.weight.detach().numpy(), new[:12].reshape(3, 4))
    np.testing.assert_array_equal(nn.utils.parameters_to_vector(params).detach().numpy(), new)
    with pytest.raises(ValueError, match=r"vector_to_parameters: argument `vec` expected a 1-d tensor of 15 values"):
        nn.utils.vector_to_parameters(fg.zeros(14), params)


def test_autograd_grad_keywords(rng: np.random.Generator) -> None:
    x = fg.tensor(rng.standard_normal(5).astype(np.float32), requires_grad=True)
    w = fg.tensor(rng.standard_normal(5).astype(np.float32), requires_grad=True)
    y = x * x * w
    positional = fg.autograd.grad(y.sum(), [x, w])
    keywords = fg.autograd.grad(outputs=y, inputs=(x, w), grad_outputs=fg.ones(5), retain_graph=True)
    assert isinstance(keywords, tuple) and len(keywords) == 2
    for a, b in zip(positional, keywords):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    np.testing.assert_allclose(keywords[0].numpy(), 2 * x.detach().numpy() * w.detach().numpy(), rtol=1e-6)
    assert x.grad is None and w.grad is None
    v = rng.standard_normal(5).astype(np.float32)
    (weighted,) = fg.autograd.grad(y, x, grad_outputs=fg.tensor(v))
    np.testing.assert_allclose(weighted.numpy(), v * 2 * x.detach().numpy() * w.detach().numpy(), rtol=1e-6)
    unused = fg.tensor([1.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="pass allow_unused=True"):
        fg.autograd.grad(y.sum(), [x, unused])
    assert fg.autograd.grad(y.sum(), [x, unused], allow_unused=True)[1] is None
    (first,) = fg.autograd.grad(y.sum(), x, create_graph=True)
    assert first.requires_grad
    (second,) = fg.autograd.grad(first.sum(), x)
    np.testing.assert_allclose(second.numpy(), 2 * w.detach().numpy(), rtol=1e-6)
    with pytest.raises(RuntimeError, match="grad: argument `grad_outputs` expected a tensor for output 0"):
        fg.autograd.grad(y, x)


def test_inference_mode() -> None:
    with fg.inference_mode():
        assert not fg.is_grad_enabled()
    with fg.no_grad(), fg.inference_mode(False):
        assert fg.is_grad_enabled()

    @fg.inference_mode()
    def inside() -> bool:
        return fg.is_grad_enabled()

    assert not inside() and fg.is_grad_enabled()


def make_pair(seed: int) -> tuple[nn.Module, nn.Module]:
    fg.manual_seed(seed)
    a = nn.Sequential(nn.Linear(6, 8), nn.ReLU(), nn.Linear(8, 3))
    b = nn.Sequential(nn.Linear(6, 8), nn.ReLU(), nn.Linear(8, 3))
    b.load_state_dict(a.state_dict())
    return a, b


def test_grad_scaler_finite_step_equals_unscaled_step(rng: np.random.Generator) -> None:
    reference, scaled = make_pair(1)
    opt_ref, opt = optim.SGD(reference.parameters(), lr=0.1), optim.SGD(scaled.parameters(), lr=0.1)
    scaler = fg.amp.GradScaler("cpu")
    for _ in range(3):
        x = fg.tensor(rng.standard_normal((5, 6)).astype(np.float32))
        y = fg.tensor(rng.integers(0, 3, 5))
        F.cross_entropy(reference(x), y).backward()
        scaled_loss = scaler.scale(F.cross_entropy(scaled(x), y))
        np.testing.assert_array_equal(scaled_loss.detach().numpy(), F.cross_entropy(reference(x), y).detach().numpy()
                                      * 2.0**16)
        scaled_loss.backward()
        scaler.unscale_(opt)  # as before clipping; step() must not unscale again
        for p, q in zip(reference.parameters(), scaled.parameters()):
            np.testing.assert_array_equal(p.grad.numpy(), q.grad.numpy())
        opt_ref.step()
        scaler.step(opt)
        scaler.update()
        opt_ref.zero_grad()
        opt.zero_grad()
    for p, q in zip(reference.parameters(), scaled.parameters()):
        np.testing.assert_array_equal(p.detach().numpy(), q.detach().numpy())
    assert scaler.get_scale() == 2.0**16 and scaler.state_dict()["_growth_tracker"] == 3


@pytest.mark.parametrize("bad", [float("inf"), float("nan")])
def test_grad_scaler_skips_steps_with_inf_and_backs_off(bad: float) -> None:
    model, _ = make_pair(2)
    opt = optim.SGD(model.parameters(), lr=0.1)
    scaler = fg.amp.GradScaler(init_scale=1024.0, growth_interval=3)
    before = [p.detach().numpy().copy() for p in model.parameters()]
    scaler.scale(model(fg.ones(2, 6)).sum()).backward()
    with fg.no_grad():
        model[0].bias.grad[1:2].fill_(bad)
    assert scaler.step(opt) is None
    scaler.update()
    for p, b in zip(model.parameters(), before):
        np.testing.assert_array_equal(p.detach().numpy(), b)
    assert scaler.get_scale() == 512.0 and scaler.state_dict()["_growth_tracker"] == 0
    for expected in (512.0, 512.0, 1024.0):  # growth after growth_interval (3) clean steps
        opt.zero_grad()
        scaler.scale(model(fg.ones(2, 6)).sum()).backward()
        scaler.step(opt)
        scaler.update()
        assert scaler.get_scale() == expected
    assert scaler.state_dict()["_growth_tracker"] == 0
    with pytest.raises(RuntimeError, match="GradScaler.unscale_: already called"):
        scaler.scale(model(fg.ones(2, 6)).sum()).backward()
        scaler.unscale_(opt)
        scaler.unscale_(opt)


def test_grad_scaler_state_dict_and_disabled_pass_through() -> None:
    scaler = fg.amp.GradScaler(init_scale=256.0, growth_factor=4.0, backoff_factor=0.25, growth_interval=7)
    scaler.scale(fg.ones(1))
    scaler.update(32.0)
    state = scaler.state_dict()
    assert state == {"scale": 32.0, "growth_factor": 4.0, "backoff_factor": 0.25, "growth_interval": 7,
                     "_growth_tracker": 0}
    restored = fg.cuda.amp.GradScaler()
    restored.load_state_dict(state)
    assert restored.state_dict() == state and restored.get_scale() == 32.0
    with pytest.raises(RuntimeError, match="saved from a disabled one"):
        restored.load_state_dict(fg.amp.GradScaler(enabled=False).state_dict())
    with pytest.raises(ValueError, match=r"GradScaler: argument `growth_factor` expected a value > 1, got 1.0"):
        fg.amp.GradScaler(growth_factor=1.0)

    off = fg.amp.GradScaler(enabled=False)
    model, _ = make_pair(3)
    opt = optim.SGD(model.parameters(), lr=0.1)
    loss = model(fg.ones(2, 6)).sum()
    assert off.scale(loss) is loss and off.get_scale() == 1.0 and not off.is_enabled()
    loss.backward()
    before = model[0].bias.detach().numpy().copy()
    off.unscale_(opt)
    off.step(opt)
    off.update()
    expected = before - 0.1 * model[0].bias.grad.numpy()
    np.testing.assert_allclose(model[0].bias.detach().numpy(), expected, rtol=1e-6)


def test_amp_autocast_equals_fg_autocast(rng: np.random.Generator) -> None:
    a = fg.tensor(rng.standard_normal((8, 16)).astype(np.float32))
    b = fg.tensor(rng.standard_normal((16, 4)).astype(np.float32))
    with fg.autocast():
        expected = (a @ b).numpy()
    with fg.amp.autocast(device_type="cpu"):
        assert fg.get_autocast_dtype() == "bfloat16"
        got = (a @ b).numpy()
    np.testing.assert_array_equal(got, expected)
    assert not np.array_equal(got, (a @ b).numpy())  # the products did run on bfloat16 operands
    with fg.amp.autocast("cuda", dtype=fg.bfloat16), fg.amp.autocast("cpu", enabled=False):
        assert fg.get_autocast_dtype() == "float32"
    from ferrograd.cuda.amp import autocast

    with autocast():
        np.testing.assert_array_equal((a @ b).numpy(), expected)
    with pytest.raises(ValueError, match=r"autocast: argument `dtype` expected 'bf16'.* got 'float16': .* bfloat16 .* only"):
        fg.amp.autocast("cuda", dtype=fg.float16)
    with pytest.raises(ValueError, match=r"autocast: argument `device_type` expected 'cpu' or 'cuda', got 'gpu'"):
        fg.amp.autocast("gpu")
