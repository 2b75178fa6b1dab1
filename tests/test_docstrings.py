"""Every public function, class, method and property of the package has a docstring, so `help()`
and Jupyter's `?` explain it (including the methods and properties written in Rust)."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from typing import Any

import ferrograd


def public_modules() -> list[str]:
    found = [m.name for m in pkgutil.walk_packages(ferrograd.__path__, "ferrograd.")]
    return ["ferrograd"] + [m for m in found if "._" not in m and not m.endswith("__main__")]


def member_doc(cls: type, name: str, value: Any) -> str | None:
    """The member's docstring, or the one it inherits from a base class."""
    target = value.fget if isinstance(value, property) else getattr(value, "__func__", value)
    doc = target.__doc__ if isinstance(value, property) or inspect.isgetsetdescriptor(value) else inspect.getdoc(target)
    if doc:
        return doc
    return next((inspect.getdoc(getattr(base, name)) for base in cls.__mro__[1:]
                 if hasattr(base, name) and inspect.getdoc(getattr(base, name))), None)


def undocumented() -> list[str]:
    missing: list[str] = []
    seen: set[int] = set()
    for module_name in public_modules():
        module = importlib.import_module(module_name)
        for name in getattr(module, "__all__", [n for n in vars(module) if not n.startswith("_")]):
            obj = getattr(module, name, None)
            if obj is None or id(obj) in seen or not callable(obj):
                continue
            if not str(getattr(obj, "__module__", "")).startswith("ferrograd"):
                continue
            seen.add(id(obj))
            qualified = f"{module_name}.{name}"
            if not inspect.getdoc(obj):
                missing.append(qualified)
            if not inspect.isclass(obj):
                continue
            for member, value in vars(obj).items():
                if member.startswith("_"):
                    continue
                documentable = (callable(value) or isinstance(value, (property, staticmethod, classmethod))
                                or inspect.isgetsetdescriptor(value))
                if documentable and not member_doc(obj, member, value):
                    missing.append(f"{qualified}.{member}")
    return missing


def test_every_public_name_has_a_docstring() -> None:
    assert undocumented() == []


def test_the_check_sees_rust_methods_and_properties() -> None:
    assert "ferrograd.Tensor" in [f"{m}.{n}" for m in public_modules() for n in getattr(importlib.import_module(m), "__all__", [])]
    assert inspect.getdoc(ferrograd.Tensor.sum) and ferrograd.Tensor.shape.__doc__
