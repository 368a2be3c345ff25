"""``theatre check``: every rule over one project, the two processes probed while the source is read; then what the
project chose to silence (ignored codes, suppression comments, its baseline) is set aside, and counted."""

from __future__ import annotations

import time
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from theatre import __version__
from theatre.facts.baseline import DEFAULT_BASELINE, Baseline, write_baseline
from theatre.facts.graph import build
from theatre.facts.layout import discover
from theatre.facts.project import ProbeSettings, Project, UsageError, resolve_probe_settings
from theatre.facts.suppressions import Suppressions
from theatre.facts.tasks import declared_tasks
from theatre.probes.launcher import SIDE_ENTRY, ProbeError, has_side, probing
from theatre.rules.catalogue import RULES, Finding, NotRun
from theatre.rules.imports import check_imports
from theatre.rules.on_disk import check_layout
from theatre.rules.processes import check_runtime
from theatre.rules.routes import check_routes

# which rules each probe serves, so a probe nobody needs is not started
SIDE_RULES = {"api": ("L105", "L106", "L107", "R303", "R304"), "worker": ("R301", "R302", "R304")}
SIDE_NAME = {"api": "the API", "worker": "the worker"}


@dataclass
class Options:
    """How to check, beyond the project's own ``[tool.theatre]``."""

    ignore: frozenset[str] = frozenset()
    strict: bool = False
    baseline: Path | None = None
    probes: ProbeSettings | None = None  # default: as the project's settings say


@dataclass
class Report:
    """The findings of one check; the rules that could not run and why; and what was set aside."""

    package: str
    findings: list[Finding]
    not_run: list[NotRun] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)
    suppressed: list[Finding] = field(default_factory=list)
    baselined: list[Finding] = field(default_factory=list)
    seconds: float = 0.0
    baseline_written: Path | None = None

    @property
    def rules_not_run(self) -> list[str]:
        return sorted({code for entry in self.not_run for code in entry.codes} - set(self.ignored))

    @property
    def rules_run(self) -> list[str]:
        return [code for code in RULES if code not in self.ignored and code not in self.rules_not_run]

    @property
    def clean(self) -> bool:
        """Nothing found, and every rule not ignored ran: the only state that exits 0."""
        return not self.findings and not self.not_run

    def as_json(self) -> dict[str, Any]:
        return {
            "theatre": __version__,
            "package": self.package,
            "clean": self.clean,
            "findings": [f.as_json() for f in self.findings],
            "rules": {"run": self.rules_run, "not_run": self.rules_not_run, "ignored": self.ignored},
            "not_run": [entry.as_json() for entry in self.not_run],
            "suppressed": [f.as_json() for f in self.suppressed],
            "baselined": [f.as_json() for f in self.baselined],
            "seconds": round(self.seconds, 3),
        }


def _merged(entries: list[NotRun], ignored: AbstractSet[str]) -> list[NotRun]:
    """One entry per reason and place, its codes together; codes the project ignores are not listed."""
    merged: dict[tuple[str, str, int | None], list[str]] = {}
    for entry in entries:
        codes = merged.setdefault((entry.reason, entry.file, entry.line), [])
        codes += [code for code in entry.codes if code not in ignored and code not in codes]
    return [NotRun(tuple(sorted(codes)), *key) for key, codes in merged.items() if codes]


def inspect(project: Project, options: Options) -> tuple[list[Finding], list[NotRun]]:
    """Every rule over the project: what each found, and which could not run."""
    ignored = project.settings.ignore | options.ignore
    layout = discover(project)
    not_run: list[NotRun] = []
    sides = [side for side, codes in SIDE_RULES.items() if not set(codes) <= ignored]
    for side in sides:
        if not has_side(layout, side):
            entry = layout.relative_file(f"{project.package}.{SIDE_ENTRY[side]}")
            reason = f"{SIDE_NAME[side]} cannot start: there is no `{project.package}.{SIDE_ENTRY[side]}` (L101)"
            not_run.append(NotRun(SIDE_RULES[side], reason, entry))
    results: dict[str, dict[str, Any]] = {}
    with probing(layout, sides, options.probes or resolve_probe_settings(project)) as probes:
        findings = check_layout(layout)
        imports = build(layout)
        findings += check_imports(layout, imports, strict=options.strict or project.settings.strict)
        tasks = declared_tasks(layout, imports.sources)
        for side, probe in probes.items():
            try:
                results[side] = probe.result()
            except ProbeError as error:
                entry = error.file or layout.relative_file(f"{project.package}.{SIDE_ENTRY[side]}")
                not_run.append(NotRun(SIDE_RULES[side], str(error), entry, error.line))
    runtime, runtime_not_run = check_runtime(layout, tasks, results)
    findings += runtime
    not_run += runtime_not_run
    if "api" in results:
        routes, routes_not_run = check_routes(layout, results["api"])
        findings += routes
        not_run += routes_not_run
    return findings, _merged(not_run, ignored)


def run_check(project: Project, options: Options | None = None, *, use_baseline: bool = True) -> Report:
    """Check a project; ``options.ignore`` adds to the codes its ``[tool.theatre] ignore`` already lists."""
    options = options or Options()
    started = time.perf_counter()
    ignored = sorted(project.settings.ignore | options.ignore)
    unknown = [code for code in ignored if code not in RULES]
    if unknown:
        raise UsageError(f"no such rule: {', '.join(unknown)} (theatre rules lists them)")
    baseline_path = options.baseline or baseline_file(project)
    baseline = Baseline.read(baseline_path) if baseline_path and use_baseline else Baseline()
    findings, not_run = inspect(project, options)
    suppressions = Suppressions(project.root)
    report = Report(project.package, [], not_run, ignored)
    for found in sorted(set(findings), key=lambda f: (f.file, f.line or 0, f.code, f.message)):
        if found.code in ignored:
            continue
        if suppressions.covers(found):
            report.suppressed.append(found)
        elif baseline.covers(found):
            report.baselined.append(found)
        else:
            report.findings.append(found)
    report.seconds = time.perf_counter() - started
    return report


def baseline_file(project: Project) -> Path | None:
    """The baseline named in ``[tool.theatre] baseline``, relative to the project root."""
    return project.root / project.settings.baseline if project.settings.baseline else None


def record_baseline(project: Project, options: Options) -> Report:
    """Check without a baseline, then write today's findings as the baseline: from now on only new ones count."""
    target = options.baseline or baseline_file(project) or project.root / DEFAULT_BASELINE
    report = run_check(project, options, use_baseline=False)
    write_baseline(target, report.package, report.findings)
    report.baselined, report.findings = report.findings, []
    report.baseline_written = target
    return report
