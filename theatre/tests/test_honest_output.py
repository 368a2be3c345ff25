"""A check is clean only when every rule ran: what could not run is reported with why, never skipped silently."""

from __future__ import annotations

from tests.command_line import FIXTURES, Stage, theatre
from theatre.rules.catalogue import RULES


def test_an_api_that_cannot_be_imported_leaves_its_rules_not_run_and_exits_1(stage: Stage) -> None:
    run = theatre("check", "--project", stage("api_fails_to_import"), "--format", "json")
    document = run.json()
    assert [f["code"] for f in document["findings"]] == ["R304"]
    assert document["not_run"] == [
        {
            "codes": ["L107", "R303"],
            "reason": "`play.api:app` could not be imported (R304)",
            "file": "play/api.py",
            "line": None,
        }
    ]
    assert document["rules"]["not_run"] == ["L107", "R303"]
    assert "L107" not in document["rules"]["run"]
    assert document["clean"] is False
    assert run.exit_code == 1


def test_the_text_output_names_the_rules_not_run_and_counts_them(stage: Stage) -> None:
    run = theatre("check", "--project", stage("api_fails_to_import"))
    lines = run.output.splitlines()
    assert "play/api.py: not run: L107, R303: `play.api:app` could not be imported (R304)" in lines
    assert lines[-1].startswith(
        f"theatre: 1 finding in play (R304); {len(RULES) - 2} rules ran, 2 not run (L107, R303)"
    )


def test_a_worker_that_cannot_start_leaves_its_rules_not_run(stage: Stage) -> None:
    document = theatre("check", "--project", stage("worker_fails_to_import"), "--format", "json").json()
    assert [(f["code"], f["file"]) for f in document["findings"]] == [("R304", "play/celery.py")]
    assert "No module named 'play.acts.wigns'" in document["findings"][0]["message"]
    assert [(e["codes"], e["file"]) for e in document["not_run"]] == [(["R301", "R302"], "play/celery.py")]


def test_rules_that_only_failed_are_not_run_but_rules_that_were_ignored_are_not_counted_as_such(stage: Stage) -> None:
    run = theatre("check", "--project", stage("api_fails_to_import"), "--ignore", "R303", "--format", "json")
    assert run.json()["rules"]["not_run"] == ["L107"]
    assert run.json()["rules"]["ignored"] == ["R303"]


def test_an_act_without_a_router_leaves_its_scenes_unchecked_and_says_so(stage: Stage) -> None:
    document = theatre("check", "--project", stage("act_without_router"), "--format", "json").json()
    assert [f["code"] for f in document["findings"]] == ["L105"]
    assert document["not_run"] == [
        {
            "codes": ["L106", "L107"],
            "reason": "act `wings`: it exposes no router (L105)",
            "file": "play/acts/wings/__init__.py",
            "line": None,
        }
    ]


def test_a_missing_api_module_leaves_the_api_rules_not_run(stage: Stage) -> None:
    document = theatre("check", "--project", stage(remove=("play/api.py",)), "--format", "json").json()
    assert [f["code"] for f in document["findings"]] == ["L101"]
    assert document["not_run"] == [
        {
            "codes": ["L105", "L106", "L107", "R303", "R304"],
            "reason": "the API cannot start: there is no `play.api` (L101)",
            "file": "play/api.py",
            "line": None,
        }
    ]


def test_api_as_a_package_is_probed_like_a_module(stage: Stage) -> None:
    project = stage("api_as_package", remove=("play/api.py",))
    document = theatre("check", "--project", project, "--format", "json").json()
    assert [(f["code"], f["file"], f["line"]) for f in document["findings"]] == [
        ("R303", "play/acts/stage/scenes/lines.py", 4)
    ]
    assert document["findings"][0]["chain"][0] == "play.api:9"
    assert document["not_run"] == []


def test_api_as_a_clean_package_is_clean(stage: Stage) -> None:
    project = stage(remove=("play/api.py",))
    (project / "play" / "api").mkdir()
    (project / "play" / "api" / "__init__.py").write_text((FIXTURES / "base" / "play" / "api.py").read_text())
    run = theatre("check", "--project", project)
    assert run.output.startswith(f"theatre: play is clean ({len(RULES)} rules ran")
    assert run.exit_code == 0


def test_celery_as_a_package_is_probed_like_a_module(stage: Stage) -> None:
    project = stage("task_not_registered")
    (project / "play" / "celery").mkdir()
    (project / "play" / "celery.py").rename(project / "play" / "celery" / "__init__.py")
    document = theatre("check", "--project", project, "--format", "json").json()
    assert [f["code"] for f in document["findings"]] == ["R301"]
    assert document["not_run"] == []


def test_a_folder_under_acts_without_init_is_a_finding(stage: Stage) -> None:
    run = theatre("check", "--project", stage("act_folder_without_init"), "--format", "json")
    found = [(f["code"], f["file"]) for f in run.json()["findings"]]
    assert found == [
        ("L108", "play/acts/billing/__init__.py"),
        ("L108", "play/acts/stage/scenes/encores/__init__.py"),
    ]
    assert run.exit_code == 1
