"""What a module's source says, read with ``ast`` and never executed: its imports, functions and assignments."""

from __future__ import annotations

import ast
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

Function = ast.FunctionDef | ast.AsyncFunctionDef


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _import_time_statements(body: list[ast.stmt]) -> Iterator[ast.stmt]:
    """Statements that run when the module is imported: not in functions, not under ``if TYPE_CHECKING``."""
    for statement in body:
        yield statement
        if isinstance(statement, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        if isinstance(statement, ast.If):
            if not _is_type_checking(statement.test):
                yield from _import_time_statements(statement.body)
            yield from _import_time_statements(statement.orelse)
            continue
        for name in ("body", "orelse", "finalbody"):
            yield from _import_time_statements(getattr(statement, name, []))
        for handler in getattr(statement, "handlers", []):
            yield from _import_time_statements(handler.body)
        for case in getattr(statement, "cases", []):
            yield from _import_time_statements(case.body)


def walk(node: ast.AST) -> Iterator[ast.AST]:
    """Every node under ``node`` (itself first), in ``ast.walk``'s order, without its generator per node."""
    todo = deque([node])
    while todo:
        node = todo.popleft()
        yield node
        for name in node._fields:
            value = getattr(node, name, None)
            if isinstance(value, ast.AST):
                todo.append(value)
            elif isinstance(value, list):
                todo.extend(item for item in value if isinstance(item, ast.AST))


_HOLDS_STATEMENTS = (ast.stmt, ast.excepthandler, ast.match_case)


def _imports(tree: ast.Module) -> Iterator[ast.Import | ast.ImportFrom]:
    """Every import statement, in ``ast.walk``'s order: only statements can hold one, so expressions are skipped
    (an except clause and a match case stand where they stand in the full tree, so the order is the same)."""
    todo: deque[ast.AST] = deque([tree])
    while todo:
        node = todo.popleft()
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node
        for name in node._fields:
            value = getattr(node, name, None)
            if isinstance(value, list) and value and isinstance(value[0], _HOLDS_STATEMENTS):
                todo.extend(value)


@dataclass
class ModuleSource:
    """One module's syntax tree and the facts the rules and the map read from it."""

    module: str
    path: Path
    is_package: bool
    tree: ast.Module = field(repr=False)

    @classmethod
    def read(cls, module: str, path: Path) -> ModuleSource:
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        return cls(module=module, path=path, is_package=path.name == "__init__.py", tree=tree)

    @cached_property
    def import_time_lines(self) -> frozenset[int]:
        """Lines of the import statements that run on import (others run on a call or only for type checkers)."""
        lines: set[int] = set()
        for statement in _import_time_statements(self.tree.body):
            if isinstance(statement, ast.Import | ast.ImportFrom):
                lines.update(range(statement.lineno, (statement.end_lineno or statement.lineno) + 1))
        return frozenset(lines)

    def absolute(self, node: ast.ImportFrom) -> str:
        """The module a ``from ... import`` statement names, with relative imports resolved."""
        if not node.level:
            return node.module or ""
        parts = self.module.split(".")
        base = parts if self.is_package else parts[:-1]
        base = base[: len(base) - (node.level - 1)]
        return ".".join([*base, node.module] if node.module else base)

    @cached_property
    def imports(self) -> tuple[ast.Import | ast.ImportFrom, ...]:
        """Every import statement, anywhere in the module, in ``ast.walk``'s order."""
        return tuple(_imports(self.tree))

    @cached_property
    def bindings(self) -> dict[str, str]:
        """Each name an import statement binds (anywhere in the module) to the dotted path it stands for."""
        bound: dict[str, str] = {}
        for node in self.imports:
            if isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.asname:
                        bound[alias.asname] = alias.name
                    else:
                        head = alias.name.split(".")[0]
                        bound[head] = head
            else:
                origin = self.absolute(node)
                for alias in node.names:
                    if alias.name != "*":
                        bound[alias.asname or alias.name] = f"{origin}.{alias.name}"
        return bound

    def names_imported_at(self, line: int) -> tuple[str, ...]:
        """The names a ``from ... import`` statement on this line takes (empty for ``import x``)."""
        for node in self.imports:
            if isinstance(node, ast.ImportFrom) and node.lineno <= line <= (node.end_lineno or node.lineno):
                return tuple(alias.name for alias in node.names)
        return ()

    @cached_property
    def functions(self) -> dict[str, Function]:
        """Top-level functions and methods by qualified name (``f``, ``Class.method``)."""
        found: dict[str, Function] = {}
        for node in self.tree.body:
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                found[node.name] = node
            elif isinstance(node, ast.ClassDef):
                for item in node.body:
                    if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef):
                        found[f"{node.name}.{item.name}"] = item
        return found

    def assignment_line(self, name: str) -> int | None:
        """The line of the first module-level assignment to ``name``."""
        for node in self.tree.body:
            if isinstance(node, ast.Assign):
                targets = node.targets
            elif isinstance(node, ast.AnnAssign):
                targets = [node.target]
            else:
                continue
            if any(isinstance(target, ast.Name) and target.id == name for target in targets):
                return node.lineno
        return None

    def resolve(self, expression: ast.expr) -> str | None:
        """The dotted path a name or attribute chain stands for, through this module's imports and functions."""
        if isinstance(expression, ast.Name):
            if expression.id in self.functions:
                return f"{self.module}.{expression.id}"
            return self.bindings.get(expression.id)
        if isinstance(expression, ast.Attribute):
            base = self.resolve(expression.value)
            return f"{base}.{expression.attr}" if base else None
        return None


class Sources:
    """Every module's source, parsed once on first use."""

    def __init__(self, files: dict[str, Path]) -> None:
        self._files = files
        self._parsed: dict[str, ModuleSource] = {}

    def __contains__(self, module: object) -> bool:
        return module in self._files

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self._files))

    def get(self, module: str) -> ModuleSource | None:
        if module not in self._files:
            return None
        if module not in self._parsed:
            self._parsed[module] = ModuleSource.read(module, self._files[module])
        return self._parsed[module]
