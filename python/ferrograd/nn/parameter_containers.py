"""ParameterList and ParameterDict: parameters held in a list or a dict, registered under their
positions ("0", "1", ...) or keys, as PyTorch's containers register them."""

from __future__ import annotations

from typing import Any, Iterable, Iterator, Mapping, Optional, Union, overload

from .._core import Tensor
from .module import Module, Parameter


def _as_parameter(value: Any, where: str) -> Tensor:
    """``value`` as a trainable leaf (a tensor that is one already stays itself)."""
    if not isinstance(value, Tensor):
        raise TypeError(f"{where}: expected a Tensor, got {type(value).__name__}")
    return value if isinstance(value, Parameter) else Parameter(value)


class ParameterList(Module):
    """A list of parameters, registered as "0", "1", ... (state-dict names ``name.0``, ...).
    Tensors put in become parameters (leaves that require grad)."""

    def __init__(self, values: Optional[Iterable[Tensor]] = None) -> None:
        super().__init__()
        for v in values or ():
            self.append(v)

    def append(self, value: Tensor) -> "ParameterList":
        """Adds ``value`` at the end; returns the list."""
        setattr(self, str(len(self)), _as_parameter(value, "ParameterList.append"))
        return self

    def extend(self, values: Iterable[Tensor]) -> "ParameterList":
        """Appends every tensor of ``values``; returns the list."""
        for v in values:
            self.append(v)
        return self

    def _position(self, idx: int, where: str) -> int:
        if isinstance(idx, bool) or not isinstance(idx, int):
            raise TypeError(f"ParameterList.{where}: expected an int index, got {type(idx).__name__}")
        n = len(self)
        if not -n <= idx < n:
            raise IndexError(f"ParameterList.{where}: index {idx} out of range for {n} parameters")
        return idx % n

    @overload
    def __getitem__(self, idx: int) -> Tensor: ...

    @overload
    def __getitem__(self, idx: slice) -> "ParameterList": ...

    def __getitem__(self, idx: Union[int, slice]) -> Union[Tensor, "ParameterList"]:
        if isinstance(idx, slice):
            return ParameterList(list(self._parameters.values())[idx])
        return self._parameters[str(self._position(idx, "__getitem__"))]

    def __setitem__(self, idx: int, value: Tensor) -> None:
        setattr(self, str(self._position(idx, "__setitem__")), _as_parameter(value, "ParameterList.__setitem__"))

    def __len__(self) -> int:
        return len(self._parameters)

    def __iter__(self) -> Iterator[Tensor]:
        return iter(list(self._parameters.values()))

    def extra_repr(self) -> str:
        return "\n".join(f"({i}): Parameter containing: [{p.dtype} of size {tuple(p.shape)}]"
                         for i, p in enumerate(self))


class ParameterDict(Module):
    """A dict of parameters registered under their keys, in insertion order. Tensors put in
    become parameters (leaves that require grad)."""

    def __init__(self, parameters: Optional[Mapping[str, Tensor] | Iterable[tuple[str, Tensor]]] = None) -> None:
        super().__init__()
        if parameters is not None:
            self.update(parameters)

    def __getitem__(self, key: str) -> Tensor:
        return self._parameters[key]

    def __setitem__(self, key: str, value: Tensor) -> None:
        if not isinstance(key, str) or not key or "." in key:
            raise KeyError(f"ParameterDict: keys must be non-empty strings without '.', got {key!r}")
        setattr(self, key, _as_parameter(value, f"ParameterDict[{key!r}]"))

    def __delitem__(self, key: str) -> None:
        del self._parameters[key]
        object.__delattr__(self, key)

    def __contains__(self, key: object) -> bool:
        return key in self._parameters

    def __len__(self) -> int:
        return len(self._parameters)

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._parameters))

    def keys(self) -> Iterable[str]:
        """The keys, in insertion order."""
        return self._parameters.keys()

    def values(self) -> Iterable[Tensor]:
        """The parameters, in insertion order."""
        return self._parameters.values()

    def items(self) -> Iterable[tuple[str, Tensor]]:
        """``(key, parameter)`` pairs, in insertion order."""
        return self._parameters.items()

    def update(self, parameters: Mapping[str, Tensor] | Iterable[tuple[str, Tensor]]) -> None:
        """Adds or replaces the entries of a mapping or of ``(key, tensor)`` pairs."""
        pairs = parameters.items() if isinstance(parameters, Mapping) else parameters
        for key, value in pairs:
            self[key] = value

    def pop(self, key: str) -> Tensor:
        """Removes ``key`` and returns its parameter."""
        value = self[key]
        del self[key]
        return value

    def extra_repr(self) -> str:
        return "\n".join(f"({k}): Parameter containing: [{p.dtype} of size {tuple(p.shape)}]" for k, p in self.items())
