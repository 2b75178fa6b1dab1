"""Forward hooks, pre-hooks, full backward hooks, ``apply`` and ``summary`` on modules, in Python
calls and inside the Rust training and evaluation loops."""

from __future__ import annotations

import numpy as np
import pytest

import ferrograd as fg
from ferrograd import nn, optim


def small_cnn() -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(4 * 13 * 13, 10))


def test_hooks_see_inputs_and_outputs_and_can_replace_them() -> None:
    fg.manual_seed(0)
    model = small_cnn()
    x = fg.randn(2, 1, 28, 28)
    reference = model(x).detach().numpy()
    calls: list[tuple[str, list[int]]] = []
    handles = [model[i].register_forward_hook(lambda m, args, out, i=i: calls.append((type(m).__name__, list(out.shape))))
               for i in range(len(model))]
    out = model(x)
    # The hooks keep Sequential from fusing conv + ReLU + pool: every layer runs, with the same values.
    assert calls == [("Conv2d", [2, 4, 26, 26]), ("ReLU", [2, 4, 26, 26]), ("MaxPool2d", [2, 4, 13, 13]),
                     ("Flatten", [2, 676]), ("Linear", [2, 10])]
    np.testing.assert_array_equal(out.detach().numpy(), reference)
    for h in handles:
        h.remove()
    calls.clear()
    model(x)
    assert calls == []
    with model[4].register_forward_hook(lambda m, args, out: out * 0):
        assert float(model(x).abs().sum()) == 0.0
    np.testing.assert_array_equal(model(x).detach().numpy(), reference)
    doubled = model[0].register_forward_pre_hook(lambda m, args: (args[0] * 2,))
    np.testing.assert_array_equal(model[0](x).detach().numpy(), model[0].forward(x * 2).detach().numpy())
    doubled.remove()
    doubled.remove()  # a second removal does nothing


def test_hooks_fire_inside_fit_and_evaluate_and_do_not_change_training(mnist) -> None:
    data = fg.data.from_numpy(mnist["x_train"][:512], mnist["y_train"][:512])

    def trained(with_hook: bool) -> tuple[list[float], int]:
        fg.manual_seed(3)
        model = small_cnn()
        seen = [0]
        if with_hook:
            model[0].register_forward_hook(lambda m, args, out: seen.__setitem__(0, seen[0] + args[0].shape[0]))
        hist = model.fit(data, epochs=2, batch_size=64, optimizer=optim.SGD(model.parameters(), lr=0.05), shuffle=False,
                         verbose=False)
        model.evaluate(data, batch_size=256)
        return hist["loss"], seen[0]

    plain, _ = trained(False)
    hooked, seen = trained(True)
    # Two epochs of 512 images, then one evaluation pass over them.
    assert seen == 2 * 512 + 512
    np.testing.assert_allclose(hooked, plain, rtol=1e-6)


class _Gated(nn.Module):
    """``linear(a * b) * scale`` and its row sums: two tensor inputs, a float, two outputs."""

    def __init__(self) -> None:
        super().__init__()
        self.lin = nn.Linear(3, 2)

    def forward(self, a, b, scale):
        h = self.lin(a * b) * scale
        return h, h.sum(1)


@pytest.mark.parametrize("b_requires_grad", [True, False])
def test_full_backward_hooks_see_and_replace_gradients_as_pytorch(b_requires_grad: bool,
                                                                  rng: np.random.Generator) -> None:
    """For ``loss = sum(h * G) + 0.25 * sum(rowsum(h))``: the pre-hook sees grad_output = (G, 0.25)
    and triples it, the hook then sees that grad_output and grad_input = one entry per positional
    argument (d/da, zeros for a tensor without grad, None for the float) and doubles it, and the
    inputs' gradients are the doubled ones (numpy reference from the chain rule)."""
    m = _Gated()
    W, bias = m.lin.weight.detach().numpy(), m.lin.bias.detach().numpy()
    xa, xb = rng.standard_normal((4, 3)).astype(np.float32), rng.standard_normal((4, 3)).astype(np.float32)
    G = rng.standard_normal((4, 2)).astype(np.float32)
    seen: dict[str, tuple] = {}

    def pre(mod, grad_output):
        seen["pre"] = tuple(g.numpy() for g in grad_output)
        return tuple(g * 3 for g in grad_output)

    def hook(mod, grad_input, grad_output):
        seen["hook"] = (tuple(None if g is None else g.numpy() for g in grad_input), tuple(g.numpy() for g in grad_output))
        return tuple(None if g is None else g * 2 for g in grad_input)

    handles = [m.register_full_backward_pre_hook(pre), m.register_full_backward_hook(hook)]
    a, b = fg.tensor(xa, requires_grad=True), fg.tensor(xb, requires_grad=b_requires_grad)
    h, s = m(a, b, 0.5)
    ((h * fg.tensor(G)).sum() + s.sum() * 0.25).backward()
    np.testing.assert_allclose(h.detach().numpy(), 0.5 * ((xa * xb) @ W.T + bias), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(seen["pre"][0], G)
    np.testing.assert_allclose(seen["pre"][1], np.full(4, 0.25))
    grad_input, grad_output = seen["hook"]
    np.testing.assert_allclose(grad_output[0], 3 * G, rtol=1e-6)
    # Tripled output gradients flowing back through h = 0.5 * linear(a * b) and its row sums.
    dh = 3 * G + 3 * 0.25
    d_ab = 0.5 * dh @ W
    assert len(grad_input) == 3 and grad_input[2] is None
    np.testing.assert_allclose(grad_input[0], d_ab * xb, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(grad_input[1], d_ab * xa if b_requires_grad else np.zeros((4, 3)), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(a.grad.numpy(), 2 * d_ab * xb, rtol=1e-5, atol=1e-6)
    assert (b.grad is not None) == b_requires_grad
    # The weight's gradient saw the tripled output gradient, not the hook's doubling.
    np.testing.assert_allclose(m.lin.weight.grad.numpy(), 0.5 * dh.T @ (xa * xb), rtol=1e-5, atol=1e-5)
    for handle in handles:
        handle.remove()
    seen.clear()
    m(a, b, 0.5)[0].sum().backward()
    assert not seen


def test_a_full_backward_hook_without_input_gradients_gets_none_and_fires_in_fit(mnist) -> None:
    """When no input requires grad (a first layer), the hook runs once the output's gradient is
    known, with grad_input all None, as in PyTorch; a hooked layer inside ``fit`` runs its Python
    call, so the hook fires once per batch with the batch's output gradient."""
    fg.manual_seed(0)
    model = small_cnn()
    calls: list[tuple] = []
    model[0].register_full_backward_hook(lambda m, gi, go: calls.append((gi, tuple(go[0].shape))))
    x = fg.randn(2, 1, 28, 28)
    model(x).sum().backward()
    assert calls == [((None,), (2, 4, 26, 26))]
    calls.clear()
    x_train, y_train = mnist["x_train"][:256], mnist["y_train"][:256]
    model.fit((x_train, y_train), epochs=1, batch_size=64, verbose=False)
    assert len(calls) == 4 and all(gi == (None,) and shape == (64, 4, 26, 26) for gi, shape in calls)


def test_apply_visits_children_before_their_parent() -> None:
    model = nn.Sequential(nn.Linear(3, 4), nn.Sequential(nn.ReLU(), nn.Linear(4, 2)))
    order: list[str] = []
    assert model.apply(lambda m: order.append(type(m).__name__)) is model
    assert order == ["Linear", "ReLU", "Linear", "Sequential", "Sequential"]

    def zero_linear(m: nn.Module) -> None:
        if isinstance(m, nn.Linear):
            with fg.no_grad():
                m.weight.zero_()

    model.apply(zero_linear)
    assert all(float(p.abs().sum()) == 0 for n, p in model.named_parameters() if n.endswith("weight"))


def test_summary_lists_output_shapes_and_parameter_counts() -> None:
    model = nn.Sequential(nn.Conv2d(1, 4, 3), nn.BatchNorm2d(4), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 26 * 26, 10))
    model.train()
    before = model[1].running_mean.numpy().copy()
    s = model.summary(fg.randn(2, 1, 28, 28))
    assert [(r.name, r.kind, r.output_shape, r.parameters) for r in s.rows] == [
        ("0", "Conv2d", [2, 4, 26, 26], 40), ("1", "BatchNorm2d", [2, 4, 26, 26], 8), ("2", "ReLU", [2, 4, 26, 26], 0),
        ("3", "Flatten", [2, 2704], 0), ("4", "Linear", [2, 10], 27050)]
    # Trainable: the parameters; non-trainable: the running mean and variance.
    assert (s.total_parameters, s.trainable_parameters) == (27098 + 8, 27098)
    assert model.training and np.array_equal(model[1].running_mean.numpy(), before)
    text = str(s)
    assert "4 (Linear)" in text and "[2, 10]" in text and "Total params: 27,106" in text
    assert "<table>" in s._repr_html_()
    assert all(r.output_shape == "-" for r in model.summary().rows)
    assert all(not m._has_hooks() for m in model.modules())
    nested = nn.Sequential(nn.Sequential(nn.Linear(2, 3), nn.ReLU()), nn.Linear(3, 1))
    assert [r.name for r in nested.summary(fg.zeros(1, 2)).rows] == ["0", "0.0", "0.1", "1"]
