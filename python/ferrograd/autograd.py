"""Grad-mode scopes and gradients with respect to chosen inputs."""

from __future__ import annotations

from typing import Sequence

from . import _core
from ._core import Tensor
from ._scope import ThreadScope


class set_grad_enabled(ThreadScope[bool]):
    """Context manager (and decorator) that turns tape recording on or off on this thread."""

    def __init__(self, mode: bool) -> None:
        super().__init__(mode)
        self.mode = mode

    @staticmethod
    def _swap(value: bool) -> bool:
        return _core.set_grad_enabled(value)


class no_grad(set_grad_enabled):
    """Disables gradient recording inside a ``with`` block (or a decorated function)."""

    def __init__(self) -> None:
        super().__init__(False)


class enable_grad(set_grad_enabled):
    """Re-enables gradient recording inside a ``no_grad`` block."""

    def __init__(self) -> None:
        super().__init__(True)


def is_grad_enabled() -> bool:
    """Whether ops currently record the autograd tape on this thread."""
    return _core.is_grad_enabled()


def grad(output: Tensor, inputs: Sequence[Tensor] | Tensor) -> list[Tensor | None]:
    """Gradients of a one-element ``output`` with respect to ``inputs``.

    Unlike ``output.backward()``, no ``.grad`` field is written, so model parameters keep their
    gradients: this is what attacks and saliency maps use to get input gradients.
    """
    if isinstance(inputs, Tensor):
        inputs = [inputs]
    return _core.grad(output, list(inputs))
