"""The acceptance test of the distribution: pip installs theatre alone in a fresh environment, and from there it
checks chorus (a copy of its sources) with the repository's interpreter, which has chorus's dependencies, and
starts a project from the templates the wheel carries."""

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

    # Its templates travel in the wheel, dotfiles included: a project can be started from the installed theatre.
    made = subprocess.run(
        [theatre, "new", tmp_path / "shop", "--no-input", "--no-install"], capture_output=True, text=True, check=False
    )
    assert made.returncode == 0, made.stderr
    for path in (".ci/run", ".gitignore", ".dockerignore", "src/shop/acts/notes/__init__.py", ".theatre/template.toml"):
        assert (tmp_path / "shop" / path).is_file(), path
