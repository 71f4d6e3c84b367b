"""How environment globals are offered to process code: modules as read-only namespaces of
their public classes and functions, trusted Python functions made interruptible.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from types import FunctionType, MethodType, ModuleType
from typing import Any

from app.engine.sandbox.limits import _interruptible


class Namespace:
    """A read-only bag of names, e.g. the `datetime` classes without the `datetime` module.

    Modules are never exposed to process code: `datetime.sys` would lead straight to
    `sys.modules`. Use `module_namespace` to offer a module's classes and functions.
    """

    __slots__ = ("_name", "_values")

    def __init__(self, name: str, values: Mapping[str, Any]) -> None:
        clean = {key: _expose(value) for key, value in values.items()
                 if not key.startswith("_") and not isinstance(value, ModuleType)}
        object.__setattr__(self, "_name", name)
        object.__setattr__(self, "_values", clean)

    def __getattr__(self, name: str) -> Any:
        try:
            return self._values[name]
        except KeyError:
            raise AttributeError(f"{self._name} has no attribute {name!r}") from None

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"{self._name} is read-only")

    def __dir__(self) -> list[str]:
        return sorted(self._values)

    def __repr__(self) -> str:
        return f"<namespace {self._name}>"


def module_namespace(module: ModuleType, names: Iterable[str] | None = None) -> Namespace:
    """The public, non-module attributes of `module` (or only `names`) as a `Namespace`."""
    wanted = list(names) if names is not None else [n for n in dir(module) if n[:1] != "_"]
    values = {name: getattr(module, name) for name in wanted
              if type(getattr(module, name)).__name__ != "PyCapsule"}
    return Namespace(module.__name__, values)


def _expose(value: Any) -> Any:
    """How an environment global is offered: modules as namespaces, Python functions and
    bound methods made interruptible, everything else as is."""
    if isinstance(value, ModuleType):
        return module_namespace(value)
    if isinstance(value, FunctionType) or (
            isinstance(value, MethodType) and isinstance(value.__func__, FunctionType)):
        return _interruptible(value)
    return value
