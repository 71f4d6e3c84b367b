"""app/ uses the public APIs of FastAPI, Starlette, SQLAlchemy, psycopg and SpiffWorkflow only.

A private name (one underscore) that app/ does not define itself is someone else's internals:
`obj._name`, `getattr(obj, "_name")`, `from sqlalchemy.x import _name` and any import of a
private module (`fastapi._compat`) are listed, file and line, so a minor release of a library
cannot break the service unseen. Names imported from other modules (`etree._Element` from lxml,
`sys._getframe`) are not these libraries' and are left out.
"""

from __future__ import annotations

import ast
from pathlib import Path

APP = Path(__file__).resolve().parents[1] / "app"
LIBRARIES = ("fastapi", "starlette", "sqlalchemy", "psycopg", "SpiffWorkflow")
PUBLIC_UNDERSCORED = frozenset({"_asdict", "_fields", "_make", "_replace", "_mapping", "_t",
                                "_tuple"})
"""Documented public despite the underscore: named tuples' methods and SQLAlchemy's `Row`."""
ATTRIBUTE_CALLS = frozenset({"getattr", "setattr", "hasattr", "delattr"})
ROUTE_INTERNALS = frozenset({"response_field", "secure_cloned_response_field", "body_field",
                             "dependant"})
"""FastAPI route attributes without an underscore whose types live in its private layers
(`fastapi._compat.ModelField`, the dependency graph): undocumented, they change between minor
releases."""


def _private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def _trees() -> dict[Path, ast.Module]:
    return {path: ast.parse(path.read_text(encoding="utf-8"), str(path))
            for path in sorted(APP.rglob("*.py"))}


def _defined_here(trees: dict[Path, ast.Module]) -> set[str]:
    """Every private name app/ defines: functions, classes, variables, arguments, and the
    attributes it sets on `self` or `cls`."""
    names: set[str] = set()
    for tree in trees.values():
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                names.add(node.name)
            elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                names.add(node.id)
            elif isinstance(node, ast.arg):
                names.add(node.arg)
            elif isinstance(node, ast.alias) and node.asname:
                names.add(node.asname)
            elif (isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store)
                  and isinstance(node.value, ast.Name) and node.value.id in {"self", "cls"}):
                names.add(node.attr)
    return {name for name in names if _private(name)}


def _library_module(module: str) -> bool:
    return module.split(".")[0] in LIBRARIES


def _other_modules(tree: ast.Module) -> set[str]:
    """Names this file imports from modules other than the five libraries (and app's own)."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update((alias.asname or alias.name).split(".")[0] for alias in node.names
                         if not _library_module(alias.name))
        elif (isinstance(node, ast.ImportFrom) and node.module and node.level == 0
              and not _library_module(node.module) and node.module.split(".")[0] != "app"):
            names.update(alias.asname or alias.name for alias in node.names)
    return names


def _offenders_in(path: Path, tree: ast.Module, defined: set[str]) -> list[str]:
    where = path.relative_to(APP.parent)
    found: list[str] = []
    elsewhere = _other_modules(tree)

    def add(node: ast.AST, what: str) -> None:
        found.append(f"{where}:{getattr(node, 'lineno', 0)}: {what}")

    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if _library_module(alias.name) and any(map(_private, alias.name.split("."))):
                    add(node, f"import {alias.name}")
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if not _library_module(node.module):
                continue
            if any(map(_private, node.module.split("."))):
                add(node, f"from {node.module} import ...")
            for alias in node.names:
                if _private(alias.name):
                    add(node, f"from {node.module} import {alias.name}")
        elif (isinstance(node, ast.Attribute) and _private(node.attr)
              and node.attr not in defined and node.attr not in PUBLIC_UNDERSCORED
              and not (isinstance(node.value, ast.Name) and node.value.id in elsewhere)):
            add(node, f"{ast.unparse(node)}")
        elif isinstance(node, ast.Attribute) and node.attr in ROUTE_INTERNALS:
            add(node, f"{ast.unparse(node)} (FastAPI's internals)")
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
              and node.func.id in ATTRIBUTE_CALLS and len(node.args) >= 2
              and isinstance(node.args[1], ast.Constant) and isinstance(node.args[1].value, str)
              and _private(node.args[1].value) and node.args[1].value not in defined):
            add(node, f"{node.func.id}(..., {node.args[1].value!r})")
    return sorted(found, key=lambda line: int(line.split(":")[1]))


def offenders() -> list[str]:
    trees = _trees()
    defined = _defined_here(trees)
    return [line for path, tree in trees.items() for line in _offenders_in(path, tree, defined)]


def test_the_check_finds_a_private_access() -> None:
    """The check itself: each kind of reach into a library's internals is caught."""
    source = ast.parse(
        "from lxml import etree\n"
        "from fastapi._compat import ModelField\n"
        "from sqlalchemy.engine import _private_thing\n"
        "import psycopg._encodings\n"
        "task._get_internal_data('x')\n"
        "getattr(route, '_encoder_cls')\n"
        "row._mapping\n"
        "self._own = 1\n"
        "self._own\n"
        "etree._Element\n"
        "self.response_field.validate(result)\n")
    found = _offenders_in(APP / "probe.py", source, {"_own"})
    assert [line.split(": ", 1)[1] for line in found] == [
        "from fastapi._compat import ...", "from sqlalchemy.engine import _private_thing",
        "import psycopg._encodings", "task._get_internal_data", "getattr(..., '_encoder_cls')",
        "self.response_field (FastAPI's internals)"]


def test_app_uses_no_private_api_of_its_libraries() -> None:
    found = offenders()
    assert not found, "private internals used in app/:\n" + "\n".join(found)


def test_request_state_is_passed_explicitly() -> None:
    """No context variable decides what a unit of work, a commit or an audit entry means:
    the session, read-only mode, the audit entry and the idempotency claim are arguments."""
    found = [f"{path.relative_to(APP.parent)}:{node.lineno}"
             for path, tree in _trees().items() for node in ast.walk(tree)
             if isinstance(node, ast.Name | ast.Attribute)
             and (node.id if isinstance(node, ast.Name) else node.attr) == "ContextVar"]
    assert not found, "context variables in app/: " + ", ".join(found)
