"""DCGAN (Radford et al., 2016): a transposed-convolution generator and a convolutional
discriminator for 32x32 or 64x64 images, with the paper's N(0, 0.02) initialisation."""

from __future__ import annotations

from .. import nn
from .._core import Tensor


def _stages(image_size: int, name: str) -> int:
    if image_size not in (32, 64):
        raise ValueError(f"{name}: argument `image_size` expected 32 or 64, got {image_size!r}")
    return 3 if image_size == 32 else 4


def dcgan_init(model: nn.Module) -> nn.Module:
    """Convolution weights N(0, 0.02); BatchNorm scale N(1, 0.02), shift 0."""
    for m in model.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
            nn.init.normal_(m.weight, 0.0, 0.02)
        elif isinstance(m, nn.BatchNorm2d) and m.weight is not None and m.bias is not None:
            nn.init.normal_(m.weight, 1.0, 0.02)
            nn.init.zeros_(m.bias)
    return model


class DCGANGenerator(nn.Module):
    """Noise ``[B, nz]`` to images ``[B, channels, S, S]`` in [-1, 1]: a 4x4 projection, then
    stride-2 transposed convolutions with BatchNorm and ReLU, and tanh."""

    def __init__(self, nz: int = 100, channels: int = 1, features: int = 64, image_size: int = 32) -> None:
        super().__init__()
        stages = _stages(image_size, "DCGANGenerator")
        self.nz = nz
        width = features * 2 ** (stages - 1)
        layers: list[nn.Module] = [nn.ConvTranspose2d(nz, width, 4, 1, 0, bias=False), nn.BatchNorm2d(width), nn.ReLU()]
        for _ in range(stages - 1):
            layers += [nn.ConvTranspose2d(width, width // 2, 4, 2, 1, bias=False), nn.BatchNorm2d(width // 2), nn.ReLU()]
            width //= 2
        layers += [nn.ConvTranspose2d(width, channels, 4, 2, 1, bias=False), nn.Tanh()]
        self.main = nn.Sequential(*layers)
        dcgan_init(self)

    def forward(self, z: Tensor) -> Tensor:
        return self.main(z.reshape(z.shape[0], self.nz, 1, 1))


class DCGANDiscriminator(nn.Module):
    """Images ``[B, channels, S, S]`` to one real-vs-fake logit each ``[B]``: stride-2
    convolutions with BatchNorm (not on the first) and LeakyReLU(0.2), then a 4x4 convolution."""

    def __init__(self, channels: int = 1, features: int = 64, image_size: int = 32) -> None:
        super().__init__()
        stages = _stages(image_size, "DCGANDiscriminator")
        layers: list[nn.Module] = [nn.Conv2d(channels, features, 4, 2, 1, bias=False), nn.LeakyReLU(0.2)]
        width = features
        for _ in range(stages - 1):
            layers += [nn.Conv2d(width, width * 2, 4, 2, 1, bias=False), nn.BatchNorm2d(width * 2), nn.LeakyReLU(0.2)]
            width *= 2
        layers += [nn.Conv2d(width, 1, 4, 1, 0, bias=False)]
        self.main = nn.Sequential(*layers)
        dcgan_init(self)

    def forward(self, x: Tensor) -> Tensor:
        return self.main(x).reshape(x.shape[0])
