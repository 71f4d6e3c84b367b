"""What running sandboxed code can reach: the attribute, item and write guards, the builtins
(dangerous ones replaced by stubs that say why) and the names compiled code calls (`_RUNTIME`).
"""

from __future__ import annotations

import _string  # type: ignore[import-not-found]  # the parser behind str.format
import functools
import string
from collections.abc import Callable, Iterable, Iterator, Mapping
from types import ModuleType
from typing import Any

from RestrictedPython.Guards import (
    guarded_iter_unpack_sequence,
    guarded_unpack_sequence,
    safe_builtins,
)
from RestrictedPython.PrintCollector import PrintCollector
from RestrictedPython.transformer import INSPECT_ATTRIBUTES

from app.engine.sandbox.errors import ScriptNotAllowed
from app.engine.sandbox.limits import _STATE, _monotonic, _tick, _wake
from app.engine.sandbox.sizes import (
    _TEXT_METHODS,
    _add,
    _check_format_spec,
    _format,
    _inplacevar,
    _lshift,
    _mod,
    _mul,
    _pow,
    _range,
    _round,
    _sum,
    _to_bytes,
    _translate,
)

_MISSING: Any = object()


def _private(name: str) -> ScriptNotAllowed:
    return ScriptNotAllowed(
        f'access to the private attribute "{name}" is not allowed '
        '(names starting with "_" are off limits)')


def _guarded_getattr(obj: Any, name: str, default: Any = _MISSING) -> Any:
    """`_getattr_`: every `obj.name` in sandboxed code, and the `getattr` builtin."""
    if type(name) is not str:
        raise TypeError("attribute name must be a string")
    now = _monotonic()  # a method call (`l.extend(l)`) may have grown the run: check
    if now > _STATE.wake:
        _wake(now)
    if name.startswith("_"):
        raise _private(name)
    if name in INSPECT_ATTRIBUTES:
        raise ScriptNotAllowed(f'access to the attribute "{name}" is not allowed')
    if isinstance(obj, str | bytes) or obj is str or obj is bytes:
        guard = _TEXT_METHODS.get(name)
        if guard is None and (isinstance(obj, str) or obj is str):
            guard = _STR_METHODS.get(name)
        if guard is not None:
            return guard if isinstance(obj, type) else functools.partial(guard, obj)
    if name == "to_bytes" and obj is int:
        return _to_bytes
    if name == "to_bytes" and isinstance(obj, int):
        return functools.partial(_to_bytes, obj)
    value = getattr(obj, name) if default is _MISSING else getattr(obj, name, default)
    if isinstance(value, ModuleType):
        raise ScriptNotAllowed(f'"{name}" is a module; modules cannot be used in process scripts')
    return value


def _guarded_hasattr(obj: Any, name: str) -> bool:
    try:
        _guarded_getattr(obj, name)
    except AttributeError:
        return False
    return True


def _getitem(obj: Any, key: Any) -> Any:
    return obj[key]


def _write_guard(obj: Any) -> Any:
    """`_write_`: item/attribute assignment and `del` only on plain dicts and lists."""
    if type(obj) is dict or type(obj) is list:
        return obj
    raise ScriptNotAllowed(
        f"changing a {type(obj).__name__} object is not allowed "
        "(only dicts and lists can be changed in place)")


def _apply(function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    return function(*args, **kwargs)


class _SafeFormatter(string.Formatter):
    """`str.format` whose fields go through the sandbox's attribute guard and width check."""

    def get_field(self, field_name: str, args: Any, kwargs: Any) -> tuple[Any, Any]:
        first, rest = _string.formatter_field_name_split(field_name)
        obj = self.get_value(first, args, kwargs)
        for is_attribute, key in rest:
            obj = _guarded_getattr(obj, key) if is_attribute else obj[key]
        return obj, first

    def format_field(self, value: Any, format_spec: str) -> Any:
        _check_format_spec(format_spec)
        return format(value, format_spec)


_FORMATTER = _SafeFormatter()


def _str_format(template: str, *args: Any, **kwargs: Any) -> str:
    if not isinstance(template, str):
        raise TypeError("format() needs a str template")
    return _FORMATTER.vformat(template, args, kwargs)


def _str_format_map(template: str, mapping: Mapping[str, Any]) -> str:
    if not isinstance(template, str):
        raise TypeError("format_map() needs a str template")
    return _FORMATTER.vformat(template, (), mapping)


_STR_METHODS: dict[str, Callable[..., Any]] = {
    "format": _str_format,
    "format_map": _str_format_map,
    "translate": _translate,
}


class _DiscardPrint:
    """`print` in an expression (scripts get RestrictedPython's PrintCollector)."""

    def _call_print(self, *args: Any, **kwargs: Any) -> None:
        return None

    def __call__(self) -> str:
        return ""


def _map(function: Callable[..., Any], *iterables: Iterable[Any]) -> Iterator[Any]:
    for item in map(function, *iterables):
        _tick()
        yield item


def _filter(function: Callable[[Any], Any] | None, iterable: Iterable[Any]) -> Iterator[Any]:
    for item in filter(function, iterable):
        _tick()
        yield item


class _DataView(Mapping[str, Any]):
    """What `globals()` returns in the sandbox: the process data, read-only, without the
    sandbox's own `_`-prefixed names. Kept because DMN tables use
    `globals().get("name", default)` for optional inputs."""

    __slots__ = ("_data",)

    def __init__(self, data: Mapping[str, Any]) -> None:
        self._data = data

    def __getitem__(self, key: str) -> Any:
        if not isinstance(key, str) or key.startswith("_"):
            raise KeyError(key)
        return self._data[key]

    def __iter__(self) -> Iterator[str]:
        return (k for k in list(self._data) if isinstance(k, str) and not k.startswith("_"))

    def __len__(self) -> int:
        return sum(1 for _ in self)

    def __repr__(self) -> str:
        return repr(dict(self))


def _globals() -> _DataView:
    return _DataView(_STATE.globals or {})


class _Forbidden:
    """Stands in for a builtin the sandbox does not offer, to fail with a clear message."""

    __slots__ = ("_message",)

    def __init__(self, name: str, hint: str = "") -> None:
        self._message = f"{name}() is not allowed in process scripts" + (
            f"; {hint}" if hint else "")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        raise ScriptNotAllowed(self._message)

    def __repr__(self) -> str:
        return "<not allowed>"


_FORBIDDEN_BUILTINS = {
    "__import__": "imports are not allowed",
    "open": "files cannot be read or written",
    "eval": "",
    "exec": "",
    "compile": "",
    "locals": "",
    "vars": "",
    "dir": "",
    "input": "",
    "breakpoint": "",
    "help": "",
    "exit": "",
    "quit": "",
    "type": "use isinstance() to check a type",
    "object": "",
    "super": "",
    "memoryview": "",
    "classmethod": "",
    "staticmethod": "",
    "property": "",
    "setattr": "assign to dict keys instead",
    "delattr": "",
    "iter": "",
}

_UNSAFE_SAFE_BUILTINS = {
    "__build_class__",  # classes are refused by the policy anyway
    "_getattr_",  # the sandbox sets its own guard
    "setattr",
    "delattr",
    "pow",
    "range",
    "round",
    "BaseException",  # catching these could swallow the time limit signal
    "SystemExit",
    "KeyboardInterrupt",
    "GeneratorExit",
}

SAFE_BUILTINS: dict[str, Any] = {
    name: value for name, value in safe_builtins.items() if name not in _UNSAFE_SAFE_BUILTINS
}
SAFE_BUILTINS.update({
    "len": len, "min": min, "max": max, "sum": _sum, "sorted": sorted, "any": any, "all": all,
    "abs": abs, "round": _round, "next": next, "enumerate": enumerate, "zip": zip,
    "reversed": reversed,
    "list": list, "dict": dict, "set": set, "frozenset": frozenset, "tuple": tuple,
    "str": str, "int": int, "float": float, "bool": bool, "isinstance": isinstance,
    "map": _map, "filter": _filter, "range": _range, "pow": _pow, "format": _format,
    "getattr": _guarded_getattr, "hasattr": _guarded_hasattr, "globals": _globals,
})
SAFE_BUILTINS.update({name: _Forbidden(name, hint)
                      for name, hint in _FORBIDDEN_BUILTINS.items()})

# Names compiled code relies on; set last in every run so process data cannot shadow them.
_RUNTIME: dict[str, Any] = {
    "__builtins__": SAFE_BUILTINS,
    "_getattr_": _guarded_getattr,
    "_getitem_": _getitem,
    "_getiter_": iter,
    "_write_": _write_guard,
    "_iter_unpack_sequence_": guarded_iter_unpack_sequence,
    "_unpack_sequence_": guarded_unpack_sequence,
    "_inplacevar_": _inplacevar,
    "_apply_": _apply,
    "_print_": PrintCollector,
    "_print": _DiscardPrint(),
    "_tick_": _tick,
    "_add_": _add,
    "_mul_": _mul,
    "_pow_": _pow,
    "_lshift_": _lshift,
    "_mod_": _mod,
    "_format_": _format,
}
