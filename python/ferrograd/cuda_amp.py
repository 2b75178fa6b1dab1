"""``ferrograd.cuda.amp``: PyTorch's older spellings ``torch.cuda.amp.autocast`` and
``torch.cuda.amp.GradScaler``, for CUDA training code that still uses them."""

from __future__ import annotations

from typing import Optional

from . import amp, dtypes

__all__ = ["autocast", "GradScaler"]


class autocast(amp.autocast):
    """:class:`ferrograd.amp.autocast` for ``device_type="cuda"``, with the signature of
    ``torch.cuda.amp.autocast``. ``dtype`` defaults to bfloat16 (PyTorch's default here is
    float16, which ferrograd's autocast does not run)."""

    def __init__(self, enabled: bool = True, dtype: Optional[str] = dtypes.bfloat16,
                 cache_enabled: Optional[bool] = True) -> None:
        super().__init__("cuda", dtype, enabled, cache_enabled)


class GradScaler(amp.GradScaler):
    """:class:`ferrograd.amp.GradScaler` for ``device="cuda"``, with the signature of
    ``torch.cuda.amp.GradScaler``."""

    def __init__(self, init_scale: float = 2.0**16, growth_factor: float = 2.0, backoff_factor: float = 0.5,
                 growth_interval: int = 2000, enabled: bool = True) -> None:
        super().__init__("cuda", init_scale, growth_factor, backoff_factor, growth_interval, enabled)
