"""The AST policy: which source is allowed, and the checks compiled into what is.

RestrictedPython's policy, tightened (no imports, no classes) and instrumented: `_tick_()` in
loops, comprehensions, functions and top-level statements, and size-guarded calls in place of
`+`, `*`, `**`, `<<`, `%` and format specs (see `app.engine.sandbox.sizes`).
"""

from __future__ import annotations

import ast
from typing import Any

from RestrictedPython.transformer import (
    IOPERATOR_TO_STR,
    RestrictingNodeTransformer,
    copy_locations,
)

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
