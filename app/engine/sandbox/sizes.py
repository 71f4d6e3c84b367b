"""The sandbox's size guards: single operations that would build huge values from small inputs
(`'a' * 10**10`, `10**10**10`, `1 << 10**10`, `range(10**12)`, `'{:>9999999999}'`,
`s.replace('a', s)`, `x + x` on a million items) are refused before they run. Each guarded
operation also gives the memory guard a chance to stop a run that has grown past its limit.
"""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Callable, Iterable
from typing import Any

from app.engine import memory_guard
from app.engine.sandbox.errors import ScriptLimitExceeded, ScriptNotAllowed

MAX_SEQUENCE_LENGTH = 1_000_000  # items or characters one operation may produce
MAX_INT_BITS = 100_000  # about 30,000 decimal digits
MAX_FORMAT_WIDTH = 10_000  # widths and precisions in format specs


_SEQUENCES = (str, bytes, bytearray, list, tuple)


def _too_large(what: str, size: int | float, limit: int) -> ScriptLimitExceeded:
    shown = f"{size:,}" if isinstance(size, int) and size < 10**30 else "astronomically many"
    return ScriptLimitExceeded(f"{what} would be too large ({shown}; the limit is {limit:,})")


def _check_length(length: int | float, what: str = "the result") -> None:
    memory_guard.check()
    if length > MAX_SEQUENCE_LENGTH:
        raise _too_large(f"{what}", length, MAX_SEQUENCE_LENGTH)


def _check_int_bits(bits: int | float) -> None:
    if bits > MAX_INT_BITS:
        raise ScriptLimitExceeded(
            f"the number would be too large (about {int(bits * 0.30103):,} digits; "
            f"the limit is about {int(MAX_INT_BITS * 0.30103):,})")


def _check_mul(a: Any, b: Any) -> None:
    if isinstance(a, int) and isinstance(b, int):
        _check_int_bits(a.bit_length() + b.bit_length())
    elif isinstance(a, _SEQUENCES) and isinstance(b, int):
        _check_length(len(a) * b, "the repeated sequence")
    elif isinstance(b, _SEQUENCES) and isinstance(a, int):
        _check_length(len(b) * a, "the repeated sequence")


def _check_add(a: Any, b: Any) -> None:
    if isinstance(a, _SEQUENCES) and isinstance(b, _SEQUENCES):
        _check_length(len(a) + len(b), "the joined sequence")


def _check_pow(a: Any, b: Any) -> None:
    if isinstance(a, int) and isinstance(b, int) and b > 1 and abs(a) > 1:
        _check_int_bits(b * math.log2(abs(a)))


def _check_lshift(a: Any, b: Any) -> None:
    if isinstance(a, int) and isinstance(b, int) and a and b > 0:
        _check_int_bits(a.bit_length() + b)


_DIGITS = re.compile(r"\d+")


def _check_format_spec(spec: str) -> None:
    for digits in _DIGITS.findall(spec):
        if len(digits) > 5 or int(digits) > MAX_FORMAT_WIDTH:
            raise ScriptLimitExceeded(
                f"format width or precision {digits} is too large "
                f"(the limit is {MAX_FORMAT_WIDTH:,})")


_PERCENT_FIELD = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(\*|\d+)?(?:\.(\*|\d+))?")


def _check_percent_format(template: str | bytes) -> None:
    text = template.decode("latin-1") if isinstance(template, bytes) else template
    for match in _PERCENT_FIELD.finditer(text):
        for part in match.groups():
            if part == "*":
                raise ScriptNotAllowed("'*' widths in %-formatting are not allowed")
            if part is not None:
                _check_format_spec(part)


def _add(a: Any, b: Any) -> Any:
    if isinstance(a, _SEQUENCES) and isinstance(b, _SEQUENCES):
        _check_length(len(a) + len(b), "the joined sequence")
    return a + b


def _iadd(a: Any, b: Any) -> Any:
    _check_add(a, b)
    return operator.iadd(a, b)  # type: ignore[no-untyped-call]  # untyped in typeshed


def _mul(a: Any, b: Any) -> Any:
    _check_mul(a, b)
    return a * b


def _pow(a: Any, b: Any, mod: Any = None) -> Any:
    if mod is not None:
        return pow(a, b, mod)
    _check_pow(a, b)
    return a**b


def _lshift(a: Any, b: Any) -> Any:
    _check_lshift(a, b)
    return a << b


def _mod(a: Any, b: Any) -> Any:
    if isinstance(a, str | bytes):
        _check_percent_format(a)
    return a % b


def _imul(a: Any, b: Any) -> Any:
    _check_mul(a, b)
    return operator.imul(a, b)  # type: ignore[no-untyped-call]  # untyped in typeshed


def _ipow(a: Any, b: Any) -> Any:
    _check_pow(a, b)
    return operator.ipow(a, b)  # type: ignore[no-untyped-call]  # untyped in typeshed


def _ilshift(a: Any, b: Any) -> Any:
    _check_lshift(a, b)
    return operator.ilshift(a, b)  # type: ignore[no-untyped-call]  # untyped in typeshed


def _imod(a: Any, b: Any) -> Any:
    if isinstance(a, str | bytes):
        _check_percent_format(a)
    return operator.imod(a, b)  # type: ignore[no-untyped-call]  # untyped in typeshed


_INPLACE: dict[str, Callable[[Any, Any], Any]] = {
    "+=": _iadd,
    "-=": operator.isub,
    "*=": _imul,
    "/=": operator.itruediv,
    "//=": operator.ifloordiv,
    "%=": _imod,
    "**=": _ipow,
    "<<=": _ilshift,
    ">>=": operator.irshift,
    "|=": operator.ior,
    "^=": operator.ixor,
    "&=": operator.iand,
    "@=": operator.imatmul,
}


def _inplacevar(op: str, x: Any, y: Any) -> Any:
    try:
        function = _INPLACE[op]
    except KeyError:
        raise ScriptNotAllowed(f"the operator {op} is not allowed") from None
    return function(x, y)


def _format(value: Any, spec: str = "", conversion: int = -1) -> str:
    """`format()` and f-string fields with a format spec, with the width checked."""
    if conversion == ord("r"):
        value = repr(value)
    elif conversion == ord("s"):
        value = str(value)
    elif conversion == ord("a"):
        value = ascii(value)
    if not isinstance(spec, str):
        raise TypeError("format spec must be a str")
    _check_format_spec(spec)
    return format(value, spec)


def _padded(method: str) -> Callable[..., Any]:
    def guarded(text: Any, width: int, *args: Any) -> Any:
        if isinstance(width, int):
            _check_length(width, "the padded text")
        return getattr(text, method)(width, *args)
    guarded.__name__ = method
    return guarded


def _expandtabs(text: Any, tabsize: int = 8) -> Any:
    tab = "\t" if isinstance(text, str) else b"\t"
    if isinstance(tabsize, int):
        _check_length(len(text) + text.count(tab) * max(tabsize, 0), "the expanded text")
    return text.expandtabs(tabsize)


def _replace(text: Any, old: Any, new: Any, count: int = -1) -> Any:
    if isinstance(old, str | bytes) and isinstance(new, str | bytes) and len(new) > len(old):
        hits = text.count(old) if old else len(text) + 1
        if isinstance(count, int) and count >= 0:
            hits = min(hits, count)
        _check_length(len(text) + hits * (len(new) - len(old)), "the replaced text")
    return text.replace(old, new, count)


def _join(separator: Any, items: Iterable[Any]) -> Any:
    parts = list(items)
    total = len(separator) * max(len(parts) - 1, 0)
    total += sum(len(part) for part in parts if isinstance(part, str | bytes | bytearray))
    _check_length(total, "the joined text")
    return separator.join(parts)


def _translate(text: str, table: Any) -> str:
    if isinstance(table, dict):
        longest = max((len(v) for v in table.values() if isinstance(v, str)), default=1)
        _check_length(len(text) * longest, "the translated text")
    return text.translate(table)


def _to_bytes(number: int, length: int = 1, *args: Any, **kwargs: Any) -> bytes:
    if isinstance(length, int):
        _check_length(length, "the bytes")
    return number.to_bytes(length, *args, **kwargs)


_TEXT_METHODS: dict[str, Callable[..., Any]] = {
    "ljust": _padded("ljust"),
    "rjust": _padded("rjust"),
    "center": _padded("center"),
    "zfill": _padded("zfill"),
    "expandtabs": _expandtabs,
    "replace": _replace,
    "join": _join,
}


def _range(*args: int) -> range:
    result = range(*args)
    length: int | float
    try:
        length = len(result)
    except OverflowError:
        length = math.inf
    _check_length(length, "the range")
    return result


def _round(number: Any, ndigits: Any = None) -> Any:
    if isinstance(ndigits, int) and abs(ndigits) > 1000:
        raise ScriptLimitExceeded("round() with more than 1,000 digits is not allowed")
    return round(number, ndigits)


def _sum(iterable: Iterable[Any], /, start: Any = 0) -> Any:
    if isinstance(start, int | float | complex):
        return sum(iterable, start)
    items = list(iterable)  # adding up lists or tuples: check the length of the result first
    if isinstance(start, _SEQUENCES):
        _check_length(len(start) + sum(len(i) for i in items if isinstance(i, _SEQUENCES)),
                      "the sum")
    return sum(items, start)
