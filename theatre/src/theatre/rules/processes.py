"""What each process really loads and registers, as the probes saw it (R301-R304)."""

from __future__ import annotations

from typing import Any

from theatre.facts.layout import Layout
from theatre.facts.tasks import DeclaredTask
from theatre.probes.launcher import SIDE_ENTRY
from theatre.rules.catalogue import Finding, NotRun, finding


def _steps(layout: Layout, places: list[dict[str, Any]]) -> tuple[str, ...]:
    return tuple(f"{place['module'] or layout.project.relative(place['file'])}:{place['line']}" for place in places)


def _loads(layout: Layout, code: str, side: str, loaded: list[dict[str, Any]], entry: str) -> list[Finding]:
    """One finding per import that pulls in something this side must not load; what it drags in after is not
    reported again (a scene, then the web framework the scene imports)."""
    found: list[Finding] = []
    reported: list[list[dict[str, Any]]] = []
    for event in loaded:
        chain = event["chain"]
        if any(chain[: len(earlier)] == earlier for earlier in reported):
            continue
        reported.append(chain)
        steps = (*_steps(layout, chain), *([f"(via {event['via']})"] if event["via"] else []), event["module"])
        place = chain[-1] if chain else None
        found.append(
            finding(
                code,
                f"{side} loads `{event['module']}`: {' → '.join(steps)}",
                layout.project.relative(place["file"]) if place else layout.relative_file(entry),
                place["line"] if place else None,
                steps,
            )
        )
    return found


def _failures(layout: Layout, results: dict[str, dict[str, Any]]) -> list[Finding]:
    found: list[Finding] = []
    seen: set[tuple[str, int | None, str]] = set()
    for side, result in results.items():
        for failure in result["failures"]:
            frames = failure["frames"]
            file = (
                layout.project.relative(frames[-1]["file"])
                if frames
                else layout.relative_file(f"{layout.package}.{SIDE_ENTRY[side]}")
            )
            line = frames[-1]["line"] if frames else None
            if (file, line, failure["error"]) in seen:
                continue
            seen.add((file, line, failure["error"]))
            steps = tuple(f"{layout.project.relative(f['file'])}:{f['line']}" for f in frames)
            found.append(finding("R304", f"{failure['stage']} fails: {failure['error']}", file, line, steps))
    return found


def check_runtime(
    layout: Layout, tasks: list[DeclaredTask], results: dict[str, dict[str, Any]]
) -> tuple[list[Finding], list[NotRun]]:
    """R301-R304 from what each probe saw; a side that failed to load leaves its rules not run (R304 says why)."""
    package = layout.package
    found = _failures(layout, results)
    not_run: list[NotRun] = []
    worker = results.get("worker")
    if worker is not None:
        registered = worker["registered"]
        if registered is None:
            why = f"`{package}.celery:app` could not load its tasks (R304)"
            not_run.append(NotRun(("R301", "R302"), why, layout.relative_file(f"{package}.celery")))
        else:
            found += [
                finding(
                    "R301",
                    f"task `{task.name}` ({task.path}) is not registered on `{package}.celery:app` as the worker "
                    "loads it",
                    task.file,
                    task.line,
                )
                for task in tasks
                if task.name not in registered
            ]
        found += _loads(layout, "R302", "the worker", worker["loaded"], f"{package}.celery")
    api = results.get("api")
    if api is not None:
        if api["app_routes"] is None:
            why = f"`{package}.api:app` could not be imported (R304)"
            not_run.append(NotRun(("R303",), why, layout.relative_file(f"{package}.api")))
        found += _loads(layout, "R303", f"importing `{package}.api`", api["loaded"], f"{package}.api")
    return found, not_run
