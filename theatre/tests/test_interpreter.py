"""The probes run in the project's interpreter: --python, [tool.theatre] python, else the project's .venv."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.command_line import Stage, add_setting, theatre
from theatre.facts.project import locate, resolve_probe_settings


@pytest.fixture(scope="session")
def other_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A second virtual environment (without pip, so quick to make) that sees this one's packages through a .pth
    file: the fixture projects import FastAPI and Celery."""
    folder = tmp_path_factory.mktemp("interpreter") / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(folder)], check=True)
    python = folder / "bin" / "python"
    purelib = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    ours = [entry for entry in sys.path if entry.endswith("site-packages")]
    Path(purelib, "theatre-tests.pth").write_text("\n".join(ours) + "\n")
    return python


def _wrapper(path: Path, marker: Path) -> Path:
    """An executable that notes it was run, then runs this interpreter: a stand-in for a project's own."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f'#!/bin/sh\ntouch "{marker}"\nexec "{sys.executable}" "$@"\n')
    path.chmod(0o755)
    return path


def _recorded(project: Path, side: str) -> tuple[str, Path]:
    """(sys.executable, sys.prefix) as the side's root module wrote them at import."""
    executable, prefix = (project / f"{side}-interpreter.txt").read_text().splitlines()
    return executable, Path(prefix).resolve()


def test_both_probes_run_in_the_interpreter_named_by_python(stage: Stage, other_venv: Path) -> None:
    project = stage("records_interpreter")
    run = theatre("check", "--project", project, "--python", other_venv)
    assert run.exit_code == 0, run.errors
    for side in ("api", "worker"):
        assert _recorded(project, side) == (str(other_venv), other_venv.parents[1].resolve())


def test_map_runs_its_probe_in_the_interpreter_named_by_python(stage: Stage, other_venv: Path) -> None:
    project = stage("records_interpreter")
    assert theatre("map", "--project", project, "--python", other_venv, "--format", "json").exit_code == 0
    assert _recorded(project, "api")[0] == str(other_venv)


def test_the_projects_own_venv_is_the_default(stage: Stage) -> None:
    project = stage("records_interpreter")
    python = _wrapper(project / ".venv" / "bin" / "python", project / "venv-python-ran")
    assert resolve_probe_settings(locate(project_dir=project)).python == python
    run = theatre("check", "--project", project)
    assert run.exit_code == 0, run.errors
    assert (project / "venv-python-ran").exists()
    assert os.path.normpath(_recorded(project, "api")[0]) == os.path.normpath(sys.executable)  # the wrapper ran it


def test_without_a_venv_theatres_own_interpreter_is_the_default(stage: Stage) -> None:
    assert resolve_probe_settings(locate(project_dir=stage())).python == Path(sys.executable)


def test_the_interpreter_can_be_set_in_pyproject_relative_to_the_project(stage: Stage) -> None:
    project = stage("records_interpreter")
    _wrapper(project / "tools" / "python", project / "tools-python-ran")
    _wrapper(project / ".venv" / "bin" / "python", project / "venv-python-ran")
    add_setting(project, 'python = "tools/python"')
    assert theatre("check", "--project", project).exit_code == 0
    assert (project / "tools-python-ran").exists()
    assert not (project / "venv-python-ran").exists()


def test_python_on_the_command_line_wins(stage: Stage, other_venv: Path) -> None:
    project = stage("records_interpreter")
    _wrapper(project / ".venv" / "bin" / "python", project / "venv-python-ran")
    add_setting(project, 'python = ".venv/bin/python"')
    assert theatre("check", "--project", project, "--python", other_venv).exit_code == 0
    assert not (project / "venv-python-ran").exists()
    assert _recorded(project, "worker")[0] == str(other_venv)


def test_a_python_that_does_not_exist_is_a_usage_error(stage: Stage, tmp_path: Path) -> None:
    missing, project = tmp_path / "no" / "python", stage()
    for command in ("check", "map"):
        run = theatre(command, "--project", project, "--python", missing)
        assert run.exit_code == 2
        assert f"--python: {missing} does not exist" in run.errors


def test_a_python_that_is_not_executable_is_a_usage_error(stage: Stage, tmp_path: Path) -> None:
    plain = tmp_path / "python"
    plain.write_text("not a program\n")
    run = theatre("check", "--project", stage(), "--python", plain)
    assert run.exit_code == 2
    assert f"--python: {plain} is not an executable file" in run.errors


def test_a_python_setting_that_does_not_exist_is_a_usage_error(stage: Stage) -> None:
    project = stage()
    add_setting(project, 'python = "nowhere/python"')
    run = theatre("check", "--project", project)
    assert run.exit_code == 2
    assert f"[tool.theatre] python: {project / 'nowhere' / 'python'} does not exist" in run.errors
