"""The two pieces of reading the import rules rest on: which imports run on import, and finding tangles."""

from __future__ import annotations

import ast
from pathlib import Path

from theatre.facts import source
from theatre.facts.layout import is_package, modules_in
from theatre.facts.source import ModuleSource, walk
from theatre.rules.tangles import tangles

SOURCE = """\
import json
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fastapi import APIRouter
else:
    import os

try:
    import orjson
except ImportError:
    orjson = None


class Stage:
    from pathlib import Path


def build() -> None:
    from fastapi import APIRouter
"""


def test_imports_inside_functions_or_for_type_checkers_do_not_run_on_import() -> None:
    source = ModuleSource(module="play.x", path=Path("x.py"), is_package=False, tree=ast.parse(SOURCE))
    assert sorted(source.import_time_lines) == [1, 2, 7, 10, 16]


def test_relative_imports_resolve_from_the_package_a_module_is_in_or_is() -> None:
    tree = ast.parse("from . import router\nfrom ..tasks import mail\n")
    first, second = (node for node in tree.body if isinstance(node, ast.ImportFrom))
    module = ModuleSource(module="play.acts.a.scenes", path=Path("scenes.py"), is_package=False, tree=tree)
    package = ModuleSource(module="play.acts.a.scenes", path=Path("__init__.py"), is_package=True, tree=tree)
    assert (module.absolute(first), module.absolute(second)) == ("play.acts.a", "play.acts.tasks")
    assert (package.absolute(first), package.absolute(second)) == ("play.acts.a.scenes", "play.acts.a.tasks")


def test_tangles_are_the_groups_that_reach_each_other() -> None:
    edges = {"a": {"b"}, "b": {"c"}, "c": {"a", "d"}, "d": {"e"}, "e": {"d"}, "f": {"a"}}
    assert tangles(edges, lambda node: edges.get(node, set())) == [["a", "b", "c"], ["d", "e"]]


NESTED = """\
import a
try:
    import b
except ImportError:
    import c
    def late():
        import d
else:
    from e import f as g
match a:
    case 1:
        import h
    case _:
        with open(a) as x:
            from . import i
class K:
    import j
    def m(self):
        for _ in (lambda: 1)():
            import k as a
        from l import (
            n,
        )
import a.b
"""


def test_the_quick_walks_keep_the_order_of_ast_walk() -> None:
    theatre = Path(source.__file__).parent.parent
    modules = [path for path in theatre.rglob("*.py") if "templates" not in path.relative_to(theatre).parts]
    sources = [NESTED, SOURCE, *(path.read_text() for path in modules)]  # templates are data, not Python yet
    for text in sources:
        tree = ast.parse(text)
        assert list(walk(tree)) == list(ast.walk(tree))
        imports = [node for node in ast.walk(tree) if isinstance(node, ast.Import | ast.ImportFrom)]
        module = ModuleSource(module="play.x", path=Path("x.py"), is_package=False, tree=tree)
        assert list(module.imports) == imports


def _modules_by_rglob(directory: Path, dotted: str) -> tuple[str, ...]:
    """modules_in as it was written first, with pathlib's rglob."""
    if not is_package(directory):
        return ()
    found = [dotted]
    for path in sorted(directory.rglob("*.py")):
        parts = path.relative_to(directory).with_suffix("").parts
        if not all(is_package(directory.joinpath(*parts[:depth])) for depth in range(1, len(parts))):
            continue
        if parts[-1] == "__init__":
            parts = parts[:-1]
        if parts:
            found.append(".".join((dotted, *parts)))
    return tuple(found)


def test_modules_are_found_as_rglob_finds_them(tmp_path: Path) -> None:
    scenes = tmp_path / "scenes"
    for relative in [
        "__init__.py",
        "b.py",
        "a.py",
        "a_b.py",
        "notes.txt",
        ".hidden.py",
        "deep/__init__.py",
        "deep/x.py",
        "deep/deeper/__init__.py",
        "deep/deeper/y.py",
        "loose/z.py",
        ".dot/__init__.py",
        ".dot/w.py",
        "folder.py/__init__.py",
        "folder.py/v.py",
        "B.py",
    ]:
        (scenes / relative).parent.mkdir(parents=True, exist_ok=True)
        (scenes / relative).write_text("")
    (scenes / "linked").symlink_to(scenes / "deep", target_is_directory=True)
    found = modules_in(scenes, "play.scenes")
    assert found == _modules_by_rglob(scenes, "play.scenes")
    assert "play.scenes.deep.deeper.y" in found
    assert not any("loose" in module for module in found)
    assert modules_in(tmp_path / "nowhere", "play.nowhere") == ()
