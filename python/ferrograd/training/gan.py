"""Adversarial training of a generator and a discriminator (DCGAN's recipe): per batch, one
discriminator step on real and generated images, then one generator step, both with
binary cross-entropy on logits and Adam(lr 2e-4, betas (0.5, 0.999))."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Optional, Sequence

import numpy as np

from .. import _core
from .. import functional as F
from ..autograd import no_grad
from ..images import make_grid
from .inputs import DataLike, make_loader


@dataclass
class GanHistory:
    """Per-step losses, the discriminator's mean probabilities on real and generated batches,
    and image grids of a fixed noise batch (one per ``sample_every`` steps and one at the end)."""

    d_loss: list[float] = field(default_factory=list)
    g_loss: list[float] = field(default_factory=list)
    d_real: list[float] = field(default_factory=list)
    d_fake: list[float] = field(default_factory=list)
    grids: list[np.ndarray] = field(default_factory=list)
    grid_steps: list[int] = field(default_factory=list)


def _ones(n: int, value: float) -> _core.Tensor:
    return _core.full([n], value, "float32", "cpu", False)


def train_gan(generator: Any, discriminator: Any, data: DataLike, epochs: int = 1, batch_size: int = 64,
              nz: Optional[int] = None, lr: float = 2e-4, betas: tuple[float, float] = (0.5, 0.999),
              transforms: Sequence[Any] = (), seed: Optional[int] = None, max_steps: Optional[int] = None,
              sample_every: Optional[int] = None, samples: int = 64,
              on_step: Optional[Callable[[int, GanHistory], None]] = None) -> GanHistory:
    """Trains ``generator`` (noise ``[B, nz]`` to images in [-1, 1]) against ``discriminator``
    (images to logits ``[B]``) on the images of ``data`` (scaled from [0, 1] to [-1, 1]).

    Returns a :class:`GanHistory`; ``history.grids`` are ``[C, H, W]`` grids in [0, 1] of the
    generator's output on one fixed noise batch, ready for :func:`ferrograd.images.save_image`.
    """
    from ..optim import Adam

    nz = nz if nz is not None else getattr(generator, "nz", None)
    if not isinstance(nz, int) or nz < 1:
        raise ValueError(f"train_gan: argument `nz` expected the generator's noise size (a positive int), got {nz!r}")
    if not isinstance(epochs, int) or epochs < 1:
        raise ValueError(f"train_gan: argument `epochs` expected a positive int, got {epochs!r}")
    if seed is not None:
        _core.manual_seed(seed)
    loader = make_loader(data, "data", "train_gan", batch_size, True, seed, transforms)
    opt_g = Adam(generator.parameters(), lr=lr, betas=betas)
    opt_d = Adam(discriminator.parameters(), lr=lr, betas=betas)
    fixed = _core.randn([samples, nz], 0.0, 1.0, False)
    history = GanHistory()

    def snapshot(step: int) -> None:
        generator.eval()
        with no_grad():
            images = generator(fixed)
        generator.train()
        history.grids.append(make_grid(images, nrow=int(np.ceil(np.sqrt(samples))), normalize=True, value_range=(-1.0, 1.0)))
        history.grid_steps.append(step)

    step = 0
    generator.train()
    discriminator.train()
    for epoch in range(epochs):
        loader.set_epoch(epoch)
        for x, _ in loader:
            real = _core.Tensor.from_numpy(x, False) * 2.0 - 1.0
            n = real.shape[0]
            fake = generator(_core.randn([n, nz], 0.0, 1.0, False))
            opt_d.zero_grad()
            d_real_logits = discriminator(real)
            d_fake_logits = discriminator(fake.detach())
            d_loss = (F.binary_cross_entropy_with_logits(d_real_logits, _ones(n, 1.0))
                      + F.binary_cross_entropy_with_logits(d_fake_logits, _ones(n, 0.0)))
            d_loss.backward()
            opt_d.step()
            opt_g.zero_grad()
            g_loss = F.binary_cross_entropy_with_logits(discriminator(fake), _ones(n, 1.0))
            g_loss.backward()
            opt_g.step()
            step += 1
            history.d_loss.append(d_loss.item())
            history.g_loss.append(g_loss.item())
            with no_grad():
                history.d_real.append(F.sigmoid(d_real_logits).mean().item())
                history.d_fake.append(F.sigmoid(d_fake_logits).mean().item())
            if not (np.isfinite(history.d_loss[-1]) and np.isfinite(history.g_loss[-1])):
                raise FloatingPointError(f"train_gan: a loss became non-finite at step {step}; lower the learning rate")
            if sample_every and step % sample_every == 0:
                snapshot(step)
            if on_step is not None:
                on_step(step, history)
            if max_steps is not None and step >= max_steps:
                break
        if max_steps is not None and step >= max_steps:
            break
    snapshot(step)
    return history
