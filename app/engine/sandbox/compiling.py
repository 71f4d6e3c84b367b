"""Compiling sandboxed code once per distinct source text, with messages a designer can act on."""

from __future__ import annotations

import functools
import re
from types import CodeType
from typing import Literal, NamedTuple

from RestrictedPython.compile import compile_restricted_eval, compile_restricted_exec

from app.engine.sandbox.policy import _SandboxPolicy

Mode = Literal["eval", "exec"]

CACHE_SIZE = 1024  # compiled scripts kept, shared by every environment

FILENAME = "<string>"  # SpiffWorkflow finds the failing line by this frame name


class _Compiled(NamedTuple):
    code: CodeType | None
    problems: tuple[str, ...]
    lineno: int | None


_LINE = re.compile(r"^Line (\d+|None): (.*)$", re.DOTALL)
_REWRITES: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r'^"([^"]+)" is an invalid attribute name because it starts with "_"\.?$'),
     r'access to the private attribute "\1" is not allowed '
     r'(names starting with "_" are off limits)'),
    (re.compile(r'^"([^"]+)" is an invalid variable name because it starts with "_"\.?$'),
     r'the name "\1" is not allowed (names starting with "_" are reserved)'),
    (re.compile(r'^"([^"]+)" is an invalid (?:attribute|variable) name because it ends '
                r'with "__roles__"\.?$'),
     r'the name "\1" is not allowed'),
    (re.compile(r'^"([^"]+)" is a restricted name, that is forbidden to access in '
                r'RestrictedPython\.?$'),
     r'access to the attribute "\1" is not allowed'),
    (re.compile(r'^"([^"]+)" is a reserved name\.?$'), r'the name "\1" is reserved'),
    (re.compile(r"^Eval calls are not allowed\.?$"), "eval() is not allowed"),
    (re.compile(r"^Exec calls are not allowed\.?$"), "exec() is not allowed"),
    (re.compile(r"^(\w+)Error: (.*) at statement: (.*)$", re.DOTALL), r"syntax error: \2 in \3"),
    (re.compile(r"^(\w+)Error: (.*)$", re.DOTALL), r"syntax error: \2"),
]


def _describe(problem: str) -> tuple[str, int | None]:
    """Turn one RestrictedPython error into "what is wrong (line N)" and its line."""
    lineno: int | None = None
    text = problem.strip()
    match = _LINE.match(text)
    if match:
        lineno = int(match.group(1)) if match.group(1).isdigit() else None
        text = match.group(2).strip()
    for pattern, replacement in _REWRITES:
        if pattern.match(text):
            text = pattern.sub(replacement, text)
            break
    else:
        text = text.rstrip(".")
        if len(text) > 1 and text[0].isupper() and text[1].islower():
            text = text[0].lower() + text[1:]
    return (f"{text} (line {lineno})" if lineno is not None else text), lineno


@functools.lru_cache(maxsize=CACHE_SIZE)
def _compile(source: str, mode: Mode) -> _Compiled:
    """Compile once per distinct source text; lru_cache is bounded and thread-safe."""
    compiler = compile_restricted_eval if mode == "eval" else compile_restricted_exec
    try:
        result = compiler(source, filename=FILENAME, policy=_SandboxPolicy)
    except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
        return _Compiled(None, (f"could not be compiled: {exc}",), None)
    if result.errors or result.code is None:
        described = [_describe(problem) for problem in result.errors] or [
            ("could not be compiled", None)]
        problems = tuple(dict.fromkeys(text for text, _ in described))
        first_line = next((line for _, line in described if line is not None), None)
        return _Compiled(None, problems, first_line)
    return _Compiled(result.code, (), None)


def _compiled(source: str, mode: Mode) -> _Compiled:
    if not isinstance(source, str):
        raise TypeError(f"{_label(mode)} must be text, not {type(source).__name__}")
    return _compile(source, mode)


def _label(mode: Mode) -> str:
    return "Expression" if mode == "eval" else "Script"


def check_expression(text: str, mode: Mode) -> list[str]:
    """Problems that stop `text` from running in the sandbox, without running anything.

    `mode` is "eval" for conditions and DMN expressions, "exec" for script tasks. An empty list
    means the code compiles; it can still fail when run (a missing name, a time limit).
    """
    if mode not in ("eval", "exec"):
        raise ValueError(f"mode must be 'eval' or 'exec', not {mode!r}")
    return list(_compiled(text, mode).problems)
