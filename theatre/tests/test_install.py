"""The acceptance test of the distribution: pip installs theatre alone in a fresh environment, and from there it
checks chorus (a copy of its sources) with the repository's interpreter, which has chorus's dependencies."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from theatre import __version__
from theatre.rules.catalogue import RULES

REPOSITORY = Path(__file__).parents[2]
THEATRE = REPOSITORY / "theatre"
REPOSITORY_PYTHON = REPOSITORY / ".venv" / "bin" / "python"


def test_pip_installs_theatre_and_it_checks_chorus_in_chorus_own_interpreter(tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run(
        [venv / "bin" / "python", "-m", "pip", "install", "--quiet", "--disable-pip-version-check", THEATRE],
        check=True,
        timeout=600,
    )
    theatre = venv / "bin" / "theatre"
    version = subprocess.run([theatre, "--version"], capture_output=True, text=True, check=True)
    assert version.stdout.strip() == f"theatre, version {__version__}"

    project = tmp_path / "chorus"
    shutil.copytree(REPOSITORY / "src", project / "src", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(REPOSITORY / "pyproject.toml", project / "pyproject.toml")
    check = subprocess.run(
        [theatre, "check", "--python", REPOSITORY_PYTHON, "--project", project],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=300,
    )
    assert check.returncode == 0, check.stdout + check.stderr
    assert f"theatre: chorus is clean ({len(RULES)} rules ran;" in check.stdout  # every rule ran, none not run
