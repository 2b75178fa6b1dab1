"""``ferrograd.backends.cuda``: ``matmul.allow_tf32``, as ``torch.backends.cuda``.

Unlike the cuDNN switches, this one acts: it is :func:`ferrograd.cuda.set_allow_tf32`.
"""

from __future__ import annotations

from .. import cuda as _cuda

__all__ = ["matmul"]


class _MatmulSettings:
    """``backends.cuda.matmul``: the switch for float32 matrix products on CUDA."""

    @property
    def allow_tf32(self) -> bool:
        """Whether cuBLAS may round the inputs of float32 matrix products on a CUDA device (``@``,
        ``matmul``, ``bmm`` and the layers built on them) to TF32 on tensor cores: faster, with
        about 1e-3 relative error. Default False, as in PyTorch. Setting it calls
        :func:`ferrograd.cuda.set_allow_tf32`, and reading it gives the value last set through
        either; CPU products and convolutions are unaffected."""
        return _cuda._allow_tf32

    @allow_tf32.setter
    def allow_tf32(self, value: bool) -> None:
        if not isinstance(value, bool):
            raise TypeError(f"backends.cuda.matmul.allow_tf32: expected a bool, got {value!r} "
                            f"({type(value).__name__})")
        _cuda.set_allow_tf32(value)

    def __repr__(self) -> str:
        return f"ferrograd.backends.cuda.matmul(allow_tf32={self.allow_tf32})"


matmul = _MatmulSettings()
