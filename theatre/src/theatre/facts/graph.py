"""The package's import graph, built by grimp, and the subgraph of imports that run when a module is imported.

grimp is imported when the graph is built, not with this module: ``theatre check`` starts its probes first.
"""

from __future__ import annotations

import copy
import importlib
import itertools
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from theatre.facts.layout import Layout
from theatre.facts.source import Sources

if TYPE_CHECKING:
    import grimp


class GraphError(Exception):
    """The package's source could not be read into a graph (a syntax error, an unreadable file): exit status 2."""


@contextmanager
def _on_path(folder: Path) -> Iterator[None]:
    """Let grimp find the package in ``folder`` first, without importing it, and leave sys.path as it was."""
    sys.path.insert(0, str(folder))
    importlib.invalidate_caches()
    try:
        yield
    finally:
        sys.path.remove(str(folder))


@dataclass
class Imports:
    """Every import (``graph``) and those that run on import (``import_time``), with the lines that make them."""

    package: str
    graph: grimp.ImportGraph
    sources: Sources

    @cached_property
    def import_time(self) -> grimp.ImportGraph:
        """The graph without the imports that run later (in a function, or only for type checkers); read from
        every module's source, so only when a rule asks (``theatre map`` never does)."""
        graph = self.graph
        import_time = copy.deepcopy(graph)
        for importer in self.sources:
            source = self.sources.get(importer)
            assert source is not None
            for imported in graph.find_modules_directly_imported_by(importer):
                details = graph.get_import_details(importer=importer, imported=imported)
                if details and not any(detail["line_number"] in source.import_time_lines for detail in details):
                    import_time.remove_import(importer=importer, imported=imported)
        return import_time

    @cached_property
    def modules(self) -> list[str]:
        """The package's own modules, sorted."""
        return sorted(m for m in self.graph.modules if m == self.package or m.startswith(f"{self.package}."))

    def line(self, importer: str, imported: str) -> int | None:
        details = self.graph.get_import_details(importer=importer, imported=imported)
        return min((detail["line_number"] for detail in details), default=None)

    def lines(self, importer: str, imported: str) -> list[int]:
        details = self.graph.get_import_details(importer=importer, imported=imported)
        return sorted({detail["line_number"] for detail in details})

    def describe(self, chain: tuple[str, ...]) -> tuple[str, ...]:
        """A chain as findings show it: each module with the line where it imports the next one."""
        steps = [f"{importer}:{self.line(importer, imported)}" for importer, imported in itertools.pairwise(chain)]
        return (*steps, chain[-1])


def build(layout: Layout) -> Imports:
    """Scan the package with grimp (external packages as single nodes)."""
    import grimp

    package = layout.package
    try:
        with _on_path(layout.project.source_root):
            graph = grimp.build_graph(package, include_external_packages=True, cache_dir=None)
    except Exception as error:  # grimp reports unreadable source with several exception types
        raise GraphError(f"cannot build the import graph of {package}: {error}") from error
    files = {module: path for module in graph.modules if (path := layout.module_file(module)) is not None}
    return Imports(package=package, graph=graph, sources=Sources(files))
