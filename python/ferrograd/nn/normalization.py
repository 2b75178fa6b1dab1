"""Normalisation layers: BatchNorm1d/2d, LayerNorm, GroupNorm and InstanceNorm1d/2d."""

from __future__ import annotations

from typing import Any, Optional, Sequence

from .. import _core
from .._core import Tensor
from .. import functional as F
from ..autograd import no_grad
from ._param import buffer, empty_parameter
from . import init
from .module import Module


class _BatchNorm(Module):
    _ranks: tuple[int, ...] = ()
    running_mean: Optional[Tensor]
    running_var: Optional[Tensor]
    num_batches_tracked: Tensor

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: Optional[float] = 0.1, affine: bool = True,
                 track_running_stats: bool = True) -> None:
        super().__init__()
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        self.weight = init.ones_(empty_parameter((num_features,))) if affine else None
        self.bias = empty_parameter((num_features,)) if affine else None
        if track_running_stats:
            self.register_buffer("running_mean", buffer((num_features,), 0.0))
            self.register_buffer("running_var", buffer((num_features,), 1.0))
            self.register_buffer("num_batches_tracked", buffer((), 0, "int64"))
        else:
            self.running_mean = self.running_var = None

    def reset_running_stats(self) -> None:
        """Zeroes the running mean and the batch count and sets the running variance to one."""
        if self.running_mean is not None and self.running_var is not None:
            with no_grad():
                self.running_mean.zero_()
                self.running_var.fill_(1.0)
                self.num_batches_tracked.zero_()

    def forward(self, x: Tensor) -> Tensor:
        if x.ndim not in self._ranks:
            raise ValueError(f"{type(self).__name__}: expected input of rank {' or '.join(map(str, self._ranks))}, got shape {tuple(x.shape)}")
        if x.shape[1] != self.num_features:
            raise ValueError(f"{type(self).__name__}: expected {self.num_features} channels in dim 1, got shape {tuple(x.shape)}")
        momentum = self.momentum
        if self.training and self.track_running_stats:
            self.num_batches_tracked._count_up(1)  # on the device: no wait for the GPU
            if momentum is None:  # cumulative moving average
                momentum = 1.0 / float(self.num_batches_tracked.item())
        use_batch = self.training or not self.track_running_stats
        return F.batch_norm(x, self.running_mean, self.running_var, self.weight, self.bias, use_batch, momentum or 0.0, self.eps)

    def _to_layer(self) -> _core.Layer:
        running = None
        if self.running_mean is not None and self.running_var is not None:
            running = (self.running_mean, self.running_var, self.num_batches_tracked)
        return _core.Layer.batch_norm(self.weight, self.bias, running, self.momentum, self.eps, self.training)

    def extra_repr(self) -> str:
        return f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, track_running_stats={self.track_running_stats}"


class BatchNorm1d(_BatchNorm):
    """Batch normalisation over [N, C] or [N, C, L] inputs."""

    _ranks = (2, 3)


class BatchNorm2d(_BatchNorm):
    """Batch normalisation over [N, C, H, W] inputs."""

    _ranks = (4,)


class BatchNorm3d(_BatchNorm):
    """Batch normalisation over [N, C, D, H, W] inputs."""

    _ranks = (5,)


class SyncBatchNorm(_BatchNorm):
    """Batch normalisation over [N, C, ...] inputs (rank 2 to 5), as ``torch.nn.SyncBatchNorm``
    outside distributed training: ferrograd trains in one process, so the statistics of the
    batch are already the global ones and the layer is a batch norm. ``process_group`` is
    accepted for PyTorch code and must be None."""

    _ranks = (2, 3, 4, 5)

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: Optional[float] = 0.1, affine: bool = True,
                 track_running_stats: bool = True, process_group: Any = None) -> None:
        if process_group is not None:
            raise ValueError("SyncBatchNorm: argument `process_group` expected None (ferrograd trains in one process)")
        super().__init__(num_features, eps, momentum, affine, track_running_stats)

    @classmethod
    def convert_sync_batchnorm(cls, module: Module, process_group: Any = None) -> Module:
        """``module`` with every BatchNorm1d/2d/3d inside it replaced by a SyncBatchNorm holding the
        same parameters, running statistics and mode (the module itself if it is one)."""
        if isinstance(module, _BatchNorm) and not isinstance(module, SyncBatchNorm):
            sync = cls(module.num_features, module.eps, module.momentum, module.affine, module.track_running_stats,
                       process_group)
            for name, tensor in list(module._parameters.items()) + list(module._buffers.items()):
                setattr(sync, name, tensor)
            sync.train(module.training)
            return sync
        for name, child in list(module._modules.items()):
            if child is not None:
                converted = cls.convert_sync_batchnorm(child, process_group)
                if converted is not child:
                    setattr(module, name, converted)
        return module


class LocalResponseNorm(Module):
    """Local response normalisation across channels (:func:`ferrograd.functional.local_response_norm`)."""

    def __init__(self, size: int, alpha: float = 1e-4, beta: float = 0.75, k: float = 1.0) -> None:
        super().__init__()
        self.size, self.alpha, self.beta, self.k = size, alpha, beta, k

    def forward(self, x: Tensor) -> Tensor:
        return F.local_response_norm(x, self.size, self.alpha, self.beta, self.k)

    def extra_repr(self) -> str:
        return f"{self.size}, alpha={self.alpha}, beta={self.beta}, k={self.k}"


class RMSNorm(Module):
    """Root-mean-square normalisation over the trailing ``normalized_shape`` axes with an
    optional learned scale (``torch.nn.RMSNorm``; ``eps=None`` uses float32's epsilon)."""

    def __init__(self, normalized_shape: int | Sequence[int], eps: Optional[float] = None,
                 elementwise_affine: bool = True) -> None:
        super().__init__()
        self.normalized_shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
        self.eps = eps
        self.weight = init.ones_(empty_parameter(self.normalized_shape)) if elementwise_affine else None

    def forward(self, x: Tensor) -> Tensor:
        return F.rms_norm(x, self.normalized_shape, self.weight, self.eps)

    def extra_repr(self) -> str:
        return f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.weight is not None}"


class LayerNorm(Module):
    """Layer normalisation over the trailing ``normalized_shape`` axes."""

    def __init__(self, normalized_shape: int | Sequence[int], eps: float = 1e-5, elementwise_affine: bool = True, bias: bool = True) -> None:
        super().__init__()
        self.normalized_shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
        self.eps = eps
        self.weight = init.ones_(empty_parameter(self.normalized_shape)) if elementwise_affine else None
        self.bias = empty_parameter(self.normalized_shape) if elementwise_affine and bias else None

    def forward(self, x: Tensor) -> Tensor:
        return F.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)

    def _to_layer(self) -> _core.Layer:
        return _core.Layer.layer_norm(list(self.normalized_shape), self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.weight is not None}"


class GroupNorm(Module):
    """Group normalisation: ``num_channels`` split into ``num_groups`` groups, each normalised over
    its channels and positions per sample, then a per-channel scale and shift."""

    def __init__(self, num_groups: int, num_channels: int, eps: float = 1e-5, affine: bool = True) -> None:
        super().__init__()
        if num_groups < 1 or num_channels % num_groups:
            raise ValueError(f"GroupNorm: argument `num_groups` expected a divisor of num_channels {num_channels}, got {num_groups}")
        self.num_groups, self.num_channels, self.eps = num_groups, num_channels, eps
        self.weight = init.ones_(empty_parameter((num_channels,))) if affine else None
        self.bias = init.zeros_(empty_parameter((num_channels,))) if affine else None

    def forward(self, x: Tensor) -> Tensor:
        if x.ndim < 2 or x.shape[1] != self.num_channels:
            raise ValueError(f"GroupNorm: expected an input of shape [N, {self.num_channels}, ...], got {list(x.shape)}")
        return F.group_norm(x, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.weight is not None}"


class _InstanceNorm(Module):
    _rank = 0

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float = 0.1, affine: bool = False,
                 track_running_stats: bool = False) -> None:
        super().__init__()
        name = type(self).__name__
        if track_running_stats:
            raise ValueError(f"{name}: argument `track_running_stats` expected False (running estimates are not kept), got True")
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.weight = init.ones_(empty_parameter((num_features,))) if affine else None
        self.bias = init.zeros_(empty_parameter((num_features,))) if affine else None

    def forward(self, x: Tensor) -> Tensor:
        unbatched = x.ndim == self._rank - 1
        if x.ndim not in (self._rank, self._rank - 1) or x.shape[0 if unbatched else 1] != self.num_features:
            raise ValueError(f"{type(self).__name__}: expected an input of rank {self._rank} (or {self._rank - 1} "
                             f"unbatched) with {self.num_features} channels, got {list(x.shape)}")
        if unbatched:
            return F.instance_norm(x.unsqueeze(0), self.weight, self.bias, self.eps).squeeze(0)
        return F.instance_norm(x, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return f"{self.num_features}, eps={self.eps}, affine={self.weight is not None}"


class InstanceNorm1d(_InstanceNorm):
    """Instance normalisation of [N, C, L] (or unbatched [C, L]) inputs: each channel of each
    sample over its positions."""

    _rank = 3


class InstanceNorm2d(_InstanceNorm):
    """Instance normalisation of [N, C, H, W] (or unbatched [C, H, W]) inputs: each channel of each
    sample over its pixels."""

    _rank = 4


class InstanceNorm3d(_InstanceNorm):
    """Instance normalisation of [N, C, D, H, W] (or unbatched [C, D, H, W]) inputs: each channel of
    each sample over its voxels."""

    _rank = 5
