"""Each rule, broken once in a fixture project, is reported with its code, file and line, and nothing else is."""

from __future__ import annotations

import pytest

from tests.command_line import Stage, theatre

Expected = tuple[str, str, int | None]

CASES: dict[str, tuple[tuple[str, ...], list[Expected]]] = {
    # layout on disk
    "missing_root_module": (("play/db.py",), [("L101", "play/db.py", None)]),
    "missing_root_folder": (("play/schema",), [("L102", "play/schema/__init__.py", None)]),
    "act_without_scenes": ((), [("L103", "play/acts/props/scenes/__init__.py", None)]),
    "act_without_tasks": ((), [("L104", "play/acts/lobby/tasks/__init__.py", None)]),
    "act_without_router": ((), [("L105", "play/acts/wings/__init__.py", None)]),
    "scene_not_aggregated": ((), [("L106", "play/acts/stage/scenes/curtain.py", 8)]),
    "api_misses_act": ((), [("L107", "play/api.py", None)]),
    # imports
    "import_cycle": ((), [("I201", "play/models/__init__.py", 3)]),
    "foundation_imports_act": ((), [("I202", "play/db.py", 3)]),
    "act_reaches_into_act": ((), [("I203", "play/acts/wings/scenes/prompt.py", 3)]),
    "acts_in_cycle": ((), [("I204", "play/acts/stage/scenes/cue_sheet.py", 3)]),
    "tasks_import_web": ((), [("I205", "play/acts/stage/tasks/notes.py", 3)]),
    "tasks_import_scenes": ((), [("I205", "play/acts/stage/tasks/cast_list.py", 3)]),
    "scene_imports_act_init": ((), [("I206", "play/acts/stage/scenes/encore.py", 3)]),
    # the original layout's trap: the cycle, the rule, and the crash it causes when the API starts
    "scene_imports_own_init": (
        (),
        [
            ("I201", "play/acts/stage/scenes/__init__.py", 5),
            ("I206", "play/acts/stage/scenes/prologue.py", 3),
            ("R304", "play/acts/stage/scenes/prologue.py", 3),
        ],
    ),
    # the two processes
    "task_not_registered": ((), [("R301", "play/acts/stage/tasks/understudy.py", 6)]),
    "worker_loads_web": ((), [("R302", "play/acts/stage/tasks/timing.py", 5)]),
    "api_loads_worker_only": ((), [("R303", "play/acts/stage/tasks/rehearsal.py", 4)]),
    "api_fails_to_import": ((), [("R304", "play/api.py", 6)]),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_broken_rule_is_reported_with_its_code_file_and_line(stage: Stage, case: str) -> None:
    remove, expected = CASES[case]
    project = stage(None if remove else case, remove=remove)
    run = theatre("check", "--project", project, "--format", "json")
    found = [(f["code"], f["file"], f["line"]) for f in run.json()["findings"]]
    assert found == expected
    assert run.exit_code == 1


def test_the_clean_fixture_reports_nothing(stage: Stage) -> None:
    run = theatre("check", "--project", stage(), "--format", "json")
    assert run.json()["findings"] == []
    assert run.exit_code == 0


def _finding(case: str, stage: Stage, code: str) -> dict[str, object]:
    findings = theatre("check", "--project", stage(case), "--format", "json").json()["findings"]
    return next(f for f in findings if f["code"] == code)


def test_an_import_rule_shows_the_chain_that_breaks_it(stage: Stage) -> None:
    cycle = _finding("import_cycle", stage, "I201")
    assert cycle["chain"] == ["play.models:3", "play.schema:3", "play.models"]
    assert "play.models:3 → play.schema:3 → play.models" in str(cycle["message"])


def test_an_act_cycle_names_an_import_each_way(stage: Stage) -> None:
    cycle = _finding("acts_in_cycle", stage, "I204")
    assert cycle["chain"] == [
        "play.acts.stage.scenes.cue_sheet:3 → play.acts.wings",
        "play.acts.wings.scenes.cues:5 → play.acts.stage",
    ]


def test_a_runtime_rule_shows_the_imports_as_the_process_ran_them(stage: Stage) -> None:
    loaded = _finding("api_loads_worker_only", stage, "R303")
    assert loaded["chain"] == [
        "play.api:9",
        "play.acts.stage:23",
        "play.acts.stage:14",
        "play.acts.stage.scenes.lines:5",
        "play.acts.stage.tasks:3",
        "play.acts.stage.tasks.rehearsal:4",
        "play.mailroom",
    ]


def test_the_worker_rule_sees_an_import_made_inside_a_function(stage: Stage) -> None:
    loaded = _finding("worker_loads_web", stage, "R302")
    assert loaded["chain"] == [
        "play.acts.stage.tasks:3",
        "play.acts.stage.tasks.timing:10",
        "play.acts.stage.tasks.timing:5",
        "fastapi",
    ]


def test_the_trap_is_explained_in_the_hint(stage: Stage) -> None:
    trap = _finding("scene_imports_own_init", stage, "I206")
    assert "`router` from `play.acts.stage.scenes`" in str(trap["message"])
    assert "half-initialised" in str(trap["hint"])
