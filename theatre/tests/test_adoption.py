"""Adopting theatre in a project that already has findings: per-line suppression, a baseline, and cycles closed on
purpose by an import inside a function (reported only with --strict)."""

from __future__ import annotations

import json
from pathlib import Path

from tests.command_line import Stage, add_setting, theatre

PROMPT = Path("play/acts/wings/scenes/prompt.py")  # the act_reaches_into_act case: I203 at line 3
REACHING_LINE = "from play.acts.stage.tasks.rehearsal import rehearse"
RUNTIME_CODES = ("L105", "L106", "L107", "R301", "R302", "R303", "R304")
STATIC = tuple(arg for code in RUNTIME_CODES for arg in ("--ignore", code))  # no probes: faster


def _mark(project: Path, comment: str) -> None:
    path = project / PROMPT
    path.write_text(path.read_text().replace(REACHING_LINE, f"{REACHING_LINE}  {comment}"))


def test_a_suppressed_line_is_not_reported_but_counted(stage: Stage) -> None:
    project = stage("act_reaches_into_act")
    _mark(project, "# theatre: ignore[I203]")
    run = theatre("check", "--project", project, "--format", "json")
    assert run.json()["findings"] == []
    assert [(f["code"], f["file"], f["line"]) for f in run.json()["suppressed"]] == [("I203", PROMPT.as_posix(), 3)]
    assert run.exit_code == 0
    assert "1 suppressed" in theatre("check", "--project", project).output.splitlines()[-1]


def test_a_suppression_names_its_codes_and_silences_only_those(stage: Stage) -> None:
    project = stage("act_reaches_into_act")
    _mark(project, "# theatre: ignore[I201, I206]")
    run = theatre("check", "--project", project, "--format", "json", *STATIC)
    assert [f["code"] for f in run.json()["findings"]] == ["I203"]
    assert run.exit_code == 1


def test_a_bare_suppression_silences_every_rule_on_its_line(stage: Stage) -> None:
    project = stage("act_reaches_into_act")
    _mark(project, "# theatre: ignore")
    assert theatre("check", "--project", project, *STATIC).exit_code == 0


def test_a_baseline_silences_old_findings_and_reports_a_new_one(stage: Stage, tmp_path: Path) -> None:
    project = stage("act_reaches_into_act")
    baseline = tmp_path / "baseline.json"
    written = theatre("check", "--project", project, "--write-baseline", "--baseline", baseline, *STATIC)
    assert written.exit_code == 0
    assert f"wrote 1 findings to {baseline}" in written.output
    entries = json.loads(baseline.read_text())["findings"]
    assert [(e["code"], e["file"]) for e in entries] == [("I203", PROMPT.as_posix())]

    # the old finding moves down two lines: still the baseline's
    prompt = project / PROMPT
    prompt.write_text("# moved\n# down\n" + prompt.read_text())
    old = theatre("check", "--project", project, "--baseline", baseline, "--format", "json", *STATIC).json()
    assert old["findings"] == []
    assert [f["line"] for f in old["baselined"]] == [5]

    # a second module reaching into the same act is new
    (prompt.parent / "cue_card.py").write_text(f'"""Also reaches in."""\n\n{REACHING_LINE}\n')
    new = theatre("check", "--project", project, "--baseline", baseline, "--format", "json", *STATIC)
    assert [(f["code"], f["file"]) for f in new.json()["findings"]] == [("I203", "play/acts/wings/scenes/cue_card.py")]
    assert new.exit_code == 1


def test_the_baseline_named_in_pyproject_is_written_and_read(stage: Stage) -> None:
    project = stage("act_reaches_into_act")
    add_setting(project, 'baseline = "theatre-baseline.json"')
    assert theatre("check", "--project", project, "--write-baseline", *STATIC).exit_code == 0
    assert (project / "theatre-baseline.json").is_file()
    run = theatre("check", "--project", project, *STATIC)
    assert run.exit_code == 0
    assert "1 in the baseline" in run.output.splitlines()[-1]


def test_a_missing_baseline_is_a_usage_error(stage: Stage, tmp_path: Path) -> None:
    run = theatre("check", "--project", stage(), "--baseline", tmp_path / "none.json", *STATIC)
    assert run.exit_code == 2
    assert "no baseline at" in run.errors


def test_a_cycle_closed_inside_a_function_is_reported_only_when_strict(stage: Stage) -> None:
    project = stage("function_level_cycle")
    relaxed = theatre("check", "--project", project, "--format", "json")
    assert relaxed.json()["findings"] == []
    assert relaxed.exit_code == 0
    strict = theatre("check", "--project", project, "--format", "json", "--strict")
    assert [(f["code"], f["file"], f["line"]) for f in strict.json()["findings"]] == [
        ("I201", "play/models/__init__.py", 3)
    ]
    assert strict.exit_code == 1


def test_a_cycle_at_import_time_is_reported_without_strict(stage: Stage) -> None:
    run = theatre("check", "--project", stage("import_cycle"), "--format", "json", *STATIC)
    assert [f["code"] for f in run.json()["findings"]] == ["I201"]


def test_strict_can_be_set_in_pyproject(stage: Stage) -> None:
    project = stage("function_level_cycle")
    add_setting(project, "strict = true")
    findings = theatre("check", "--project", project, "--format", "json").json()["findings"]
    assert [f["code"] for f in findings] == ["I201"]
