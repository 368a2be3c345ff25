"""``theatre check``: every rule over one project, the two processes probed while the source is read."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from theatre.facts.graph import build
from theatre.facts.layout import discover
from theatre.facts.project import ProbeSettings, Project, UsageError, resolve_probe_settings
from theatre.facts.tasks import declared_tasks
from theatre.probes.launcher import probing
from theatre.rules.catalogue import RULES, Finding
from theatre.rules.imports import check_imports
from theatre.rules.on_disk import check_layout
from theatre.rules.processes import check_runtime
from theatre.rules.routes import check_routes

# which rules each probe serves, so a probe nobody needs is not started
SIDE_RULES = {"api": {"L105", "L106", "L107", "R303", "R304"}, "worker": {"R301", "R302", "R304"}}


@dataclass
class Report:
    """The findings of one check, and what was left out."""

    package: str
    findings: list[Finding]
    ignored: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def as_json(self) -> dict[str, Any]:
        return {
            "package": self.package,
            "findings": [f.as_json() for f in self.findings],
            "ignored": self.ignored,
            "seconds": round(self.seconds, 3),
        }


def run_check(
    project: Project, ignore: frozenset[str] = frozenset(), probe_settings: ProbeSettings | None = None
) -> Report:
    """Check a project; ``ignore`` adds to the codes its ``[tool.theatre] ignore`` already lists; the probes run as
    ``probe_settings`` say (by default as the project's settings say)."""
    started = time.perf_counter()
    ignored = sorted(project.settings.ignore | {code.upper() for code in ignore})
    unknown = [code for code in ignored if code not in RULES]
    if unknown:
        raise UsageError(f"no such rule: {', '.join(unknown)} (theatre rules lists them)")
    layout = discover(project)
    sides = [side for side, rules in SIDE_RULES.items() if not rules <= set(ignored)]
    with probing(layout, sides, probe_settings or resolve_probe_settings(project)) as probes:
        findings = check_layout(layout)
        imports = build(layout)
        findings += check_imports(layout, imports)
        tasks = declared_tasks(layout, imports.sources)
        results = {side: probe.result() for side, probe in probes.items()}
    findings += check_runtime(layout, tasks, results)
    findings += check_routes(layout, results.get("api"))
    kept = sorted(
        {f for f in findings if f.code not in ignored},
        key=lambda f: (f.file, f.line or 0, f.code, f.message),
    )
    return Report(project.package, kept, ignored, time.perf_counter() - started)
