"""The tasks each act declares, read from source: every function decorated with ``<app>.task`` or ``shared_task``."""

from __future__ import annotations

import ast
from dataclasses import dataclass

from theatre.facts.layout import Layout
from theatre.facts.source import Sources

TASK_DECORATORS = {"task", "shared_task"}


@dataclass(frozen=True)
class DeclaredTask:
    """A task as declared: the name Celery registers it under, and where its decorator is."""

    name: str
    act: str
    module: str
    function: str
    file: str
    line: int

    @property
    def path(self) -> str:
        return f"{self.module}.{self.function}"


def _task_decorator(decorator: ast.expr) -> ast.expr | None:
    target = decorator.func if isinstance(decorator, ast.Call) else decorator
    if (isinstance(target, ast.Attribute) and target.attr in TASK_DECORATORS) or (
        isinstance(target, ast.Name) and target.id == "shared_task"
    ):
        return decorator
    return None


def _registered_name(decorator: ast.expr, module: str, function: str) -> str:
    """The explicit ``name=...`` when it is a literal, else Celery's default: the module and function names."""
    if isinstance(decorator, ast.Call):
        for keyword in decorator.keywords:
            value = keyword.value
            if keyword.arg == "name" and isinstance(value, ast.Constant) and isinstance(value.value, str):
                return value.value
    return f"{module}.{function}"


def declared_tasks(layout: Layout, sources: Sources) -> list[DeclaredTask]:
    """Every task in every act's tasks package, in module and line order."""
    found: list[DeclaredTask] = []
    for act in layout.acts:
        for module in act.task_modules:
            source = sources.get(module)
            if source is None:
                continue
            for qualified, function in source.functions.items():
                for decorator in function.decorator_list:
                    if _task_decorator(decorator) is not None:
                        found.append(
                            DeclaredTask(
                                name=_registered_name(decorator, module, qualified),
                                act=act.name,
                                module=module,
                                function=qualified,
                                file=layout.project.relative(source.path),
                                line=decorator.lineno,
                            )
                        )
                        break
    return found
