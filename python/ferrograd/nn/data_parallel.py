"""``nn.DataParallel`` on one device: ferrograd runs a model on one device (the CPU's thread pool
or one GPU), so the wrapper forwards to ``module`` unchanged, keeping PyTorch's ``module.``
prefix in state dicts so checkpoints move between the two."""

from __future__ import annotations

from typing import Any, Optional, Sequence

from .module import Module


class DataParallel(Module):
    """Wraps ``module``; ``forward`` calls it. ``device_ids`` may name at most one device, since
    batches are not split across devices here."""

    def __init__(self, module: Module, device_ids: Optional[Sequence[Any]] = None, output_device: Any = None,
                 dim: int = 0) -> None:
        super().__init__()
        if device_ids is not None and len(device_ids) > 1:
            raise ValueError(f"DataParallel: argument `device_ids` expected at most one device (batches are not "
                             f"split across devices), got {list(device_ids)}")
        self.module = module
        self.device_ids = list(device_ids) if device_ids is not None else []
        self.output_device, self.dim = output_device, dim

    def forward(self, *inputs: Any, **kwargs: Any) -> Any:
        return self.module(*inputs, **kwargs)
