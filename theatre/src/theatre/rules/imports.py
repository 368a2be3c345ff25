"""Which way imports flow, read from the import graph: each finding carries the chain that breaks the rule."""

from __future__ import annotations

import itertools
from collections import deque

import grimp

from theatre.facts.graph import Imports
from theatre.facts.layout import Layout
from theatre.rules.catalogue import Finding, finding
from theatre.rules.tangles import tangles

FOUNDATIONS = ("models", "schema", "db", "config", "celery")


def _within(module: str, package: str) -> bool:
    return module == package or module.startswith(f"{package}.")


def _chain_finding(code: str, message: str, layout: Layout, imports: Imports, chain: tuple[str, ...]) -> Finding:
    """A finding placed where the chain starts: the import line in its first module."""
    described = imports.describe(chain)
    return finding(
        code,
        f"{message}: {' → '.join(described)}",
        layout.relative_file(chain[0]),
        imports.line(chain[0], chain[1]),
        described,
    )


def _project_successors(graph: grimp.ImportGraph, package: str, module: str) -> set[str]:
    return {m for m in graph.find_modules_directly_imported_by(module) if _within(m, package)}


def check_cycles(layout: Layout, imports: Imports, *, strict: bool = False) -> list[Finding]:
    """I201: one finding per tangle of modules, showing its shortest cycle through its first module.

    Only imports that run on import can deadlock a start-up, so a cycle closed by an import inside a function (the
    usual way to break one on purpose) is reported only when ``strict``."""
    graph = imports.graph if strict else imports.import_time
    found: list[Finding] = []
    for tangle in tangles(imports.modules, lambda module: _project_successors(graph, imports.package, module)):
        first = tangle[0]
        cycles = []
        for successor in sorted(_project_successors(graph, imports.package, first) & set(tangle)):
            back = graph.find_shortest_chain(importer=successor, imported=first)
            if back:
                cycles.append((first, *back))
        cycle = min(cycles, key=lambda c: (len(c), c))
        more = f" ({len(tangle)} modules are tangled: {', '.join(tangle)})" if len(tangle) > len(cycle) - 1 else ""
        found.append(_chain_finding("I201", f"import cycle{more}", layout, imports, cycle))
    return found


def check_foundations(layout: Layout, imports: Imports) -> list[Finding]:
    """I202: models, schema, db, config and celery never depend on acts or api, however indirectly."""
    package = layout.package
    present = set(imports.graph.modules)
    found: list[Finding] = []
    for name in FOUNDATIONS:
        base = f"{package}.{name}"
        for target in (f"{package}.acts", f"{package}.api"):
            if base not in present or target not in present:
                continue
            chain = imports.graph.find_shortest_chain(importer=base, imported=target, as_packages=True)
            if chain:
                found.append(_chain_finding("I202", f"`{name}` depends on `{target}`", layout, imports, chain))
    return found


def check_reaching_into_acts(layout: Layout, imports: Imports) -> list[Finding]:
    """I203: an act (or api) imports another act only through that act's ``__init__``."""
    found: list[Finding] = []
    importers = [m for m in imports.modules if layout.act_of(m) or m == f"{layout.package}.api"]
    for importer in importers:
        home = layout.act_of(importer)
        for imported in sorted(imports.graph.find_modules_directly_imported_by(importer)):
            other = layout.act_of(imported)
            if other is None or other == home or imported == other.module:
                continue
            who = f"act `{home.name}`" if home else "`api`"
            found.append(
                finding(
                    "I203",
                    f"{who} imports `{imported}`, inside act `{other.name}`; only `{other.module}` is public",
                    layout.relative_file(importer),
                    imports.line(importer, imported),
                    (f"{importer}:{imports.line(importer, imported)}", imported),
                )
            )
    return found


def _first_import(layout: Layout, imports: Imports, source: str, target: str) -> tuple[str, str]:
    """A concrete import from one act's modules into another's, to name in an act-level cycle."""
    for importer in imports.modules:
        if _within(importer, source):
            for imported in sorted(imports.graph.find_modules_directly_imported_by(importer)):
                if _within(imported, target):
                    return importer, imported
    raise LookupError(f"no import from {source} to {target}")


def check_act_cycles(layout: Layout, imports: Imports) -> list[Finding]:
    """I204: the acts, as packages, depend on each other in one direction only."""
    modules = {act.name: act.module for act in layout.acts if act.module in imports.graph.modules}
    depends = {
        name: {
            other
            for other, target in modules.items()
            if other != name and imports.graph.direct_import_exists(importer=module, imported=target, as_packages=True)
        }
        for name, module in modules.items()
    }
    found: list[Finding] = []
    for tangle in tangles(depends, lambda name: depends[name]):
        first = tangle[0]
        # the shortest way from the first act back to itself, breadth first
        paths: deque[list[str]] = deque([first, successor] for successor in sorted(depends[first]))
        cycle: list[str] = []
        while paths and not cycle:
            path = paths.popleft()
            if path[-1] == first:
                cycle = path
            else:
                paths.extend([*path, nxt] for nxt in sorted(depends[path[-1]]) if nxt == first or nxt not in path)
        hops = [_first_import(layout, imports, modules[a], modules[b]) for a, b in itertools.pairwise(cycle)]
        chain = tuple(f"{importer}:{imports.line(importer, imported)} → {imported}" for importer, imported in hops)
        importer, imported = hops[0]
        found.append(
            finding(
                "I204",
                f"acts {' → '.join(cycle)} depend on each other: {'; '.join(chain)}",
                layout.relative_file(importer),
                imports.line(importer, imported),
                chain,
            )
        )
    return found


def check_tasks_stay_off_stage(layout: Layout, imports: Imports) -> list[Finding]:
    """I205: nothing a tasks package imports at import time, however indirectly, is a scene or the web framework."""
    graph = imports.import_time
    present = set(graph.modules)
    targets = [act.scenes for act in layout.acts if act.scenes in present]
    targets += [name for name in layout.project.settings.web_framework if name in present]
    found: list[Finding] = []
    for act in layout.acts:
        if act.tasks not in present:
            continue
        reported: list[tuple[str, ...]] = []
        for target in targets:
            chain = graph.find_shortest_chain(importer=act.tasks, imported=target, as_packages=True)
            # the web framework reached through a scene already reported is the same mistake
            if chain and not any(chain[: len(earlier)] == earlier for earlier in reported):
                reported.append(chain)
                what = "scenes" if target.endswith(".scenes") else "the web framework"
                found.append(_chain_finding("I205", f"`{act.tasks}` loads {what} (`{target}`)", layout, imports, chain))
    return found


def _aggregates(imports: Imports, package: str) -> bool:
    """Whether a package's ``__init__`` imports any module of its own package, eagerly or lazily."""
    return any(
        imported.startswith(f"{package}.") for imported in imports.graph.find_modules_directly_imported_by(package)
    )


def check_own_init(layout: Layout, imports: Imports) -> list[Finding]:
    """I206: no module takes a name from the ``__init__`` of a package that contains it, once that __init__
    imports its own modules (the trap that sank the original layout: ``from . import router`` in a scene)."""
    found: list[Finding] = []
    for importer in imports.modules:
        source = imports.sources.get(importer)
        for imported in sorted(imports.graph.find_modules_directly_imported_by(importer)):
            if not importer.startswith(f"{imported}.") or not _aggregates(imports, imported):
                continue
            for line in imports.lines(importer, imported):
                names = source.names_imported_at(line) if source else ()
                taken = [n for n in names if f"{imported}.{n}" not in imports.graph.modules]
                what = f"`{'`, `'.join(taken)}`" if taken else "the package"
                found.append(
                    finding(
                        "I206",
                        f"`{importer}` imports {what} from `{imported}`, whose __init__ contains it and imports its "
                        "own modules",
                        layout.relative_file(importer),
                        line,
                        (f"{importer}:{line}", imported),
                    )
                )
    return found


def check_imports(layout: Layout, imports: Imports, *, strict: bool = False) -> list[Finding]:
    return [
        *check_cycles(layout, imports, strict=strict),
        *check_foundations(layout, imports),
        *check_reaching_into_acts(layout, imports),
        *check_act_cycles(layout, imports),
        *check_tasks_stay_off_stage(layout, imports),
        *check_own_init(layout, imports),
    ]
