"""The base of scopes that set a piece of the engine's per-thread state (grad mode, autocast)."""

from __future__ import annotations

import copy
import functools
from typing import Any, Callable, Generic, TypeVar

F = TypeVar("F", bound=Callable[..., Any])
V = TypeVar("V")


class ThreadScope(Generic[V]):
    """Context manager (and decorator) that sets one thread-local engine setting to ``value`` on
    entry and restores the previous value on exit; scopes nest. Subclasses say how to set it."""

    def __init__(self, value: V) -> None:
        self.value = value
        self._previous: list[V] = []

    @staticmethod
    def _swap(value: V) -> V:
        """Sets the setting to ``value``; returns the previous value."""
        raise NotImplementedError

    def __enter__(self) -> None:
        self._previous.append(self._swap(self.value))

    def __exit__(self, *exc: object) -> None:
        self._swap(self._previous.pop())

    def __call__(self, fn: F) -> F:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            scope = copy.copy(self)
            scope._previous = []
            with scope:
                return fn(*args, **kwargs)

        return wrapper  # type: ignore[return-value]
