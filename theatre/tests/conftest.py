"""theatre's tests run on small fixture projects on disk; they need none of chorus's test stack."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from theatre.cli import app

FIXTURES = Path(__file__).parent / "fixtures"
SKIP_CACHES = shutil.ignore_patterns("__pycache__")


@pytest.fixture(scope="session")
def database() -> None:
    """Stands in for the chorus stack's database: nothing here touches it."""


@pytest.fixture
def _isolated() -> None:
    """Stands in for the chorus stack's per-test cleanup."""


@dataclass
class Run:
    exit_code: int
    output: str
    errors: str

    def json(self) -> dict[str, Any]:
        document: dict[str, Any] = json.loads(self.output)
        return document


def theatre(*args: str | Path) -> Run:
    """Run the ``theatre`` command in this process, as a person would type it."""
    result = CliRunner().invoke(app, [str(arg) for arg in args])
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return Run(result.exit_code, result.stdout, result.stderr)


Stage = Callable[..., Path]


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
