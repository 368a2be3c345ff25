"""theatre act add, scene add, task add: on the fixture project, then checked by theatre check itself."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.command_line import Stage, theatre


def _tree(project: Path) -> dict[str, str]:
    return {p.relative_to(project).as_posix(): p.read_text() for p in sorted(project.rglob("*")) if p.is_file()}


def test_an_added_act_is_mounted_served_and_registered_and_the_check_stays_clean(stage: Stage) -> None:
    project = stage()
    added = theatre("act", "add", "billing", "--about", "Invoices and payments.", "--project", project)
    assert added.exit_code == 0, added.errors
    assert "play/acts/billing/scenes/overview.py" in added.output
    api = (project / "play" / "api.py").read_text()
    assert "from play.acts import billing, stage, wings\n" in api
    assert "for act in (stage, wings, billing):\n" in api
    celery = (project / "play" / "celery.py").read_text()  # this project lists its tasks packages by hand
    assert 'include=["play.acts.billing.tasks", "play.acts.stage.tasks", "play.acts.wings.tasks"]' in celery
    act = (project / "play/acts/billing/__init__.py").read_text()
    assert act.startswith('"""Act ``billing``: Invoices and payments.\n')
    assert (project / "tests/acts/billing/scenes/test_overview.py").is_file()
    assert (project / "tests/acts/billing/tasks/test_tidy.py").is_file()

    checked = theatre("check", "--project", project)
    assert checked.exit_code == 0, checked.output
    drawn = theatre("map", "--project", project, "--format", "json").json()
    billing = next(a for a in drawn["acts"] if a["name"] == "billing")
    assert [s["route"] for s in billing["scenes"]] == ["GET /billing/overview"]
    assert [t["name"] for t in billing["tasks"]] == ["billing.tidy"]


def test_scenes_and_tasks_added_later_join_the_act_in_order(stage: Stage) -> None:
    project = stage()
    theatre("act", "add", "billing", "--project", project)
    assert theatre("scene", "add", "billing", "late_fees", "--project", project).exit_code == 0
    assert theatre("scene", "add", "billing", "archive", "--project", project).exit_code == 0
    assert theatre("task", "add", "billing", "send_invoice", "--project", project).exit_code == 0

    act = (project / "play/acts/billing/__init__.py").read_text()
    assert "        from .scenes import archive, late_fees, overview\n" in act
    mounts = [line.strip() for line in act.splitlines() if "include_router" in line]
    expected = [f'value.include_router({s}.router, prefix="/billing")' for s in ("overview", "late_fees", "archive")]
    assert mounts == expected
    tasks = (project / "play/acts/billing/tasks/__init__.py").read_text()
    assert "from play.acts.billing.tasks import send_invoice, tidy\n" in tasks
    assert '__all__ = ["send_invoice", "tidy"]\n' in tasks

    drawn = theatre("map", "--project", project, "--format", "json").json()
    billing = next(a for a in drawn["acts"] if a["name"] == "billing")
    assert [s["route"] for s in billing["scenes"]] == [
        "GET /billing/overview",
        "GET /billing/late-fees",
        "GET /billing/archive",
    ]
    assert sorted(t["name"] for t in billing["tasks"]) == ["billing.send_invoice", "billing.tidy"]
    assert theatre("check", "--project", project).exit_code == 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("act", "add", "stage"), "act 'stage' already exists"),
        (("act", "add", "Billing"), "'Billing' cannot name an act"),
        (("act", "add", "class"), "'class' cannot name an act"),
        (("act", "add", "config"), "'config' is a module at the root of play"),
        (("scene", "add", "nowhere", "x"), "there is no act 'nowhere'"),
        (("scene", "add", "stage", "lines"), "lines.py already exists"),
        (("scene", "add", "stage", "cues"), "has no one-line 'from .scenes import ...'"),
        (("task", "add", "stage", "rehearsal"), "rehearsal.py already exists"),
        (("task", "add", "stage", "2nd"), "'2nd' cannot name a task"),
    ],
)
def test_refusals_say_why_in_one_line_and_write_nothing(stage: Stage, args: tuple[str, ...], message: str) -> None:
    project = stage()
    before = _tree(project)
    refused = theatre(*args, "--project", project)
    assert refused.exit_code == 2
    assert message in refused.errors
    assert len(refused.errors.strip().splitlines()) == 1
    assert _tree(project) == before


def test_a_folder_that_is_not_a_project_in_the_layout_is_refused(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.theatre]\npackage = "loose"\n')
    (tmp_path / "loose").mkdir()
    refused = theatre("act", "add", "billing", "--project", tmp_path)
    assert refused.exit_code == 2
    assert "is not a package in the theatre layout" in refused.errors
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["loose", "pyproject.toml"]
