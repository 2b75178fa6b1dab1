"""Autograd and training tools: anomaly detection naming the op whose backward produced a NaN,
``gradcheck`` / ``gradgradcheck`` (passing on correct gradients, failing on a wrong one),
``amp.custom_fwd`` / ``custom_bwd``, ``func.jacfwd`` / ``linearize`` / ``stack_module_state`` /
``functionalize``, the split gradient-norm clipping of ``nn.utils`` (against numpy), the
convolution memory-format helper, ``skip_init``, the fusion helpers under ``nn.utils`` and the
older ``nn.init`` names."""

from __future__ import annotations

import numpy as np
import pytest

import ferrograd as fg
from ferrograd import nn


def test_anomaly_detection_names_the_op() -> None:
    def nan_backward() -> None:
        x = fg.tensor([0.0, 1.0], requires_grad=True)
        (x.sqrt() * 0.0).sum().backward()

    nan_backward()  # off: NaN gradients pass silently, as in PyTorch
    assert not fg.is_anomaly_enabled()
    with fg.autograd.detect_anomaly():
        assert fg.is_anomaly_enabled() and fg.is_anomaly_check_nan_enabled()
        with pytest.raises(RuntimeError, match="anomaly detection: the backward of `sqrt` returned NaN values"):
            nan_backward()
    assert not fg.is_anomaly_enabled()
    with fg.autograd.detect_anomaly(check_nan=False):
        nan_backward()
    fg.autograd.set_detect_anomaly(True)
    try:
        with pytest.raises(RuntimeError, match="sqrt"):
            nan_backward()
    finally:
        fg.set_anomaly_enabled(False)

    @fg.autograd.detect_anomaly()
    def decorated() -> bool:
        return fg.is_anomaly_enabled()

    assert decorated() and not fg.is_anomaly_enabled()


def test_gradcheck_and_gradgradcheck() -> None:
    rng = np.random.default_rng(0)
    x = fg.tensor(rng.uniform(0.5, 1.5, (3, 2)).astype(np.float32), requires_grad=True)
    w = fg.tensor(rng.standard_normal((2, 2)).astype(np.float32), requires_grad=True)
    assert fg.autograd.gradcheck(lambda a, b: (a @ b).tanh(), (x, w))
    assert fg.autograd.gradgradcheck(lambda a, b: (a @ b).tanh() * a.sum(), (x, w))

    class WrongGradient(fg.autograd.Function):
        @staticmethod
        def forward(ctx, t):  # type: ignore[no-untyped-def]
            ctx.save_for_backward(t)
            return t * t

        @staticmethod
        def backward(ctx, g):  # type: ignore[no-untyped-def]
            (t,) = ctx.saved_tensors
            return g * t  # should be 2 t

    assert not fg.autograd.gradcheck(WrongGradient.apply, (x,), raise_exception=False)
    with pytest.raises(fg.autograd.GradcheckError, match="by autograd and .* by finite differences"):
        fg.autograd.gradcheck(WrongGradient.apply, (x,))
    with pytest.raises(ValueError, match="gradcheck: expected at least one input tensor that requires grad"):
        fg.autograd.gradcheck(lambda a: a * 2, (x.detach(),))


def test_custom_fwd_and_custom_bwd_keep_the_forward_precision() -> None:
    seen: dict[str, str] = {}

    class Scaled(fg.autograd.Function):
        @staticmethod
        @fg.amp.custom_fwd(device_type="cpu", cast_inputs=fg.float32)
        def forward(ctx, t):  # type: ignore[no-untyped-def]
            seen["forward"] = fg.amp.get_autocast_dtype()
            return t * 2

        @staticmethod
        @fg.amp.custom_bwd(device_type="cpu")
        def backward(ctx, g):  # type: ignore[no-untyped-def]
            seen["backward"] = fg.amp.get_autocast_dtype()
            return g * 2

    x = fg.tensor([1.0, 2.0], requires_grad=True)
    with fg.autocast("cpu"):
        y = Scaled.apply(x)
    y.sum().backward()
    # cast_inputs runs the forward with autocast off; the backward repeats the forward's setting.
    assert seen == {"forward": "float32", "backward": "bfloat16"}
    assert x.grad.numpy().tolist() == [2.0, 2.0]
    assert fg.amp.is_autocast_available("cuda") and not fg.amp.is_autocast_available("mps")


def test_func_additions(rng: np.random.Generator) -> None:
    from ferrograd import func

    x = fg.tensor(rng.standard_normal(3).astype(np.float32))
    f = lambda t: (t ** 3).sum() * t  # noqa: E731
    np.testing.assert_allclose(func.jacfwd(f)(x).numpy(), func.jacrev(f)(x).numpy())
    out, jvp_fn = func.linearize(lambda t: t.sin() * 2, x)
    tangent = fg.tensor([1.0, 0.0, 2.0])
    np.testing.assert_allclose(out.numpy(), 2 * np.sin(x.numpy()), rtol=1e-6)
    np.testing.assert_allclose(jvp_fn(tangent).numpy(), 2 * np.cos(x.numpy()) * tangent.numpy(), rtol=1e-5)
    assert func.functionalize(f) is f
    models = [nn.Linear(3, 2) for _ in range(4)]
    params, buffers = func.stack_module_state(models)
    assert params["weight"].shape == (4, 2, 3) and params["weight"].requires_grad and params["weight"].is_leaf
    np.testing.assert_array_equal(params["bias"][2].detach().numpy(), models[2].bias.detach().numpy())
    assert buffers == {}
    batched = func.vmap(lambda p, b, t: func.functional_call(models[0], {"weight": p, "bias": b}, (t,)),
                        in_dims=(0, 0, None))(params["weight"], params["bias"], x)
    np.testing.assert_allclose(batched[1].detach().numpy(), models[1](x).detach().numpy(), rtol=1e-6)


def test_split_gradient_clipping_and_module_helpers(rng: np.random.Generator) -> None:
    from ferrograd.nn import utils

    grads = [rng.standard_normal(s).astype(np.float32) for s in ((3, 4), (5,))]
    params = [fg.zeros(*g.shape, requires_grad=True) for g in grads]
    for p, g in zip(params, grads):
        p.grad = fg.tensor(g)
    total = utils.get_total_norm([p.grad for p in params])
    want = np.sqrt(sum((g.astype(np.float64) ** 2).sum() for g in grads))
    assert total.item() == pytest.approx(want, rel=1e-6)
    assert utils.get_total_norm([p.grad for p in params], norm_type=np.inf).item() == pytest.approx(
        max(np.abs(g).max() for g in grads))
    utils.clip_grads_with_norm_(params, 1.0, total)
    clipped = np.sqrt(sum((p.grad.numpy().astype(np.float64) ** 2).sum() for p in params))
    assert clipped == pytest.approx(1.0, rel=1e-5)
    params[0].grad = fg.tensor(np.full((3, 4), np.nan, dtype=np.float32))
    with pytest.raises(RuntimeError, match="get_total_norm: the total norm of order 2.0 is nan"):
        utils.clip_grad_norm(params, 1.0, error_if_nonfinite=True)
    model = utils.skip_init(nn.Linear, 3, 2)
    assert model.weight.shape == (2, 3)
    net = nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU())
    assert utils.convert_conv2d_weight_memory_format(net, fg.channels_last) is net
    x = fg.randn(1, 1, 5, 5)
    np.testing.assert_allclose(net(x).detach().numpy(), net(x.contiguous()).detach().numpy())
    assert utils.fuse_conv_bn_eval is utils.fusion.fuse_conv_bn_eval


def test_older_init_names_fill_in_place() -> None:
    w = fg.zeros(4, 4)
    assert nn.init.constant(w, 0.5) is not None and np.all(w.numpy() == 0.5)
    nn.init.eye(w)
    np.testing.assert_array_equal(w.numpy(), np.eye(4))
    fg.manual_seed(0)
    nn.init.orthogonal(w)
    np.testing.assert_allclose(w.numpy() @ w.numpy().T, np.eye(4), atol=1e-5)
    assert nn.init.xavier_uniform.__doc__ == "The older name of :func:`xavier_uniform_`."


def test_cuda_namespace_without_a_gpu() -> None:
    """What the torch.cuda helpers do on a machine without a GPU (their device values are checked
    by the GPU tests where one is)."""
    if fg.cuda.is_available():
        pytest.skip("covered by the GPU tests on this machine")
    assert not fg.cuda.is_bf16_supported() and fg.cuda.get_arch_list() == []
    with pytest.raises(RuntimeError, match="cuda.get_device_capability: no CUDA device is available"):
        fg.cuda.get_device_capability()
    with pytest.raises(RuntimeError, match="cuda.current_device: no CUDA device"):
        fg.cuda.current_device()
    fg.cuda.set_device(0)
    with pytest.raises(ValueError, match="cuda.set_device: ferrograd's 'cuda' always names device 0"):
        fg.cuda.set_device("cuda:1")
    fg.cuda.manual_seed(3)
    first = fg.rand(3).numpy()
    state = fg.cuda.get_rng_state()
    fg.cuda.manual_seed_all(3)
    np.testing.assert_array_equal(fg.rand(3).numpy(), first)
    fg.cuda.set_rng_state(state)
    assert fg.cuda.get_rng_state() == state
    start, end = fg.cuda.Event(enable_timing=True), fg.cuda.Event(enable_timing=True)
    start.record()
    fg.randn(200, 200) @ fg.randn(200, 200)
    end.record()
    assert end.query() and start.elapsed_time(end) >= 0.0
    with pytest.raises(RuntimeError, match="both events need enable_timing=True"):
        fg.cuda.Event().elapsed_time(end)
    assert fg.cuda.OutOfMemoryError is MemoryError
