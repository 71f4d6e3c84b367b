"""A RestrictedPython sandbox for BPMN scripts, gateway conditions and DMN expressions.

SpiffWorkflow's `TaskDataEnvironment` runs process code with plain `eval`/`exec` and every
builtin, so an uploaded diagram could run anything on the server. `SandboxedEnvironment` keeps
its data semantics (what a script reads and what is written back to the task data) but:

* compiles with RestrictedPython under a stricter policy (`_SandboxPolicy`): no imports, no
  classes, no names or attributes starting with "_", every attribute read goes through a guard;
* runs with a small set of builtins; the dangerous ones are replaced by stubs that raise
  `ScriptNotAllowed` with a message a process designer can act on;
* bounds run time: the policy inserts a cheap deadline check (`_tick_()`) at the top of every
  loop body, every comprehension step and every function/lambda call, so code without loops
  or functions (almost every condition) pays nothing. This works in worker threads (no
  signals) and cannot be switched off by the script: a `sys.settrace` hook is removed by
  CPython as soon as it raises, after which an `except:` or `finally:` loop would run forever,
  while `_tick_()` keeps raising at every step. Trusted Python helpers offered as environment
  globals have no ticks, so they alone run under a deadline-checking `sys.settrace` hook;
* refuses single operations that would build huge values from small inputs (`'a' * 10**10`,
  `10**10**10`, `1 << 10**10`, `range(10**12)`, `'{:>9999999999}'`, `s.replace('a', s)`, ...;
  see `app.engine.sandbox_sizes`);
* bounds memory: the same ticks, every attribute read and every size-guarded operation let
  `app.engine.memory_guard` stop a run that has added more than its limit to the process
  (`x = x + x` in a loop, `l.extend(l)` line after line); what the run built is dropped and
  the memory handed back (`ScriptMemoryExceeded`).

Known limits: one call of a C builtin on large data (`sorted`, `sum`, `in` on a big list)
cannot be interrupted, and the memory ceiling reads the process's RSS, so it overshoots by up
to about one doubling and counts concurrent requests' allocations too. A hard per-script
ceiling needs a process-level limit (container memory limit, or scripts in a subprocess).
"""

from __future__ import annotations

import _string  # type: ignore[import-not-found]  # the parser behind str.format
import ast
import functools
import math
import re
import string
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterable, Iterator, Mapping
from types import CodeType, FrameType, FunctionType, MethodType, ModuleType
from typing import Any, Literal, NamedTuple

from RestrictedPython import compile_restricted_eval, compile_restricted_exec
from RestrictedPython.Guards import (
    guarded_iter_unpack_sequence,
    guarded_unpack_sequence,
    safe_builtins,
)
from RestrictedPython.PrintCollector import PrintCollector
from RestrictedPython.transformer import (
    INSPECT_ATTRIBUTES,
    IOPERATOR_TO_STR,
    RestrictingNodeTransformer,
    copy_locations,
)
from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.script_engine.python_environment import BasePythonScriptEngineEnvironment
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.task import Task

from app.engine import memory_guard
from app.engine.sandbox_errors import (
    SandboxError,
    ScriptLimitExceeded,
    ScriptMemoryExceeded,
    ScriptNotAllowed,
    ScriptTimeout,
)
from app.engine.sandbox_sizes import (
    _TEXT_METHODS,
    MAX_FORMAT_WIDTH,
    MAX_INT_BITS,
    MAX_SEQUENCE_LENGTH,
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

__all__ = [
    "DEFAULT_MEMORY_LIMIT",
    "DEFAULT_TIME_LIMIT",
    "MAX_FORMAT_WIDTH",
    "MAX_INT_BITS",
    "MAX_SEQUENCE_LENGTH",
    "SAFE_BUILTINS",
    "Mode",
    "Namespace",
    "SandboxError",
    "SandboxedEnvironment",
    "SandboxedScriptEngine",
    "ScriptLimitExceeded",
    "ScriptMemoryExceeded",
    "ScriptNotAllowed",
    "ScriptTimeout",
    "build_sandboxed_engine",
    "check_expression",
    "module_namespace",
]

Mode = Literal["eval", "exec"]

DEFAULT_TIME_LIMIT = 2.0
DEFAULT_MEMORY_LIMIT = memory_guard.DEFAULT_LIMIT
CACHE_SIZE = 1024  # compiled scripts kept, shared by every environment

FILENAME = "<string>"  # SpiffWorkflow finds the failing line by this frame name


class _Deadline(BaseException):
    """Raised by `_tick_` once the time limit has passed.

    A BaseException so that `except Exception:` in a script does not catch it; a bare `except:`
    does, but the next `_tick_` raises it again and the run is reported as timed out anyway.
    """


# ------------------------------------------------------------------- per-thread state


class _RunState(threading.local):
    deadline: float = math.inf
    wake: float = math.inf  # the earlier of the deadline and the memory guard's next check
    exceeded: bool = False
    globals: dict[str, Any] | None = None


_STATE = _RunState()
_monotonic = time.monotonic


_GUARD = memory_guard.GUARD


def _tick() -> bool:
    """Deadline and memory check the policy inserts into loops, comprehensions, functions and
    top-level statements: one clock read and one compare until something is due."""
    now = _monotonic()
    if now > _STATE.wake:
        _wake(now)
    return True


def _wake(now: float) -> None:
    state = _STATE
    if now > state.deadline:
        state.exceeded = True
        raise _Deadline
    memory_guard.check(now)
    state.wake = min(state.deadline, _GUARD.next_check)


# --------------------------------------------------------- attribute and item guards

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
    if name == "to_bytes" and (isinstance(obj, int) or obj is int):
        return _to_bytes if obj is int else functools.partial(_to_bytes, obj)
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


# ------------------------------------------------------------------------- builtins


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


# --------------------------------------------------------------------------- policy

_GUARDED_BINOPS: dict[type[ast.operator], str] = {
    ast.Add: "_add_",
    ast.Mult: "_mul_",
    ast.Pow: "_pow_",
    ast.LShift: "_lshift_",
    ast.Mod: "_mod_",
}


def _call(name: str, args: list[ast.expr], where: ast.AST) -> ast.Call:
    node = ast.Call(func=ast.Name(name, ast.Load()), args=args, keywords=[])
    copy_locations(node, where)  # type: ignore[arg-type]
    return node


def _tick_statement(where: ast.AST) -> ast.Expr:
    node = ast.Expr(value=_call("_tick_", [], where))
    copy_locations(node, where)  # type: ignore[arg-type]
    return node


_BLOCKS = ("body", "orelse", "finalbody")


def _tick_straight_line(statements: list[ast.stmt]) -> None:
    """A tick before each statement outside loops and functions (which tick already), so
    straight-line code (`l = l + l` line after line) meets the memory guard too. These run
    once each: the cost is one call per line of the script."""
    for index in range(len(statements) - 1, -1, -1):
        statement = statements[index]
        if isinstance(statement, ast.If | ast.Try | ast.With):
            for name in _BLOCKS:
                _tick_straight_line(getattr(statement, name, None) or [])
            for handler in getattr(statement, "handlers", []):
                _tick_straight_line(handler.body)
        statements.insert(index, _tick_statement(statement))


class _SandboxPolicy(RestrictingNodeTransformer):
    """RestrictedPython's policy, tightened and instrumented (see the module docstring)."""

    def visit_Import(self, node: ast.Import) -> None:
        self.error(node, "import statements are not allowed")

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        self.error(node, "import statements are not allowed")

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        self.error(node, "class definitions are not allowed")

    def visit_Module(self, node: ast.Module) -> ast.AST:
        result = super().visit_Module(node)
        assert isinstance(result, ast.Module)
        _tick_straight_line(result.body)
        return result

    def visit_While(self, node: ast.While) -> ast.AST:
        result = super().visit_While(node)
        assert isinstance(result, ast.While)
        result.body.insert(0, _tick_statement(result))
        return result

    def visit_For(self, node: ast.For) -> ast.AST:
        result = super().visit_For(node)
        assert isinstance(result, ast.For)
        result.body.insert(0, _tick_statement(result))
        return result

    def visit_comprehension(self, node: ast.comprehension) -> ast.AST:
        result = super().visit_comprehension(node)
        assert isinstance(result, ast.comprehension)
        result.ifs.insert(0, _call("_tick_", [], result.iter))
        return result

    def visit_FunctionDef(self, node: ast.FunctionDef) -> ast.AST:
        result = super().visit_FunctionDef(node)
        assert isinstance(result, ast.FunctionDef)
        result.body.insert(0, _tick_statement(result))
        return result

    def visit_Lambda(self, node: ast.Lambda) -> ast.AST:
        result = super().visit_Lambda(node)
        assert isinstance(result, ast.Lambda)
        body = ast.BoolOp(op=ast.And(), values=[_call("_tick_", [], result.body), result.body])
        copy_locations(body, result.body)
        result.body = body
        return result

    def visit_BinOp(self, node: ast.BinOp) -> ast.AST:
        result = super().visit_BinOp(node)
        assert isinstance(result, ast.BinOp)
        guard = _GUARDED_BINOPS.get(type(result.op))
        if guard is None:
            return result
        return _call(guard, [result.left, result.right], result)

    def visit_FormattedValue(self, node: ast.FormattedValue) -> ast.AST:
        result = super().visit_FormattedValue(node)
        assert isinstance(result, ast.FormattedValue)
        if result.format_spec is not None:
            result.value = _call("_format_", [result.value, result.format_spec,
                                              ast.Constant(result.conversion)], result)
            result.conversion = -1
            result.format_spec = None
        return result

    def visit_AugAssign(self, node: ast.AugAssign) -> Any:
        if not isinstance(node.target, ast.Subscript):
            return super().visit_AugAssign(node)
        # d[k] += v  ->  _tmp1 = d; _tmp2 = k; _write_(_tmp1)[_tmp2] = _inplacevar_(
        #                                          '+=', _getitem_(_tmp1, _tmp2), v)
        if any(isinstance(part, ast.Slice) for part in ast.walk(node.target.slice)):
            self.error(node, "augmented assignment of slices is not allowed")
            return node
        container = self.visit(node.target.value)
        key = self.visit(node.target.slice)
        value = self.visit(node.value)
        container_name, key_name = self.gen_tmp_name(), self.gen_tmp_name()

        def load(name: str) -> ast.Name:
            return ast.Name(name, ast.Load())

        current = _call("_getitem_", [load(container_name), load(key_name)], node)
        updated = _call("_inplacevar_", [ast.Constant(IOPERATOR_TO_STR[type(node.op)]),
                                         current, value], node)
        statements: list[ast.stmt] = [
            ast.Assign(targets=[ast.Name(container_name, ast.Store())], value=container),
            ast.Assign(targets=[ast.Name(key_name, ast.Store())], value=key),
            ast.Assign(targets=[ast.Subscript(value=_call("_write_", [load(container_name)],
                                                          node),
                                              slice=load(key_name), ctx=ast.Store())],
                       value=updated),
        ]
        for statement in statements:
            copy_locations(statement, node)
        return statements


# ------------------------------------------------------------------------ compiling


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


# ---------------------------------------------------------------------- environment


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


def _helper_trace(frame: FrameType, event: str, arg: Any) -> Any:
    if _monotonic() > _STATE.deadline:
        _STATE.exceeded = True
        raise _Deadline
    return _helper_trace


def _interruptible(function: Callable[..., Any]) -> Callable[..., Any]:
    """Run a trusted Python helper under a deadline-checking trace while a sandbox run is on.

    Helpers hold no `_tick_()` calls, so `add_working_days(d, 10**9)` would otherwise run
    unbounded. Only helper calls pay for tracing; outside a sandbox run they run untraced.
    """

    @functools.wraps(function)
    def call(*args: Any, **kwargs: Any) -> Any:
        if _STATE.deadline == math.inf:
            return function(*args, **kwargs)
        previous = sys.gettrace()
        sys.settrace(_helper_trace)
        try:
            return function(*args, **kwargs)
        finally:
            sys.settrace(previous)

    return call


def _expose(value: Any) -> Any:
    """How an environment global is offered: modules as namespaces, Python functions and
    bound methods made interruptible, everything else as is."""
    if isinstance(value, ModuleType):
        return module_namespace(value)
    if isinstance(value, FunctionType) or (
            isinstance(value, MethodType) and isinstance(value.__func__, FunctionType)):
        return _interruptible(value)
    return value


class SandboxedEnvironment(BasePythonScriptEngineEnvironment):
    """Runs expressions and scripts under RestrictedPython with TaskDataEnvironment's data rules.

    * evaluate: globals are the environment globals, then `external_context`, then the task
      data (data wins), and nothing is written back;
    * execute: fails fast if task data would hide an environment global, runs the script in
      the task data dict itself, then removes `__builtins__`, every callable, every environment
      global and external-context name (as TaskDataEnvironment does) and every name the
      sandbox itself added.

    `environment_globals` become available to process code by name. Modules are offered as a
    read-only `Namespace` of their public classes and functions.
    """

    def __init__(self, environment_globals: Mapping[str, Any] | None = None,
                 time_limit: float = DEFAULT_TIME_LIMIT,
                 service_caller: Callable[..., Any] | None = None,
                 memory_limit: int = DEFAULT_MEMORY_LIMIT) -> None:
        exposed: dict[str, Any] = {}
        for name, value in (environment_globals or {}).items():
            if not isinstance(name, str) or not name.isidentifier() or name.startswith("_"):
                raise ValueError(f"{name!r} cannot be offered to process code")
            exposed[name] = _expose(value)
        super().__init__(exposed)
        if not time_limit > 0:
            raise ValueError("time_limit must be a positive number of seconds")
        self.time_limit = float(time_limit)
        if not memory_limit > 0:
            raise ValueError("memory_limit must be a positive number of bytes")
        self.memory_limit = int(memory_limit)
        self._service_caller = service_caller

    def evaluate(self, expression: str, context: dict[str, Any],
                 external_context: dict[str, Any] | None = None) -> Any:
        compiled = _compiled(expression, "eval")
        my_globals = dict(self.globals)
        self._prepare_context(context)
        my_globals.update(external_context or {})
        my_globals.update(context)
        my_globals.update(_RUNTIME)
        try:
            return self._run(compiled, my_globals, "eval")
        except ScriptMemoryExceeded:
            my_globals.clear()  # what `(x := ...)` kept
            memory_guard.release()
            raise

    def execute(self, script: str, context: dict[str, Any],
                external_context: dict[str, Any] | None = None) -> bool:
        compiled = _compiled(script, "exec")  # a refused script leaves the data untouched
        external_context = external_context or {}
        self.check_for_overwrite(context, external_context)
        my_globals = dict(self.globals)
        self._prepare_context(context)
        my_globals.update(external_context)
        private = {k: v for k, v in context.items() if isinstance(k, str) and k.startswith("_")}
        before = dict(context)
        context.update(my_globals)
        context.update(_RUNTIME)
        try:
            self._run(compiled, context, "exec")
        except ScriptMemoryExceeded:
            context.clear()  # drop what the script built: the data is as it was before
            context.update(before)
            del before
            memory_guard.release()
            raise
        finally:
            self._remove_globals_and_functions_from_context(context, external_context)
            for key in [k for k in context
                        if isinstance(k, str) and k.startswith("_") and k not in private]:
                del context[key]
            context.update(private)
        return True

    def call_service(self, context: dict[str, Any], **kwargs: Any) -> Any:
        if self._service_caller is None:
            raise NotImplementedError("service tasks are not supported by this engine")
        return self._service_caller(context, **kwargs)

    def _prepare_context(self, context: dict[str, Any]) -> None:
        """Hook kept from TaskDataEnvironment; does nothing."""

    def _remove_globals_and_functions_from_context(
            self, context: dict[str, Any],
            external_context: Mapping[str, Any] | None = None) -> None:
        for key in list(context):
            if (key == "__builtins__" or callable(context[key]) or key in self.globals
                    or (external_context and key in external_context)):
                context.pop(key)

    def check_for_overwrite(self, context: Mapping[str, Any],
                            external_context: Mapping[str, Any]) -> None:
        overwrites = set(self.globals).intersection(context)
        overwrites.update(set(external_context).intersection(context))
        if overwrites:
            raise ValueError(
                "You have task data that overwrites a predefined function(s). Please change "
                f"the following variable or field name(s) to something else: {overwrites}")

    def _run(self, compiled: _Compiled, my_globals: dict[str, Any], mode: Mode) -> Any:
        if compiled.code is None:
            raise ScriptNotAllowed(f"{_label(mode)} not allowed: " + "; ".join(compiled.problems),
                                   compiled.problems, compiled.lineno)
        state = _STATE
        saved = (state.deadline, state.wake, state.exceeded, state.globals)
        state.deadline = _monotonic() + self.time_limit
        state.exceeded = False
        state.globals = my_globals
        guarded = memory_guard.start(self.memory_limit)
        state.wake = min(state.deadline, _GUARD.next_check)
        out_of_memory = False
        result: Any = None
        stopped_at: int | None = None
        try:
            try:
                if mode == "eval":
                    result = eval(compiled.code, my_globals)
                else:
                    exec(compiled.code, my_globals)
            except BaseException as exc:
                if not state.exceeded and not _GUARD.exceeded:
                    raise
                stopped_at = _script_line(exc)
                traceback.clear_frames(exc.__traceback__)  # the script's locals go now
            timed_out = state.exceeded
        finally:
            state.deadline, state.wake, state.exceeded, state.globals = saved
            out_of_memory = memory_guard.stop(guarded)
        where = f" (stopped at line {stopped_at})" if stopped_at else ""
        if out_of_memory and not timed_out:
            stopped = ScriptMemoryExceeded(
                f"{_label(mode)} stopped: it used more than the memory limit of "
                f"{memory_guard.describe(self.memory_limit)}{where}; look for a value that "
                "grows in a loop")
            stopped.lineno = stopped_at
            raise stopped
        if timed_out:
            timeout = ScriptTimeout(
                f"{_label(mode)} stopped: it ran for longer than the time limit of "
                f"{self.time_limit:g} seconds{where}; look for a loop that never ends")
            timeout.lineno = stopped_at
            raise timeout
        return result


def _script_line(exc: BaseException) -> int | None:
    """The last line of sandboxed code the exception passed through."""
    line = None
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == FILENAME:
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


# --------------------------------------------------------------------------- engine


class SandboxedScriptEngine(PythonScriptEngine):
    """PythonScriptEngine for a SandboxedEnvironment: clear messages for sandbox errors and a
    working `call_service` (SpiffWorkflow 3.2.0's refers to an undefined `script`)."""

    environment: SandboxedEnvironment

    def __init__(self, environment: SandboxedEnvironment | None = None) -> None:
        super().__init__(environment=environment or SandboxedEnvironment())

    def evaluate(self, task: Task, expression: str,
                 external_context: dict[str, Any] | None = None) -> Any:
        try:
            return self.environment.evaluate(expression, task.data, external_context)
        except SpiffWorkflowException as exc:
            exc.add_note(f"Error evaluating expression '{expression}'")
            raise
        except SandboxError as exc:
            raise WorkflowTaskException(f"Error evaluating expression '{expression}': {exc}",
                                        task=task, exception=exc) from exc
        except Exception as exc:
            raise WorkflowTaskException(
                f"Error evaluating expression '{expression}': {exc.__class__.__name__}: {exc}",
                task=task, exception=exc) from exc

    def call_service(self, task: Task, **kwargs: Any) -> Any:
        try:
            return self.environment.call_service(task.data, **kwargs)
        except SpiffWorkflowException:
            raise
        except Exception as exc:
            operation = kwargs.get("operation_name") or "service"
            raise WorkflowTaskException(f"Service call {operation} failed: {exc}", task=task,
                                        exception=exc) from exc

    def create_task_exec_exception(self, task: Task, script: str,
                                   err: Exception) -> Exception:
        if not isinstance(err, SandboxError):
            return super().create_task_exec_exception(task, script, err)
        line_number, error_line = self.get_error_line_number_and_content(script, err)
        lineno = getattr(err, "lineno", None)
        if isinstance(lineno, int) and lineno > 0:
            line_number = lineno
            lines = script.splitlines()
            error_line = lines[lineno - 1] if lineno <= len(lines) else ""
        return WorkflowTaskException(str(err), task=task, exception=err,
                                     line_number=line_number, error_line=error_line)


def build_sandboxed_engine(extra_globals: dict[str, Any] | None = None,
                           time_limit: float = DEFAULT_TIME_LIMIT,
                           memory_limit: int = DEFAULT_MEMORY_LIMIT) -> PythonScriptEngine:
    """A script engine whose scripts, conditions and DMN expressions run in the sandbox.

    `extra_globals` are offered to process code by name (helper functions, or modules, which
    are offered as read-only namespaces of their public classes and functions).
    """
    return SandboxedScriptEngine(SandboxedEnvironment(extra_globals, time_limit=time_limit,
                                                      memory_limit=memory_limit))
