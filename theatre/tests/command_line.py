"""The ``theatre`` command as a person types it, and the fixture projects it runs on: plain helpers (the ``stage``
fixture that lays projects out is in ``conftest``)."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from theatre.cli import app

FIXTURES = Path(__file__).parent / "fixtures"

Stage = Callable[..., Path]


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


def add_setting(project: Path, line: str) -> None:
    """Append a line to the project's ``[tool.theatre]`` (the last table of every fixture's pyproject)."""
    pyproject = project / "pyproject.toml"
    pyproject.write_text(pyproject.read_text() + f"{line}\n")
