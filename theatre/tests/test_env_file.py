"""--env-file and [tool.theatre] env-file: variables the project needs at import, given to both probes."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.command_line import Stage, add_setting, theatre
from theatre.facts.project import UsageError, read_env_file

ENV = """\
# the play's settings
export PLAY_TITLE="The Tempest"

PLAY_LIGHTS='up'  # overrides the inherited value
"""


def test_without_its_variables_the_project_does_not_import(stage: Stage) -> None:
    run = theatre("check", "--project", stage("config_from_environment"), "--format", "json")
    assert run.exit_code == 1
    assert [(f["code"], f["file"], f["line"]) for f in run.json()["findings"]] == [("R304", "play/config.py", 5)]


def test_the_env_file_is_seen_at_import_and_overrides_the_inherited_environment(
    stage: Stage, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PLAY_LIGHTS", "down")
    project = stage("config_from_environment")
    (project / "probe.env").write_text(ENV)
    run = theatre("check", "--project", project, "--env-file", project / "probe.env")
    assert run.exit_code == 0, run.output
    assert theatre("map", "--project", project, "--env-file", project / "probe.env").exit_code == 0


def test_the_env_file_can_be_set_in_pyproject_relative_to_the_project(stage: Stage) -> None:
    project = stage("config_from_environment")
    (project / "settings").mkdir()
    (project / "settings" / "probe.env").write_text(ENV)
    add_setting(project, 'env-file = "settings/probe.env"')
    assert theatre("check", "--project", project).exit_code == 0


def test_a_dot_env_is_not_read_unless_named(stage: Stage) -> None:
    project = stage("config_from_environment")
    (project / ".env").write_text(ENV)
    assert theatre("check", "--project", project).exit_code == 1


def test_a_missing_env_file_is_a_usage_error(stage: Stage, tmp_path: Path) -> None:
    missing = tmp_path / "missing.env"
    run = theatre("check", "--project", stage(), "--env-file", missing)
    assert run.exit_code == 2
    assert f"--env-file: {missing} does not exist" in run.errors


def test_a_missing_env_file_setting_is_a_usage_error(stage: Stage) -> None:
    project = stage()
    add_setting(project, 'env-file = "missing.env"')
    run = theatre("map", "--project", project)
    assert run.exit_code == 2
    assert f"[tool.theatre] env-file: {project / 'missing.env'} does not exist" in run.errors


def test_env_file_syntax(tmp_path: Path) -> None:
    path = tmp_path / "all.env"
    path.write_text(
        "# comment\n"
        "\n"
        "PLAIN=value\n"
        "export EXPORTED=yes\n"
        "  SPACED = around  \n"
        'DOUBLE="two words # not a comment"\n'
        "SINGLE='$NOT_EXPANDED'\n"
        "TRAILING=kept # dropped\n"
        "EMPTY=\n"
        "EQUALS=a=b\n"
        "PLAIN=again\n"
    )
    assert read_env_file(path) == {
        "PLAIN": "again",
        "EXPORTED": "yes",
        "SPACED": "around",
        "DOUBLE": "two words # not a comment",
        "SINGLE": "$NOT_EXPANDED",
        "TRAILING": "kept",
        "EMPTY": "",
        "EQUALS": "a=b",
    }


@pytest.mark.parametrize("line", ["no equals sign", "1BAD=name", "OPEN='never closed", 'AFTER="quoted" tail'])
def test_a_line_that_is_not_key_value_is_refused_with_its_place(tmp_path: Path, line: str) -> None:
    path = tmp_path / "bad.env"
    path.write_text(f"GOOD=1\n{line}\n")
    with pytest.raises(UsageError, match=f"{path}:2"):
        read_env_file(path)
