"""Containers: Sequential, ModuleList and ModuleDict."""

from __future__ import annotations

from collections import OrderedDict
from typing import Any, Iterable, Iterator, Mapping, Optional, overload

from .. import _core
from .activation import ReLU
from .module import Module
from .pooling import MaxPool2d


class Sequential(Module):
    """Applies its children in order. Children are named "0", "1", ... or by an OrderedDict."""

    def __init__(self, *modules: Module | "OrderedDict[str, Module]") -> None:
        super().__init__()
        first = modules[0] if modules else None
        if len(modules) == 1 and isinstance(first, OrderedDict):
            for name, child in first.items():
                self._add(name, child)
        else:
            for i, m in enumerate(modules):
                self._add(str(i), m)

    def _add(self, name: str, m: Any) -> None:
        if not isinstance(m, Module):
            raise TypeError(f"Sequential: child {name} must be a Module, got {type(m).__name__}")
        setattr(self, name, m)

    def append(self, m: Module) -> "Sequential":
        """Adds ``m`` as the last layer; returns the container."""
        self._add(str(len(self._modules)), m)
        return self

    def _index(self, idx: Any, where: str) -> int:
        if isinstance(idx, bool) or not isinstance(idx, int):
            raise TypeError(f"Sequential.{where}: argument `idx` expected an int, got {type(idx).__name__}")
        n = len(self._modules)
        if not -n <= idx < n:
            raise IndexError(f"Sequential.{where}: argument `idx` expected an index in [{-n}, {n}), got {idx}")
        return idx % n

    def _reset_children(self, children: list[tuple[str, Module]]) -> None:
        """Replaces every child by ``children`` in that order (names and attributes)."""
        for name in list(self._modules):
            self.__dict__.pop(name, None)
        self._modules.clear()
        for name, m in children:
            self._modules[name] = m
            object.__setattr__(self, name, m)

    def __setitem__(self, idx: int, m: Module) -> None:
        """``model[idx] = m`` replaces the layer at ``idx`` in place, keeping its name."""
        i = self._index(idx, "__setitem__")
        if not isinstance(m, Module):
            raise TypeError(f"Sequential.__setitem__: argument `value` expected a Module, got {type(m).__name__}")
        children = list(self._modules.items())
        children[i] = (children[i][0], m)
        self._reset_children(children)

    def __delitem__(self, idx: int | slice) -> None:
        """``del model[idx]`` (or a slice) removes layers; as in PyTorch the remaining layers
        are renumbered "0", "1", ... when the children were numbered."""
        children = list(self._modules.items())
        if isinstance(idx, slice):
            del children[idx]
        else:
            del children[self._index(idx, "__delitem__")]
        if all(name.isdigit() for name, _ in children):
            children = [(str(j), m) for j, (_, m) in enumerate(children)]
        self._reset_children(children)

    def insert(self, index: int, m: Module) -> "Sequential":
        """Inserts ``m`` before position ``index`` (``-len <= index <= len``); the layers are
        renumbered "0", "1", ...; returns the container."""
        if isinstance(index, bool) or not isinstance(index, int):
            raise TypeError(f"Sequential.insert: argument `index` expected an int, got {type(index).__name__}")
        if not isinstance(m, Module):
            raise TypeError(f"Sequential.insert: argument `module` expected a Module, got {type(m).__name__}")
        n = len(self._modules)
        if not -n <= index <= n:
            raise IndexError(f"Sequential.insert: argument `index` expected an index in [{-n}, {n}], got {index}")
        mods = list(self._modules.values())
        mods.insert(index, m)
        self._reset_children([(str(j), mod) for j, mod in enumerate(mods)])
        return self

    def extend(self, modules: Iterable[Module]) -> "Sequential":
        """Appends every module of ``modules`` (a Sequential or any iterable); returns the container."""
        for m in modules:
            self.append(m)
        return self

    def forward(self, x: Any) -> Any:
        """Applies the children in order. A layer followed by a ``ReLU`` runs as one fused op
        where the layer has one (``Conv2d``, ``Linear``): same values, one pass fewer over the
        output. A ``Conv2d`` followed by a ``ReLU`` and a ``MaxPool2d`` runs as one op too, which
        never stores the convolution's full-size output."""
        mods = list(self._modules.values())
        # Fusing would skip the hooks of the fused layers.
        fusable = not any(m._has_hooks() for m in mods)
        i = 0
        while i < len(mods):
            if fusable and i + 1 < len(mods) and type(mods[i + 1]) is ReLU:
                if i + 2 < len(mods) and type(mods[i + 2]) is MaxPool2d:
                    fused = mods[i]._forward_relu_max_pool(x, mods[i + 2])
                    if fused is not None:
                        x, i = fused, i + 3
                        continue
                fused = mods[i]._forward_relu(x)
                if fused is not None:
                    x, i = fused, i + 2
                    continue
            x, i = mods[i](x), i + 1
        return x

    def _has_parametrizations(self) -> bool:
        from .utils.parametrize import is_parametrized

        return is_parametrized(self)

    def _to_layer(self) -> _core.Layer:
        return _core.Layer.sequential([(name, m._loop_layer()) for name, m in self._modules.items()])

    @overload
    def __getitem__(self, i: int) -> Module: ...
    @overload
    def __getitem__(self, i: slice) -> "Sequential": ...

    def __getitem__(self, i: int | slice) -> Module | "Sequential":
        mods = list(self._modules.values())
        if isinstance(i, slice):
            return Sequential(*mods[i])
        return mods[i]

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules.values())


class ModuleList(Module):
    """A list of modules whose parameters are registered ("0", "1", ...)."""

    def __init__(self, modules: Iterable[Module] = ()) -> None:
        super().__init__()
        for m in modules:
            self.append(m)

    def append(self, m: Module) -> "ModuleList":
        """Adds ``m`` at the end; returns the list."""
        setattr(self, str(len(self._modules)), m)
        return self

    def __getitem__(self, i: int) -> Module:
        return list(self._modules.values())[i]

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules.values())


class ModuleDict(Module):
    """A dict of modules whose parameters are registered under their keys (state-dict names
    ``key.weight``), in insertion order."""

    def __init__(self, modules: Optional[Mapping[str, Module]] = None) -> None:
        super().__init__()
        for key, m in (modules or {}).items():
            self[key] = m

    def __getitem__(self, key: str) -> Module:
        return self._modules[key]

    def __setitem__(self, key: str, m: Module) -> None:
        if not isinstance(key, str) or not key or "." in key:
            raise KeyError(f"ModuleDict: keys must be non-empty strings without '.', got {key!r}")
        if not isinstance(m, Module):
            raise TypeError(f"ModuleDict: values must be Modules, got {type(m).__name__} for key {key!r}")
        setattr(self, key, m)

    def __delitem__(self, key: str) -> None:
        del self._modules[key]

    def __contains__(self, key: object) -> bool:
        return key in self._modules

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[str]:
        return iter(self._modules)

    def keys(self) -> Iterable[str]:
        """The keys, in insertion order."""
        return self._modules.keys()

    def values(self) -> Iterable[Module]:
        """The modules, in insertion order."""
        return self._modules.values()

    def items(self) -> Iterable[tuple[str, Module]]:
        """``(key, module)`` pairs, in insertion order."""
        return self._modules.items()
