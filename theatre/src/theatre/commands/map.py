"""``theatre map``'s model: each act with its routes (as the API serves them) and tasks, and who queues what."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from theatre.facts.enqueues import Enqueue, find_enqueues
from theatre.facts.graph import build
from theatre.facts.layout import discover
from theatre.facts.project import ProbeSettings, Project, resolve_probe_settings
from theatre.facts.tasks import DeclaredTask, declared_tasks
from theatre.probes.launcher import probing
from theatre.rules.routes import route_label


@dataclass(frozen=True)
class Scene:
    """One route: its label (``POST /auth/register``), the endpoint that plays it, and the tasks it queues."""

    label: str
    endpoint: str
    file: str
    line: int | None
    enqueues: tuple[Enqueue, ...]

    @property
    def queued(self) -> tuple[str, ...]:
        return _names(self.enqueues)


@dataclass(frozen=True)
class Task:
    declared: DeclaredTask
    enqueues: tuple[Enqueue, ...]

    @property
    def queued(self) -> tuple[str, ...]:
        return _names(self.enqueues)


@dataclass(frozen=True)
class ActMap:
    name: str
    scenes: tuple[Scene, ...]
    tasks: tuple[Task, ...]


@dataclass(frozen=True)
class StageMap:
    """The whole map; ``elsewhere`` holds enqueues from functions that are neither a route nor a task, and
    ``failures`` the imports that failed in the API process (so routes may be missing)."""

    package: str
    acts: tuple[ActMap, ...]
    elsewhere: tuple[Enqueue, ...]
    failures: tuple[str, ...]

    def as_json(self) -> dict[str, Any]:
        return {
            "package": self.package,
            "acts": [
                {
                    "name": act.name,
                    "scenes": [
                        {
                            "route": s.label,
                            "endpoint": s.endpoint,
                            "file": s.file,
                            "line": s.line,
                            "enqueues": [_enqueue_json(e) for e in s.enqueues],
                        }
                        for s in act.scenes
                    ],
                    "tasks": [
                        {
                            "name": t.declared.name,
                            "function": f"{t.declared.module}:{t.declared.function}",
                            "file": t.declared.file,
                            "line": t.declared.line,
                            "enqueues": [_enqueue_json(e) for e in t.enqueues],
                        }
                        for t in act.tasks
                    ],
                }
                for act in self.acts
            ],
            "elsewhere": [{"caller": e.caller, **_enqueue_json(e)} for e in self.elsewhere],
        }


def _names(enqueues: tuple[Enqueue, ...]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(e.task for e in enqueues))


def _enqueue_json(enqueue: Enqueue) -> dict[str, Any]:
    return {"task": enqueue.task, "how": enqueue.how, "module": enqueue.module, "line": enqueue.line}


def _by_caller(enqueues: list[Enqueue]) -> dict[str, tuple[Enqueue, ...]]:
    """Each caller's enqueues, in the order they were found."""
    grouped: dict[str, list[Enqueue]] = {}
    for enqueue in enqueues:
        grouped.setdefault(enqueue.caller, []).append(enqueue)
    return {caller: tuple(found) for caller, found in grouped.items()}


def _routes_of_act(entry: dict[str, Any], served: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """The act's routes in the order its router includes them (then any its router misses), each at the path the
    API serves it at, else the act's router's, else its scene router's."""
    by_endpoint: dict[str, dict[str, Any]] = {}
    for route in [*(entry["routes"] or []), *(r for routes in entry["scenes"].values() for r in routes)]:
        by_endpoint.setdefault(route["endpoint"], route)
    return [served.get(endpoint, route) for endpoint, route in by_endpoint.items()]


def build_map(project: Project, probe_settings: ProbeSettings | None = None) -> StageMap:
    """The map of a project, its routes as an API process serves them (probed as ``probe_settings`` say)."""
    layout = discover(project)
    with probing(layout, ["api"], probe_settings or resolve_probe_settings(project)) as probes:
        imports = build(layout)
        tasks = declared_tasks(layout, imports.sources)
        enqueues = find_enqueues(imports.sources, tasks, project.settings.enqueue_helpers)
        api = probes["api"].result() if "api" in probes else {"failures": [], "app_routes": [], "acts": {}}
    failures = tuple(f"{failure['stage']} fails: {failure['error']}" for failure in api["failures"])
    served = {route["endpoint"]: route for route in api["app_routes"] or []}
    queued_by = _by_caller(enqueues)
    acts: list[ActMap] = []
    callers: set[str] = set()
    for act in layout.acts:
        entry = api["acts"].get(act.module, {"routes": None, "scenes": {}})
        routes = _routes_of_act(entry, served)
        scenes = tuple(
            Scene(
                route_label(route),
                route["endpoint"],
                project.relative(route["file"]) if route["file"] else "",
                route["line"],
                queued_by.get(route["endpoint"], ()),
            )
            for route in routes
        )
        own_tasks = tuple(
            Task(task, queued_by.get(f"{task.module}:{task.function}", ())) for task in tasks if task.act == act.name
        )
        callers |= {s.endpoint for s in scenes} | {f"{t.declared.module}:{t.declared.function}" for t in own_tasks}
        acts.append(ActMap(act.name, scenes, own_tasks))
    credited = {(e.module, e.task, e.line) for e in enqueues if e.caller in callers}
    elsewhere = tuple(e for e in enqueues if e.caller not in callers and (e.module, e.task, e.line) not in credited)
    return StageMap(project.package, tuple(acts), elsewhere, failures)
