"""theatre's tests run on small fixture projects on disk; they need none of chorus's test stack."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.command_line import FIXTURES, Stage

SKIP_CACHES = shutil.ignore_patterns("__pycache__")
# Fixture projects and templates are data the tests copy and run elsewhere, never tests of theatre's own.
collect_ignore = ["fixtures"]


@pytest.fixture
def stage(tmp_path: Path) -> Stage:
    """Lay out a fixture project: the clean base, one case's files over it, and some of its paths removed."""

    def lay_out(case: str | None = None, remove: tuple[str, ...] = ()) -> Path:
        project = tmp_path / (case or "base")
        shutil.copytree(FIXTURES / "base", project, ignore=SKIP_CACHES)
        if case:
            shutil.copytree(FIXTURES / case, project, dirs_exist_ok=True, ignore=SKIP_CACHES)
        for relative in remove:
            path = project / relative
            if path.is_dir():
                shutil.rmtree(path)
            else:
                path.unlink()
        return project

    return lay_out
