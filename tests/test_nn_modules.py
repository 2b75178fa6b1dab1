"""nn modules: PyTorch naming and initialisation, train/eval, state dicts and safetensors checkpoints."""

from __future__ import annotations

import math
from collections import OrderedDict

import numpy as np
import pytest

import ferrograd as fg
import ferrograd.functional as F
from ferrograd import _core, nn


class Block(nn.Module):
    def __init__(self, in_channels: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, 4, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(4)

    def forward(self, x):
        return F.relu(self.bn1(self.conv1(x)))


class Net(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.layer1 = nn.Sequential(Block(3), Block(4))
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(4, 5)

    def forward(self, x):
        return self.fc(self.pool(self.layer1(x)).flatten(1))


def test_state_dict_names_follow_pytorch():
    keys = list(Net().state_dict())
    assert keys == [
        "layer1.0.conv1.weight", "layer1.0.bn1.weight", "layer1.0.bn1.bias", "layer1.0.bn1.running_mean",
        "layer1.0.bn1.running_var", "layer1.0.bn1.num_batches_tracked",
        "layer1.1.conv1.weight", "layer1.1.bn1.weight", "layer1.1.bn1.bias", "layer1.1.bn1.running_mean",
        "layer1.1.bn1.running_var", "layer1.1.bn1.num_batches_tracked", "fc.weight", "fc.bias",
    ]
    assert [n for n, _ in Net().named_parameters()] == [k for k in keys if "running" not in k and "num_batches" not in k]


def test_default_initialisation_bounds_and_seeding():
    fg.manual_seed(1)
    a = nn.Linear(400, 30)
    w = a.weight.detach().numpy()
    bound = 1 / math.sqrt(400)
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.95 * bound
    assert abs(w.std() - bound / math.sqrt(3)) < 0.05 * bound
    assert np.abs(a.bias.detach().numpy()).max() <= bound
    fg.manual_seed(1)
    np.testing.assert_array_equal(nn.Linear(400, 30).weight.detach().numpy(), w)
    emb = nn.Embedding(10, 4, padding_idx=2)
    np.testing.assert_array_equal(emb.weight.detach().numpy()[2], np.zeros(4))
    emb(fg.tensor([[2, 3], [2, 1]])).sum().backward()
    g = emb.weight.grad.numpy()
    np.testing.assert_array_equal(g[2], np.zeros(4))
    np.testing.assert_array_equal(g[3], np.ones(4))


def test_train_eval_switches_batch_norm_and_dropout():
    fg.manual_seed(0)
    model = nn.Sequential(nn.Linear(6, 6), nn.BatchNorm1d(6), nn.Dropout(0.5))
    x = fg.randn(16, 6)
    model.train()
    model(x)
    assert int(model[1].num_batches_tracked.item()) == 1
    model.eval()
    assert not model[2].training
    np.testing.assert_array_equal(model(x).detach().numpy(), model(x).detach().numpy())


@pytest.mark.parametrize("path", ["python", "rust loop"])
def test_batch_norm_without_momentum_keeps_the_cumulative_average(path: str, rng: np.random.Generator) -> None:
    """momentum=None: the running statistics are the plain averages of the batch means and of the
    unbiased batch variances, counted by num_batches_tracked, in Python's forward and in the Rust
    layer that ``fit`` runs (an SGD step of rate 0 leaves the linear layer as it is)."""
    x = rng.standard_normal((24, 5)).astype(np.float32) * 3 + 1
    y = rng.integers(0, 5, 24)
    model = nn.Sequential(nn.Linear(5, 5), nn.BatchNorm1d(5, momentum=None))
    model.train()
    if path == "python":
        for batch in np.split(x, 3):
            model(fg.tensor(batch))
    else:
        model.fit((x, y), epochs=1, batch_size=8, shuffle=False, optimizer=fg.optim.SGD(model.parameters(), lr=0.0),
                  verbose=False)
    w, b = model[0].weight.detach().numpy(), model[0].bias.detach().numpy()
    h = np.split(x.astype(np.float64) @ w.T + b, 3)
    assert int(model[1].num_batches_tracked.item()) == 3
    np.testing.assert_allclose(model[1].running_mean.numpy(), np.mean([c.mean(0) for c in h], 0), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(model[1].running_var.numpy(), np.mean([c.var(0, ddof=1) for c in h], 0), rtol=1e-5)


def test_parameter_list_and_dict_register_train_and_keep_their_order(tmp_path) -> None:
    """ParameterList / ParameterDict register tensors as parameters under positions and keys, in
    PyTorch's state-dict order (replacing an entry, or reassigning a layer's weight, keeps its
    place); gradients reach them and a save/load round-trips them."""

    class Mixture(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.ws = nn.ParameterList([fg.ones(2), fg.zeros(3)])
            self.d = nn.ParameterDict({"a": fg.ones(1), "b": fg.zeros(2, 2)})
            self.lin = nn.Linear(2, 2)

        def forward(self, x):
            return self.lin(x * self.ws[0]).sum() * self.d["a"] + self.ws[2].sum()

    m = Mixture()
    m.ws.append(fg.full((4,), 2.0))
    m.ws[0] = fg.full((2,), 5.0)
    m.d["c"] = fg.ones(3)
    m.d["a"] = fg.full((1,), 7.0)
    m.lin.weight = nn.Parameter(fg.zeros(2, 2))
    del m.d["b"]
    assert [(k, tuple(v.shape)) for k, v in m.state_dict().items()] == [
        ("ws.0", (2,)), ("ws.1", (3,)), ("ws.2", (4,)), ("d.a", (1,)), ("d.c", (3,)), ("lin.weight", (2, 2)),
        ("lin.bias", (2,))]
    assert [tuple(p.shape) for p in m.ws[1:]] == [(3,), (4,)] and list(m.d) == ["a", "c"] and "b" not in m.d
    assert all(p.requires_grad and p.is_leaf for p in m.parameters())
    x = fg.tensor(np.array([[1.0, 2.0]], dtype=np.float32))
    m(x).sum().backward()
    np.testing.assert_allclose(m.ws[2].grad.numpy(), np.ones(4))
    np.testing.assert_allclose(m.d["a"].grad.numpy(), [m.lin(x * m.ws[0]).sum().item()], rtol=1e-6)
    with pytest.raises(IndexError, match="index 3 out of range for 3 parameters"):
        m.ws[3]
    with pytest.raises(TypeError, match="ParameterList.append: expected a Tensor, got float"):
        m.ws.append(1.0)
    path = tmp_path / "mixture.safetensors"
    m.save(path)
    other = Mixture()
    other.ws.append(fg.zeros(4))
    other.d["c"] = fg.zeros(3)
    del other.d["b"]
    other.load(path)
    np.testing.assert_array_equal(other.ws[0].detach().numpy(), [5.0, 5.0])
    np.testing.assert_array_equal(other.d["a"].detach().numpy(), [7.0])


def test_state_dict_round_trip_and_rejections(tmp_path):
    fg.manual_seed(0)
    net = Net()
    net.train()
    net(fg.randn(2, 3, 5, 5))
    path = tmp_path / "net.safetensors"
    net.save(path)
    other = Net()
    other.load(path)
    for (k, a), (_, b) in zip(net.state_dict().items(), other.state_dict().items()):
        np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy(), err_msg=k)
    net.eval()
    other.eval()
    x = fg.randn(2, 3, 5, 5)
    np.testing.assert_array_equal(net(x).detach().numpy(), other(x).detach().numpy())

    before = {k: v.detach().numpy().copy() for k, v in other.state_dict().items()}
    bad_shape = OrderedDict((k, v) for k, v in net.state_dict().items())
    bad_shape["fc.weight"] = fg.zeros(3, 3)
    with pytest.raises(ValueError, match="fc.weight"):
        other.load_state_dict(bad_shape)
    missing = OrderedDict((k, v) for k, v in net.state_dict().items() if k != "fc.bias")
    with pytest.raises(KeyError, match="fc.bias"):
        other.load_state_dict(missing)
    for k, v in other.state_dict().items():
        np.testing.assert_array_equal(v.detach().numpy(), before[k], err_msg=f"{k} changed by a rejected load")

    data = path.read_bytes()
    truncated = tmp_path / "truncated.safetensors"
    truncated.write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match="truncated.safetensors"):
        other.load(truncated)
    with pytest.raises(FileNotFoundError):
        other.load(tmp_path / "nope.safetensors")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["net.safetensors", "truncated.safetensors"]


def test_modules_reject_bad_input_clearly():
    with pytest.raises(ValueError, match="groups"):
        nn.Conv2d(3, 4, 3, groups=2)
    with pytest.raises(ValueError, match="channels"):
        nn.BatchNorm2d(3)(fg.zeros(2, 4, 3, 3))
    with pytest.raises(ValueError, match=r"linear: input must be \[\.\.\., 4\] for weight \[3, 4\], got \[2, 5\]"):
        nn.Linear(4, 3)(fg.zeros(2, 5))
    with pytest.raises(ValueError, match="conv2d"):
        nn.Conv2d(3, 4, 3)(fg.zeros(1, 2, 8, 8))


def _output_and_grads(model: nn.Module, run, x_np: np.ndarray):
    """``run(x)`` and the gradients of ``sum(y ** 2)`` for the input and every parameter of
    ``model`` (cleared first), as numpy arrays."""
    x = fg.tensor(x_np, requires_grad=True)
    for p in model.parameters():
        p.grad = None
    y = run(x)
    (y * y).sum().backward()
    return y.detach().numpy(), [x.grad.numpy()] + [p.grad.numpy() for p in model.parameters()]


def test_sequential_fuses_conv_and_relu_without_changing_results():
    """Sequential runs Conv2d + ReLU as one fused op: the output equals the composed ops exactly
    and the gradients agree (tolerance 1e-5: the bias gradient sums in another order). A Conv2d
    subclass with its own forward is called as written, not fused."""
    fg.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.Conv2d(8, 4, 3, stride=2), nn.ReLU())
    rng = np.random.default_rng(0)
    x_np = rng.standard_normal((5, 3, 9, 9)).astype(np.float32)

    def composed(x):
        c1, c2 = model[0], model[2]
        h = F.relu(F.conv2d(x, c1.weight, c1.bias, c1.stride, c1.padding))
        return F.relu(F.conv2d(h, c2.weight, c2.bias, c2.stride, c2.padding))

    assert model(fg.tensor(x_np, requires_grad=True)).grad_fn == "conv2d_relu"
    fused_out, fused_grads = _output_and_grads(model, model, x_np)
    ref_out, ref_grads = _output_and_grads(model, composed, x_np)
    np.testing.assert_array_equal(fused_out, ref_out)
    assert fused_out.min() == 0.0 and fused_out.max() > 0.0
    for got, want in zip(fused_grads, ref_grads):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)

    class Doubled(nn.Conv2d):
        def forward(self, x):
            return super().forward(x) * 2.0

    doubled = nn.Sequential(Doubled(3, 2, 3), nn.ReLU())
    x = fg.tensor(x_np)
    want = F.relu(F.conv2d(x, doubled[0].weight, doubled[0].bias) * 2.0).detach().numpy()
    np.testing.assert_array_equal(doubled(x).detach().numpy(), want)
    assert doubled(fg.tensor(x_np, requires_grad=True)).grad_fn == "relu"


def test_sequential_fuses_conv_relu_and_max_pool_without_changing_results():
    """Sequential runs Conv2d + ReLU + MaxPool2d as one op (the convolution's full-size output is
    never stored): its output and every gradient equal the three ops run one by one bit for bit,
    for a 2x2 pool and for an overlapping, padded, ceil-mode one, NaN inputs included. A pool
    subclass with its own forward leaves only the Conv2d + ReLU fused."""
    fg.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Conv2d(8, 4, 3), nn.ReLU(), nn.MaxPool2d(3, stride=2, padding=1, ceil_mode=True))
    rng = np.random.default_rng(2)
    x_np = rng.standard_normal((5, 3, 12, 12)).astype(np.float32)

    def composed(x):
        c1, p1, c2, p2 = model[0], model[2], model[3], model[5]
        h = F.max_pool2d(F.relu(F.conv2d(x, c1.weight, c1.bias, c1.stride, c1.padding)), p1.kernel_size)
        h = F.relu(F.conv2d(h, c2.weight, c2.bias, c2.stride, c2.padding))
        return F.max_pool2d(h, p2.kernel_size, p2.stride, p2.padding, ceil_mode=True)

    assert model(fg.tensor(x_np, requires_grad=True)).grad_fn == "conv2d_relu_max_pool2d"
    fused_out, fused_grads = _output_and_grads(model, model, x_np)
    ref_out, ref_grads = _output_and_grads(model, composed, x_np)
    assert fused_out.shape == (5, 4, 3, 3)
    np.testing.assert_array_equal(fused_out, ref_out)
    assert (fused_out == 0.0).any() and fused_out.max() > 0.0
    for got, want in zip(fused_grads, ref_grads):
        np.testing.assert_array_equal(got, want)
    x_nan = x_np.copy()
    x_nan[1, 0, 4, 4] = np.nan
    with fg.no_grad():
        fused_nan, ref_nan = model(fg.tensor(x_nan)).numpy(), composed(fg.tensor(x_nan)).numpy()
    np.testing.assert_array_equal(fused_nan, ref_nan)
    assert np.isnan(fused_nan[1]).any() and not np.isnan(fused_nan[[0, 2, 3, 4]]).any()

    class Pool(nn.MaxPool2d):
        def forward(self, x):
            return super().forward(x) + 0.0

    pooled = nn.Sequential(model[0], nn.ReLU(), Pool(2))(fg.tensor(x_np, requires_grad=True))
    assert pooled.grad_fn == "add"
    with pytest.raises(ValueError, match="max_pool"):
        _core.conv2d(fg.tensor(x_np), model[0].weight, None, (1, 1), (1, 1), (1, 1), 1, relu=False,
                     max_pool=((2, 2), (2, 2), (0, 0), (1, 1), False))


def test_sequential_fuses_linear_and_relu_without_changing_results():
    """Sequential runs Linear + ReLU as one fused op, whose output and gradients equal the composed
    ops bit for bit and match a float64 numpy reference; the last Linear (no ReLU after it) stays
    a plain linear op. A Linear subclass with its own forward is called as written."""
    fg.manual_seed(0)
    model = nn.Sequential(nn.Linear(6, 16), nn.ReLU(), nn.Linear(16, 3))
    rng = np.random.default_rng(1)
    x_np = rng.standard_normal((7, 6)).astype(np.float32)

    def composed(x):
        l1, l2 = model[0], model[2]
        return F.linear(F.relu(F.linear(x, l1.weight, l1.bias)), l2.weight, l2.bias)

    y = model(fg.tensor(x_np, requires_grad=True))
    assert y.grad_fn == "linear"
    fused_out, fused_grads = _output_and_grads(model, model, x_np)
    ref_out, ref_grads = _output_and_grads(model, composed, x_np)
    np.testing.assert_array_equal(fused_out, ref_out)
    for got, want in zip(fused_grads, ref_grads):
        np.testing.assert_array_equal(got, want)
    # Against float64 numpy: y = relu(x W1^T + b1) W2^T + b2, loss = sum(y^2).
    w1, b1, w2, b2 = (p.detach().numpy().astype(np.float64) for p in model.parameters())
    x64 = x_np.astype(np.float64)
    pre = x64 @ w1.T + b1
    h = np.maximum(pre, 0.0)
    out = h @ w2.T + b2
    dout = 2.0 * out
    dh = (dout @ w2) * (pre > 0)
    want = [dh @ w1, dh.T @ x64, dh.sum(0), dout.T @ h, dout.sum(0)]
    np.testing.assert_allclose(fused_out, out, rtol=1e-5, atol=1e-5)
    for got, ref in zip(fused_grads, want):
        np.testing.assert_allclose(got, ref, rtol=1e-4, atol=1e-4)

    class Doubled(nn.Linear):
        def forward(self, x):
            return super().forward(x) * 2.0

    doubled = nn.Sequential(Doubled(6, 4), nn.ReLU())
    x = fg.tensor(x_np)
    want_doubled = F.relu(F.linear(x, doubled[0].weight, doubled[0].bias) * 2.0).detach().numpy()
    np.testing.assert_array_equal(doubled(x).detach().numpy(), want_doubled)
    assert doubled(fg.tensor(x_np, requires_grad=True)).grad_fn == "relu"
    first = nn.Sequential(nn.Linear(6, 4), nn.ReLU())
    assert first(fg.tensor(x_np, requires_grad=True)).grad_fn == "linear_relu"


def _reduce(per_element: np.ndarray, reduction: str) -> np.ndarray:
    if reduction == "none":
        return per_element
    if reduction == "batchmean":
        return per_element.sum() / per_element.shape[0]
    return per_element.sum() if reduction == "sum" else per_element.mean()


def test_loss_modules_match_numpy_references_in_every_reduction():
    """The regression, binary and KL loss modules against their formulas written in float64 numpy
    (tolerance 1e-5 relative: float32 inputs, float32 arithmetic), and their input gradients under
    the mean reduction against the analytic derivatives."""
    rng = np.random.default_rng(7)
    x = rng.normal(size=(6, 5)).astype(np.float32)
    t = rng.normal(size=(6, 5)).astype(np.float32)
    probs = rng.uniform(0.02, 0.98, size=(6, 5)).astype(np.float32)
    labels = (rng.uniform(size=(6, 5)) < 0.5).astype(np.float32)
    weight = rng.uniform(0.5, 2.0, size=(5,)).astype(np.float32)
    pos_weight = rng.uniform(0.5, 3.0, size=(5,)).astype(np.float32)
    log_p = x - np.log(np.exp(x.astype(np.float64)).sum(1, keepdims=True))
    q = np.exp(t) / np.exp(t.astype(np.float64)).sum(1, keepdims=True)
    xd, td, pd, yd = (a.astype(np.float64) for a in (x, t, probs, labels))
    diff = xd - td
    sigmoid = 1 / (1 + np.exp(-xd))
    cases = [
        (nn.MSELoss, {}, x, t, diff**2, 2 * diff),
        (nn.L1Loss, {}, x, t, np.abs(diff), np.sign(diff)),
        (nn.SmoothL1Loss, {"beta": 0.5}, x, t,
         np.where(np.abs(diff) < 0.5, 0.5 * diff**2 / 0.5, np.abs(diff) - 0.25),
         np.where(np.abs(diff) < 0.5, diff / 0.5, np.sign(diff))),
        (nn.BCELoss, {"weight": fg.tensor(weight)}, probs, labels,
         -weight * (yd * np.log(pd) + (1 - yd) * np.log(1 - pd)),
         -weight * (yd / pd - (1 - yd) / (1 - pd))),
        (nn.BCEWithLogitsLoss, {"pos_weight": fg.tensor(pos_weight)}, x, labels,
         -(pos_weight * yd * np.log(sigmoid) + (1 - yd) * np.log(1 - sigmoid)),
         -(pos_weight * yd * (1 - sigmoid) - (1 - yd) * sigmoid)),
        (nn.KLDivLoss, {}, log_p.astype(np.float32), q.astype(np.float32),
         q * (np.log(q) - log_p), -q),
        (nn.KLDivLoss, {"log_target": True}, log_p.astype(np.float32), np.log(q).astype(np.float32),
         q * (np.log(q) - log_p), -q),
    ]
    for cls, kwargs, inp, target, per_element, derivative in cases:
        reductions = ["none", "mean", "sum"] + (["batchmean"] if cls is nn.KLDivLoss else [])
        for reduction in reductions:
            got = cls(reduction=reduction, **kwargs)(fg.tensor(inp), fg.tensor(target)).numpy()
            np.testing.assert_allclose(got, _reduce(per_element, reduction), rtol=1e-5, atol=1e-6,
                                       err_msg=f"{cls.__name__} {kwargs} {reduction}")
        leaf = fg.tensor(inp, requires_grad=True)
        cls(**kwargs)(leaf, fg.tensor(target)).backward()
        np.testing.assert_allclose(leaf.grad.numpy(), derivative / per_element.size, rtol=1e-4, atol=1e-7,
                                   err_msg=f"{cls.__name__} {kwargs} gradient")


def test_loss_modules_reject_bad_arguments_by_name():
    for cls in (nn.MSELoss, nn.L1Loss, nn.SmoothL1Loss, nn.BCELoss, nn.BCEWithLogitsLoss):
        with pytest.raises(ValueError, match=f"{cls.__name__}: argument `reduction`.*'batchmean'"):
            cls(reduction="batchmean")
    with pytest.raises(ValueError, match="KLDivLoss: argument `reduction`.*got 'average'"):
        nn.KLDivLoss(reduction="average")
    with pytest.raises(ValueError, match="SmoothL1Loss: argument `beta`.*got -1"):
        nn.SmoothL1Loss(beta=-1.0)
    with pytest.raises(ValueError, match="mse_loss: input shape \\[2\\] and target shape \\[3\\]"):
        nn.MSELoss()(fg.zeros(2), fg.zeros(3))


def test_truncated_normal_orthogonal_and_eye_initialisations():
    fg.manual_seed(4)
    t = nn.init.trunc_normal_(fg.zeros(200, 300), mean=0.5, std=2.0, a=-1.0, b=2.0).numpy()
    assert t.min() >= -1.0 and t.max() <= 2.0
    # The truncated normal's moments: alpha = beta = -/+0.75 standard deviations around the mean.
    from math import erf, exp, pi, sqrt

    phi = exp(-0.75**2 / 2) / sqrt(2 * pi)
    mass = erf(0.75 / sqrt(2))
    assert abs(t.mean() - 0.5) < 0.01 and abs(t.std() - 2.0 * sqrt(1 - 2 * 0.75 * phi / mass)) < 0.01
    fg.manual_seed(4)
    again = nn.init.trunc_normal_(fg.zeros(200, 300), mean=0.5, std=2.0, a=-1.0, b=2.0).numpy()
    np.testing.assert_array_equal(t, again)
    for shape in [(6, 10), (10, 6), (4, 2, 3, 3)]:
        w = nn.init.orthogonal_(fg.zeros(*shape), gain=2.0).numpy().reshape(shape[0], -1).astype(np.float64)
        small = w @ w.T if shape[0] <= w.shape[1] else w.T @ w
        np.testing.assert_allclose(small, 4.0 * np.eye(small.shape[0]), atol=1e-5)
    np.testing.assert_array_equal(nn.init.eye_(fg.ones(2, 3)).numpy(), np.eye(2, 3))
    with pytest.raises(ValueError, match="trunc_normal_: arguments `a` and `b` expected a < b"):
        nn.init.trunc_normal_(fg.zeros(2), a=1.0, b=0.0)
    with pytest.raises(ValueError, match="orthogonal_: expected a tensor with at least 2 dimensions"):
        nn.init.orthogonal_(fg.zeros(3))
