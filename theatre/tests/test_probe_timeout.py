"""A probe that never answers (too slow, os._exit, a crash) is reported with where the project's code was, and the
check reports its rules as not run; a sys.exit() at import is an import failure like any other."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest

from tests.command_line import Stage, add_setting, theatre
from theatre.facts.layout import discover
from theatre.facts.project import ProbeSettings, locate, resolve_probe_settings
from theatre.probes.launcher import ProbeError, probing

SCENE = "play/acts/stage/scenes/lines.py"
# how the API reaches the scene: the app includes the act's router, which the act builds on first use
CHAIN = ("play/api.py:9", "play/acts/stage/__init__.py:23", "play/acts/stage/__init__.py:14", f"{SCENE}:7")


def _probe_error(project: Path, settings: ProbeSettings | None = None) -> ProbeError:
    located = locate(project_dir=project)
    with pytest.raises(ProbeError) as caught, probing(discover(located), ["api"], settings or SETTINGS) as probes:
        probes["api"].result()
    return caught.value


SETTINGS = ProbeSettings(Path(sys.executable), {}, 30)


def test_a_probe_past_its_timeout_says_where_it_waits_and_its_rules_are_not_run(stage: Stage) -> None:
    project = stage("scene_hangs")
    started = time.monotonic()
    run = theatre("check", "--project", project, "--timeout", "2", "--format", "json")
    assert time.monotonic() - started < 10  # the scene sleeps for 60
    assert run.exit_code == 1
    [entry] = run.json()["not_run"]
    assert entry["codes"] == ["L105", "L106", "L107", "R303", "R304"]
    assert (entry["file"], entry["line"]) == (SCENE, 7)
    assert entry["reason"].startswith(f"the api probe did not finish in 2 s, at {SCENE}:7")
    assert " → ".join(CHAIN[:-1]) in entry["reason"]


def test_the_timeout_can_be_set_in_pyproject_and_the_error_carries_its_place(stage: Stage) -> None:
    project = stage("scene_hangs")
    add_setting(project, "probe-timeout = 1.5")
    started = time.monotonic()
    error = _probe_error(project, resolve_probe_settings(locate(project_dir=project)))
    assert time.monotonic() - started < 10
    assert (error.side, error.reason, error.file, error.line) == ("api", "timeout", SCENE, 7)
    assert error.chain == CHAIN
    assert error.where == f"{SCENE}:7"
    assert error.as_json() == {
        "side": "api",
        "reason": "timeout",
        "message": str(error),
        "file": SCENE,
        "line": 7,
        "chain": list(CHAIN),
    }


def test_os_exit_at_import_is_reported_with_where(stage: Stage) -> None:
    error = _probe_error(stage("scene_exits"))
    assert (error.side, error.reason, error.file, error.line) == ("api", "exit", SCENE, 7)
    assert str(error).startswith(f"the api probe was ended by the project's os._exit(3), at {SCENE}:7")


def test_os_exit_stops_map_too(stage: Stage) -> None:
    run = theatre("map", "--project", stage("scene_exits"))
    assert run.exit_code == 2
    assert f"os._exit(3), at {SCENE}:7" in run.errors


def test_a_crash_at_import_is_reported_with_where(stage: Stage) -> None:
    error = _probe_error(stage("scene_segfaults"))
    assert (error.side, error.reason, error.file, error.line) == ("api", "crash", SCENE, 8)
    assert "crashed (Segmentation fault)" in str(error)


def test_sys_exit_at_import_is_an_import_failure_with_its_place(stage: Stage) -> None:
    run = theatre("check", "--project", stage("scene_calls_sys_exit"), "--format", "json")
    assert run.exit_code == 1
    [finding] = run.json()["findings"]
    assert (finding["code"], finding["file"], finding["line"]) == ("R304", SCENE, 7)
    assert finding["message"] == "import play.api fails: SystemExit: 3"


def test_a_probe_that_exits_without_a_trace_shows_its_output(stage: Stage, tmp_path: Path) -> None:
    python = tmp_path / "python"
    python.write_text("#!/bin/sh\necho 'no such interpreter here' >&2\nexit 7\n")
    python.chmod(0o755)
    run = theatre("check", "--project", stage(), "--python", python)
    assert run.exit_code == 1
    assert "probe exited with status 7 without answering:\nno such interpreter here" in run.output
    assert "rules did not run" in run.output.splitlines()[-1]


def test_a_timeout_that_is_not_a_positive_number_is_a_usage_error(stage: Stage) -> None:
    project = stage()
    assert theatre("check", "--project", project, "--timeout", "0").exit_code == 2
    add_setting(project, 'probe-timeout = "soon"')
    run = theatre("check", "--project", project)
    assert run.exit_code == 2
    assert "probe-timeout must be a number of seconds above 0" in run.errors
