"""Who enqueues which task, found in source: ``.delay``, ``.apply_async``, ``.s``, ``.si``, ``send_task`` and the
project's own helpers (``[tool.theatre] enqueue-helpers``), each credited to the function that calls it."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass

from theatre.facts.source import ModuleSource, Sources, walk
from theatre.facts.tasks import DeclaredTask

SIGNATURE_METHODS = {"delay", "apply_async", "s", "si"}
MODULE_LEVEL = "<module>"


@dataclass(frozen=True)
class Enqueue:
    """``module:function`` queues ``task`` (its registered name) at ``line``, by ``how``."""

    module: str
    function: str
    task: str
    how: str
    line: int

    @property
    def caller(self) -> str:
        return f"{self.module}:{self.function}"


class TaskIndex:
    """Finds the task a dotted path names, following re-exports (``from .mail import send``) a few steps."""

    def __init__(self, tasks: list[DeclaredTask], sources: Sources) -> None:
        self.by_path = {task.path: task for task in tasks}
        self.sources = sources

    def lookup(self, path: str | None, hops: int = 5) -> DeclaredTask | None:
        while path and hops:
            if path in self.by_path:
                return self.by_path[path]
            owner, _, name = path.rpartition(".")
            source = self.sources.get(owner)
            path = source.bindings.get(name) if source else None
            hops -= 1
        return None


def _called_name(call: ast.Call) -> str | None:
    if isinstance(call.func, ast.Attribute):
        return call.func.attr
    if isinstance(call.func, ast.Name):
        return call.func.id
    return None


def _task_of_call(call: ast.Call, source: ModuleSource, index: TaskIndex, helpers: set[str]) -> tuple[str, str] | None:
    """(task name, how) when this call queues a task."""
    name = _called_name(call)
    if name == "send_task":
        argument = call.args[0] if call.args else next((k.value for k in call.keywords if k.arg == "name"), None)
        if isinstance(argument, ast.Constant) and isinstance(argument.value, str):
            return argument.value, "send_task"
        return None
    if name in SIGNATURE_METHODS and isinstance(call.func, ast.Attribute):
        task = index.lookup(source.resolve(call.func.value))
        return (task.name, f".{name}") if task else None
    if name in helpers:  # the task is any positional argument: enqueue(task, ...) or queue_task(session, task, ...)
        for argument in call.args:
            task = index.lookup(source.resolve(argument))
            if task:
                return task.name, f"{name}()"
    return None


def _bodies(source: ModuleSource) -> Iterator[tuple[str, list[ast.stmt]]]:
    yield (
        MODULE_LEVEL,
        [
            node
            for node in source.tree.body
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
        ],
    )
    for qualified, function in source.functions.items():
        yield qualified, function.body


def find_enqueues(sources: Sources, tasks: list[DeclaredTask], helpers: tuple[str, ...]) -> list[Enqueue]:
    """Every enqueue in the package; a function also enqueues what the same module's functions it calls do."""
    index = TaskIndex(tasks, sources)
    helper_names = set(helpers)
    found: list[Enqueue] = []
    for module in sources:
        source = sources.get(module)
        assert source is not None
        direct: dict[str, list[Enqueue]] = {}
        calls: dict[str, set[str]] = {}
        for function, body in _bodies(source):
            direct[function] = []
            calls[function] = set()
            for call in (node for statement in body for node in walk(statement) if isinstance(node, ast.Call)):
                queued = _task_of_call(call, source, index, helper_names)
                if queued:
                    direct[function].append(Enqueue(module, function, queued[0], queued[1], call.lineno))
                elif isinstance(call.func, ast.Name) and call.func.id in source.functions:
                    calls[function].add(call.func.id)
        for function in direct:
            reached, pending = {function}, [function]
            while pending:
                for callee in calls.get(pending.pop(), ()):
                    if callee not in reached:
                        reached.add(callee)
                        pending.append(callee)
            for callee in sorted(reached, key=lambda name: (name != function, name)):
                found += [Enqueue(module, function, e.task, e.how, e.line) for e in direct.get(callee, [])]
    return found
