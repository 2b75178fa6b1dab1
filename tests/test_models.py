"""Architectures: ResNets loading torchvision-named weights (checked against a numpy forward
pass) and learning on CIFAR-10; LSTM and GRU against a JAX reference (values and gradients)
and learning row-by-row MNIST."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import ferrograd as fg
from ferrograd import nn

jax = pytest.importorskip("jax")
jnp = jax.numpy


# -- ResNet ---------------------------------------------------------------------------------------

def torchvision_resnet18_keys() -> list[str]:
    """torchvision's resnet18 state-dict names, written out from its architecture."""
    def bn(p: str) -> list[str]:
        return [f"{p}.{k}" for k in ("weight", "bias", "running_mean", "running_var", "num_batches_tracked")]

    keys = ["conv1.weight", *bn("bn1")]
    for stage in range(1, 5):
        for block in range(2):
            p = f"layer{stage}.{block}"
            keys += [f"{p}.conv1.weight", *bn(f"{p}.bn1"), f"{p}.conv2.weight", *bn(f"{p}.bn2")]
            if stage > 1 and block == 0:
                keys += [f"{p}.downsample.0.weight", *bn(f"{p}.downsample.1")]
    return keys + ["fc.weight", "fc.bias"]


def conv_ref(x: np.ndarray, w: np.ndarray, stride: int, pad: int) -> np.ndarray:
    x = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    k = w.shape[-1]
    win = np.lib.stride_tricks.sliding_window_view(x, (k, k), axis=(2, 3))[:, :, ::stride, ::stride]
    return np.einsum("bchwij,ocij->bohw", win, w)


def resnet18_ref(w: dict[str, np.ndarray], x: np.ndarray) -> np.ndarray:
    """torchvision's resnet18 forward in float64 numpy, eval mode."""
    def bn(h, p):
        scale = w[p + ".weight"] / np.sqrt(w[p + ".running_var"] + 1e-5)
        return (h - w[p + ".running_mean"][:, None, None]) * scale[:, None, None] + w[p + ".bias"][:, None, None]

    relu = lambda h: np.maximum(h, 0)  # noqa: E731
    h = relu(bn(conv_ref(x, w["conv1.weight"], 2, 3), "bn1"))
    h = np.pad(h, ((0, 0), (0, 0), (1, 1), (1, 1)), constant_values=-np.inf)
    h = np.lib.stride_tricks.sliding_window_view(h, (3, 3), axis=(2, 3))[:, :, ::2, ::2].max(axis=(-1, -2))
    for stage in range(1, 5):
        for block in range(2):
            p, stride = f"layer{stage}.{block}", 2 if stage > 1 and block == 0 else 1
            out = relu(bn(conv_ref(h, w[p + ".conv1.weight"], stride, 1), p + ".bn1"))
            out = bn(conv_ref(out, w[p + ".conv2.weight"], 1, 1), p + ".bn2")
            if p + ".downsample.0.weight" in w:
                h = bn(conv_ref(h, w[p + ".downsample.0.weight"], stride, 0), p + ".downsample.1")
            h = relu(out + h)
    return h.mean(axis=(2, 3)) @ w["fc.weight"].T + w["fc.bias"]


def test_resnet18_loads_torchvision_names_and_matches_a_numpy_forward(tmp_path: Path):
    rng = np.random.default_rng(0)
    model = fg.models.resnet18(num_classes=10)
    assert list(model.state_dict()) == torchvision_resnet18_keys()
    weights: dict[str, np.ndarray] = {}
    for name, t in model.state_dict().items():
        shape = tuple(t.shape)
        if name.endswith("num_batches_tracked"):
            weights[name] = np.array(7, np.int64)
        elif name.endswith("running_var"):
            weights[name] = rng.uniform(0.5, 2.0, shape).astype(np.float32)
        elif name.endswith("weight") and len(shape) == 4:
            weights[name] = (rng.standard_normal(shape) * np.sqrt(2.0 / np.prod(shape[1:]))).astype(np.float32)
        else:
            weights[name] = (rng.standard_normal(shape) * 0.1).astype(np.float32)
    path = tmp_path / "resnet18.safetensors"
    fg.save_safetensors({k: fg.tensor(v) for k, v in weights.items()}, path)
    loaded = fg.models.resnet18(num_classes=10, weights=path).eval()
    x = rng.standard_normal((2, 3, 64, 64)).astype(np.float32)
    with fg.no_grad():
        logits = loaded(fg.tensor(x)).numpy()
    expected = resnet18_ref({k: v.astype(np.float64) for k, v in weights.items()}, x.astype(np.float64))
    np.testing.assert_allclose(logits, expected, rtol=1e-3, atol=1e-3 * np.abs(expected).max())
    with pytest.raises(KeyError, match="missing keys"):
        fg.models.resnet34(num_classes=10, weights=path)


def test_resnet_variants_shapes_head_replacement_and_errors():
    cifar = fg.models.resnet18(num_classes=10, stem="cifar")
    assert tuple(cifar.conv1.weight.shape) == (64, 3, 3, 3) and isinstance(cifar.maxpool, nn.Identity)
    x = fg.randn(2, 3, 32, 32)
    assert tuple(cifar(x).shape) == (2, 10)
    assert tuple(cifar.replace_head(4)(x).shape) == (2, 4)
    assert sum(1 for k in fg.models.resnet34().state_dict() if k.endswith("conv1.weight")) == 1 + 16
    pre = fg.models.preact_resnet18(num_classes=10)
    keys = list(pre.state_dict())
    assert keys[0] == "conv1.weight" and "layer2.0.shortcut.0.weight" in keys and keys[-2:] == ["linear.weight", "linear.bias"]
    assert tuple(pre(x).shape) == (2, 10)
    with pytest.raises(ValueError, match="stem"):
        fg.models.resnet18(stem="tiny")


def test_resnet18_cifar_stem_learns_on_a_cifar10_subset(data_dir: Path):
    train, test = fg.data.cifar10(data_dir / "cifar10_subset")
    train = train.subset(list(range(2000)))
    mean, std = (0.4914, 0.4822, 0.4465), (0.2470, 0.2435, 0.2616)
    fg.manual_seed(0)
    model = nn.Sequential(nn.Normalize(mean, std), fg.models.resnet18(num_classes=10, stem="cifar"))
    optimizer = fg.optim.Adam(model.parameters(), lr=1e-3)
    history = model.fit(train, epochs=2, batch_size=64, optimizer=optimizer, seed=0, verbose=False,
                        augment=[fg.data.transforms.RandomCrop(32, padding=4), fg.data.transforms.RandomHorizontalFlip()])
    accuracy = model.evaluate(test).accuracy
    print(f"ResNet-18 (CIFAR stem), 2 epochs on 2000 CIFAR-10 images: losses {history['loss']}, "
          f"test accuracy {accuracy:.4f}")
    assert history["loss"][-1] < history["loss"][0]
    assert accuracy > 0.25


# -- LSTM / GRU -----------------------------------------------------------------------------------

def lstm_ref(params: dict, x, h0, c0, layers: int, directions: int, hidden: int):
    """PyTorch's LSTM equations in JAX; x [B, T, I]; returns (output, h_n, c_n)."""
    hs, cs = [], []
    for layer in range(layers):
        outs = []
        for d in range(directions):
            sfx = f"_l{layer}" + ("_reverse" if d else "")
            h, c = h0[layer * directions + d], c0[layer * directions + d]
            steps = []
            order = range(x.shape[1] - 1, -1, -1) if d else range(x.shape[1])
            for t in order:
                g = x[:, t] @ params["weight_ih" + sfx].T + params["bias_ih" + sfx] + h @ params["weight_hh" + sfx].T + params["bias_hh" + sfx]
                i, f, gg, o = jnp.split(g, 4, axis=1)
                c = jax.nn.sigmoid(f) * c + jax.nn.sigmoid(i) * jnp.tanh(gg)
                h = jax.nn.sigmoid(o) * jnp.tanh(c)
                steps.append((t, h))
            steps.sort(key=lambda s: s[0])
            outs.append(jnp.stack([s[1] for s in steps], 1))
            hs.append(h)
            cs.append(c)
        x = jnp.concatenate(outs, -1)
    return x, jnp.stack(hs), jnp.stack(cs)


def gru_ref(params: dict, x, h0, layers: int, directions: int, hidden: int):
    hs = []
    for layer in range(layers):
        outs = []
        for d in range(directions):
            sfx = f"_l{layer}" + ("_reverse" if d else "")
            h = h0[layer * directions + d]
            steps = []
            order = range(x.shape[1] - 1, -1, -1) if d else range(x.shape[1])
            for t in order:
                gx = x[:, t] @ params["weight_ih" + sfx].T + params["bias_ih" + sfx]
                gh = h @ params["weight_hh" + sfx].T + params["bias_hh" + sfx]
                r = jax.nn.sigmoid(gx[:, :hidden] + gh[:, :hidden])
                z = jax.nn.sigmoid(gx[:, hidden:2 * hidden] + gh[:, hidden:2 * hidden])
                n = jnp.tanh(gx[:, 2 * hidden:] + r * gh[:, 2 * hidden:])
                h = (1 - z) * n + z * h
                steps.append((t, h))
            steps.sort(key=lambda s: s[0])
            outs.append(jnp.stack([s[1] for s in steps], 1))
            hs.append(h)
        x = jnp.concatenate(outs, -1)
    return x, jnp.stack(hs)


@pytest.mark.parametrize("kind", ["lstm", "gru"])
def test_recurrent_layers_match_jax_values_and_gradients(kind: str):
    rng = np.random.default_rng(1)
    layers, directions, hidden, inputs = 2, 2, 5, 3
    fg.manual_seed(0)
    cls = nn.LSTM if kind == "lstm" else nn.GRU
    module = cls(inputs, hidden, num_layers=layers, batch_first=True, bidirectional=True)
    names = [n for n, _ in module.named_parameters()]
    assert names[:4] == ["weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"]
    assert "weight_hh_l1_reverse" in names and tuple(module.weight_ih_l1.shape) == ((4 if kind == "lstm" else 3) * hidden, 2 * hidden)
    params = {n: p.detach().numpy() for n, p in module.named_parameters()}
    x = rng.standard_normal((4, 6, inputs)).astype(np.float32)
    h0 = rng.standard_normal((layers * directions, 4, hidden)).astype(np.float32)
    c0 = rng.standard_normal((layers * directions, 4, hidden)).astype(np.float32)
    w_out = rng.standard_normal((4, 6, 2 * hidden)).astype(np.float32)
    w_h = rng.standard_normal(h0.shape).astype(np.float32)

    def objective(params, x, h0, c0):
        if kind == "lstm":
            out, h, c = lstm_ref(params, x, h0, c0, layers, directions, hidden)
            return (out * w_out).sum() + (h * w_h).sum() + (c * w_h).sum()
        out, h = gru_ref(params, x, h0, layers, directions, hidden)
        return (out * w_out).sum() + (h * w_h).sum()

    tx, th, tc = (fg.tensor(a, requires_grad=True) for a in (x, h0, c0))
    if kind == "lstm":
        out, (h, c) = module(tx, (th, tc))
        total = (out * fg.tensor(w_out)).sum() + (h * fg.tensor(w_h)).sum() + (c * fg.tensor(w_h)).sum()
    else:
        out, h = module(tx, th)
        total = (out * fg.tensor(w_out)).sum() + (h * fg.tensor(w_h)).sum()
    total.backward()
    np.testing.assert_allclose(total.item(), float(objective(params, x, h0, c0)), rtol=1e-4)
    g_params, g_x, g_h0, g_c0 = jax.grad(objective, argnums=(0, 1, 2, 3))(params, x, h0, c0)
    for name, p in module.named_parameters():
        np.testing.assert_allclose(p.grad.numpy(), np.asarray(g_params[name]), atol=1e-4, err_msg=name)
    np.testing.assert_allclose(tx.grad.numpy(), np.asarray(g_x), atol=1e-4)
    np.testing.assert_allclose(th.grad.numpy(), np.asarray(g_h0), atol=1e-4)
    if kind == "lstm":
        np.testing.assert_allclose(tc.grad.numpy(), np.asarray(g_c0), atol=1e-4)


@fg.no_grad()
def test_recurrent_layers_layouts_and_errors():
    lstm = nn.LSTM(3, 4)
    out, (h, c) = lstm(fg.randn(7, 2, 3))  # [seq, batch, features] by default
    assert tuple(out.shape) == (7, 2, 4) and tuple(h.shape) == (1, 2, 4) and tuple(c.shape) == (1, 2, 4)
    np.testing.assert_allclose(out[-1].numpy(), h[0].numpy(), atol=1e-6)
    single, _ = lstm(fg.randn(7, 3))  # unbatched
    assert tuple(single.shape) == (7, 4)
    gru = nn.GRU(3, 4, batch_first=True)
    out, h = gru(fg.randn(2, 7, 3))
    np.testing.assert_allclose(out[:, -1].numpy(), h[0].numpy(), atol=1e-6)
    with pytest.raises(ValueError, match="input expected"):
        lstm(fg.randn(2, 7, 5))
    with pytest.raises(ValueError, match="h_0"):
        gru(fg.randn(2, 7, 3), fg.randn(2, 2, 4))
    with pytest.raises(ValueError, match="dropout"):
        nn.GRU(3, 4, dropout=1.5)
    assert "LSTM(3, 4)" in repr(lstm)


class RowLSTM(nn.Module):
    """Reads a 28x28 image one row per time step; classifies from the last hidden state."""

    def __init__(self) -> None:
        super().__init__()
        self.lstm = nn.LSTM(28, 128, batch_first=True)
        self.fc = nn.Linear(128, 10)

    def forward(self, x: fg.Tensor) -> fg.Tensor:
        _, (h, _) = self.lstm(x.reshape(x.shape[0], 28, 28))
        return self.fc(h[-1])


def test_lstm_learns_row_by_row_mnist(data_dir: Path):
    # Budget: one epoch of the 60,000 training images (about a minute on two CPU cores).
    train, test = fg.data.mnist(data_dir / "mnist")
    fg.manual_seed(0)
    model = RowLSTM()
    model.fit(train, epochs=1, batch_size=64, optimizer=fg.optim.Adam(model.parameters(), lr=3e-3), grad_clip=1.0,
              seed=0, verbose=False)
    accuracy = model.evaluate(test).accuracy
    print(f"row-by-row MNIST LSTM, one epoch: test accuracy {accuracy:.4f}")
    assert accuracy >= 0.95


# -- transposed convolution and DCGAN ---------------------------------------------------------------

@pytest.mark.parametrize("stride,padding,output_padding,groups", [(2, 1, 1, 1), (1, 0, 0, 2), (3, 2, 2, 1)])
def test_conv_transpose2d_is_the_input_gradient_of_conv2d(stride: int, padding: int, output_padding: int, groups: int):
    rng = np.random.default_rng(stride)
    x = rng.standard_normal((2, 4, 5, 4)).astype(np.float32)
    w = rng.standard_normal((4, 3, 3, 3)).astype(np.float32)  # [C_in, C_out/groups, kH, kW]
    b = rng.standard_normal(3 * groups).astype(np.float32)
    out_h = (5 - 1) * stride - 2 * padding + 3 + output_padding
    out_w = (4 - 1) * stride - 2 * padding + 3 + output_padding

    def conv(y, w):  # the convolution that conv_transpose2d reverses: [N, C_out, H', W'] -> [N, C_in, H, W]
        return jax.lax.conv_general_dilated(y, w, (stride, stride), [(padding, padding)] * 2,
                                            dimension_numbers=("NCHW", "OIHW", "NCHW"), feature_group_count=groups)

    def reference(x, w, b):
        y0 = jnp.zeros((2, 3 * groups, out_h, out_w), jnp.float32)
        return jax.vjp(lambda y: conv(y, w), y0)[1](x)[0] + b[None, :, None, None]

    weights = rng.standard_normal((2, 3 * groups, out_h, out_w)).astype(np.float32)
    tx, tw, tb = (fg.tensor(a, requires_grad=True) for a in (x, w, b))
    y = fg.functional.conv_transpose2d(tx, tw, tb, stride, padding, output_padding, groups)
    (y * fg.tensor(weights)).sum().backward()
    np.testing.assert_allclose(y.detach().numpy(), np.asarray(reference(x, w, b)), atol=1e-4)
    grads = jax.grad(lambda x, w, b: (reference(x, w, b) * weights).sum(), argnums=(0, 1, 2))(x, w, b)
    for t, g in zip((tx, tw, tb), grads):
        np.testing.assert_allclose(t.grad.numpy(), np.asarray(g), atol=1e-3)
    layer = nn.ConvTranspose2d(4, 6, 3, stride=2, padding=1, output_padding=1)
    assert tuple(layer.weight.shape) == (4, 6, 3, 3) and tuple(layer(fg.randn(1, 4, 5, 5)).shape) == (1, 6, 10, 10)
    with pytest.raises(ValueError, match="output_padding"):
        fg.functional.conv_transpose2d(tx, tw, None, 2, 0, 2)


def test_dcgan_learns_the_look_of_mnist_and_writes_image_grids(data_dir: Path, tmp_path: Path):
    import matplotlib.image

    train, _ = fg.data.mnist(data_dir / "mnist")
    fg.manual_seed(0)
    generator = fg.models.DCGANGenerator(nz=32, channels=1, features=16, image_size=32)
    discriminator = fg.models.DCGANDiscriminator(channels=1, features=16, image_size=32)
    assert tuple(generator(fg.randn(3, 32)).shape) == (3, 1, 32, 32) and tuple(discriminator(fg.randn(3, 1, 32, 32)).shape) == (3,)
    pad = [fg.data.transforms.RandomCrop(32, padding=2)]
    real, _ = next(iter(fg.data.DataLoader(train, 512, transforms=pad)))
    real_mean = float((real * 2 - 1).mean())
    z = fg.randn(512, 32)

    def generated_mean() -> float:
        generator.eval()
        with fg.no_grad():
            value = float(generator(z).numpy().mean())
        generator.train()
        return value

    start = generated_mean()
    history = fg.training.train_gan(generator, discriminator, train.subset(list(range(20000))), epochs=1, batch_size=64,
                                    seed=0, transforms=pad, sample_every=100, samples=16)
    end = generated_mean()
    print(f"DCGAN, 313 steps: mean pixel {start:.3f} -> {end:.3f} (real {real_mean:.3f}); "
          f"D(real) {history.d_real[-1]:.3f}, D(fake) {history.d_fake[-1]:.3f}")
    assert len(history.d_loss) == 313 and np.isfinite(history.d_loss).all() and np.isfinite(history.g_loss).all()
    # The generator moves from mid-grey towards MNIST's mostly black images.
    assert abs(end - real_mean) < 0.5 * abs(start - real_mean)
    assert history.grid_steps == [100, 200, 300, 313] and history.grids[-1].shape == (1, 4 * 34 + 2, 4 * 34 + 2)
    path = tmp_path / "samples.png"
    fg.images.save_image(history.grids[-1], path)
    png = matplotlib.image.imread(path)
    np.testing.assert_allclose(png, np.round(history.grids[-1][0] * 255) / 255, atol=1 / 255 + 1e-6)
    with pytest.raises(ValueError, match="image_size"):
        fg.models.DCGANGenerator(image_size=48)
