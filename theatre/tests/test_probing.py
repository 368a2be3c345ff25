"""Starting and stopping the probes, written once: which sides start, and that none outlives its command."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tests.command_line import Stage, theatre
from theatre.facts.layout import discover
from theatre.facts.project import DEFAULT_PROBE_TIMEOUT, ProbeSettings, locate, resolve_probe_settings
from theatre.probes.launcher import probing

SETTINGS = ProbeSettings(Path(sys.executable))


def test_probes_are_killed_reaped_and_cleaned_up_however_the_block_is_left(stage: Stage) -> None:
    layout = discover(locate(project_dir=stage("scene_hangs")))
    with pytest.raises(RuntimeError), probing(layout, ["api", "worker"], SETTINGS) as probes:  # noqa: PT012
        assert sorted(probes) == ["api", "worker"]
        folder = probes["api"].folder
        raise RuntimeError("a static rule fails")
    assert all(probe.process.returncode is not None for probe in probes.values())
    assert not folder.exists()


def test_a_side_without_its_root_module_is_not_started(stage: Stage) -> None:
    layout = discover(locate(project_dir=stage(remove=("play/celery.py",))))
    with probing(layout, ["api", "worker"], SETTINGS) as probes:
        assert list(probes) == ["api"]


@pytest.mark.parametrize(
    ("case", "side", "module", "expected"),
    [
        ("api_package_fails", "api", "play/api.py", ("play/api/__init__.py", 6)),
        ("celery_package_fails", "worker", "play/celery.py", ("play/celery/__init__.py", 7)),
    ],
)
def test_a_side_whose_root_module_is_a_package_is_probed(
    stage: Stage, case: str, side: str, module: str, expected: tuple[str, int]
) -> None:
    """Each package fails to import: the side's own probe reports it, and check makes it an R304."""
    project = stage(case, remove=(module,))
    layout = discover(locate(project_dir=project))
    with probing(layout, [side], SETTINGS) as probes:
        [failure] = probes[side].result()["failures"]
    assert failure["frames"][-1]["line"] == expected[1]
    run = theatre("check", "--project", project, "--format", "json")
    assert [(f["code"], f["file"], f["line"]) for f in run.json()["findings"]] == [("R304", *expected)]
    assert run.exit_code == 1


def test_the_default_timeout_is_two_minutes(stage: Stage) -> None:
    assert resolve_probe_settings(locate(project_dir=stage())).timeout == DEFAULT_PROBE_TIMEOUT == 120
