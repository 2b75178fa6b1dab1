"""ResNets with torchvision's parameter names (``conv1``, ``bn1``, ``layer1.0.conv1``,
``layer2.0.downsample.0``, ``fc``), so a torchvision state dict saved as safetensors loads by
name; the CIFAR stem (3x3 stride-1 first convolution, no max pool) for 32x32 images; and the
pre-activation ResNet-18 used across adversarial-robustness work (``bn`` and ``linear`` at the
end, ``shortcut`` branches, as in the reference implementations)."""

from __future__ import annotations

import os
from typing import Callable, Optional, Sequence, Union

from .. import functional as F
from .. import nn
from .._core import Tensor

PathLike = Union[str, "os.PathLike[str]"]


def _conv3x3(cin: int, cout: int, stride: int = 1) -> nn.Conv2d:
    return nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False)


def _init_convolutions(model: nn.Module) -> None:
    """torchvision's init: Kaiming-normal (fan-out) convolutions, unit-scale BatchNorm."""
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
        elif isinstance(m, nn.BatchNorm2d) and m.weight is not None and m.bias is not None:
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)


def _add_stages(model: nn.Module, block: Callable[[int, int, int], nn.Module], layers: Sequence[int]) -> None:
    """``layer1`` .. ``layer4``: 64, 128, 256 and 512 channels, ``layers[i]`` blocks each; every
    stage after the first halves the resolution in its first block."""
    cin = 64
    for i, (width, blocks) in enumerate(zip((64, 128, 256, 512), layers)):
        stage = [block(cin, width, 1 if i == 0 else 2)] + [block(width, width, 1) for _ in range(blocks - 1)]
        setattr(model, f"layer{i + 1}", nn.Sequential(*stage))
        cin = width


class BasicBlock(nn.Module):
    """Two 3x3 convolutions with BatchNorm and a residual connection (1x1 projection when the
    shape changes)."""

    expansion = 1

    def __init__(self, cin: int, cout: int, stride: int = 1) -> None:
        super().__init__()
        self.conv1 = _conv3x3(cin, cout, stride)
        self.bn1 = nn.BatchNorm2d(cout)
        self.relu = nn.ReLU()
        self.conv2 = _conv3x3(cout, cout)
        self.bn2 = nn.BatchNorm2d(cout)
        self.downsample: Optional[nn.Sequential] = None
        if stride != 1 or cin != cout:
            self.downsample = nn.Sequential(nn.Conv2d(cin, cout, 1, stride=stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x: Tensor) -> Tensor:
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        identity = self.downsample(x) if self.downsample is not None else x
        return self.relu(out + identity)


class ResNet(nn.Module):
    """A ResNet of :class:`BasicBlock` stages; ``stem="imagenet"`` (7x7 stride-2 convolution and
    max pool, for 224x224 images) or ``"cifar"`` (3x3 stride-1 convolution, no pool)."""

    def __init__(self, layers: Sequence[int], num_classes: int = 1000, stem: str = "imagenet", in_channels: int = 3) -> None:
        super().__init__()
        if stem not in ("imagenet", "cifar"):
            raise ValueError(f"ResNet: argument `stem` expected 'imagenet' or 'cifar', got {stem!r}")
        if not isinstance(num_classes, int) or num_classes < 1:
            raise ValueError(f"ResNet: argument `num_classes` expected a positive int, got {num_classes!r}")
        self.stem = stem
        if stem == "imagenet":
            self.conv1 = nn.Conv2d(in_channels, 64, 7, stride=2, padding=3, bias=False)
        else:
            self.conv1 = nn.Conv2d(in_channels, 64, 3, stride=1, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU()
        self.maxpool: nn.Module = nn.MaxPool2d(3, stride=2, padding=1) if stem == "imagenet" else nn.Identity()
        _add_stages(self, BasicBlock, layers)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(512, num_classes)
        _init_convolutions(self)

    def features(self, x: Tensor) -> Tensor:
        """The pooled 512-wide representation before ``fc``."""
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        for i in range(1, 5):
            x = getattr(self, f"layer{i}")(x)
        return self.avgpool(x).flatten(1)

    def forward(self, x: Tensor) -> Tensor:
        return self.fc(self.features(x))

    def replace_head(self, num_classes: int) -> "ResNet":
        """A new ``fc`` for ``num_classes`` (fine-tuning to another label set); returns self."""
        self.fc = nn.Linear(self.fc.in_features, num_classes)
        return self


class PreActBlock(nn.Module):
    """Pre-activation block: BN-ReLU-conv twice; the shortcut taps the first activation."""

    def __init__(self, cin: int, cout: int, stride: int = 1) -> None:
        super().__init__()
        self.bn1 = nn.BatchNorm2d(cin)
        self.conv1 = _conv3x3(cin, cout, stride)
        self.bn2 = nn.BatchNorm2d(cout)
        self.conv2 = _conv3x3(cout, cout)
        self.shortcut: Optional[nn.Sequential] = None
        if stride != 1 or cin != cout:
            self.shortcut = nn.Sequential(nn.Conv2d(cin, cout, 1, stride=stride, bias=False))

    def forward(self, x: Tensor) -> Tensor:
        out = F.relu(self.bn1(x))
        shortcut = self.shortcut(out) if self.shortcut is not None else x
        out = self.conv1(out)
        out = self.conv2(F.relu(self.bn2(out)))
        return out + shortcut


class PreActResNet(nn.Module):
    """Pre-activation ResNet for 32x32 inputs (CIFAR stem)."""

    def __init__(self, layers: Sequence[int], num_classes: int = 10, in_channels: int = 3) -> None:
        super().__init__()
        self.conv1 = _conv3x3(in_channels, 64)
        _add_stages(self, PreActBlock, layers)
        self.bn = nn.BatchNorm2d(512)
        self.linear = nn.Linear(512, num_classes)
        _init_convolutions(self)

    def forward(self, x: Tensor) -> Tensor:
        x = self.conv1(x)
        for i in range(1, 5):
            x = getattr(self, f"layer{i}")(x)
        return self.linear(F.adaptive_avg_pool2d(F.relu(self.bn(x)), 1).flatten(1))


def _build(model: nn.Module, weights: Optional[PathLike]) -> nn.Module:
    if weights is not None:
        model.load(os.fspath(weights))
    return model


def resnet18(num_classes: int = 1000, stem: str = "imagenet", weights: Optional[PathLike] = None) -> ResNet:
    """ResNet-18; ``weights`` loads a safetensors state dict with torchvision's names."""
    return _build(ResNet([2, 2, 2, 2], num_classes, stem), weights)  # type: ignore[return-value]


def resnet34(num_classes: int = 1000, stem: str = "imagenet", weights: Optional[PathLike] = None) -> ResNet:
    """ResNet-34; ``weights`` loads a safetensors state dict with torchvision's names."""
    return _build(ResNet([3, 4, 6, 3], num_classes, stem), weights)  # type: ignore[return-value]


def preact_resnet18(num_classes: int = 10, weights: Optional[PathLike] = None) -> PreActResNet:
    """Pre-activation ResNet-18 for 32x32 images."""
    return _build(PreActResNet([2, 2, 2, 2], num_classes), weights)  # type: ignore[return-value]
