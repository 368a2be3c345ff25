"""The command as people and machines use it: exit statuses, text and JSON, ignoring rules, help."""

from __future__ import annotations

from tests.command_line import Stage, add_setting, theatre
from theatre.rules.catalogue import RULES

RUNTIME_CODES = ("L105", "L106", "L107", "R301", "R302", "R303", "R304")


def _static_only() -> list[str]:
    """Options that skip both probes, for tests about the command rather than the rules."""
    return [arg for code in RUNTIME_CODES for arg in ("--ignore", code)]


def test_text_output_gives_place_code_message_and_hint(stage: Stage) -> None:
    run = theatre("check", "--project", stage("act_reaches_into_act"), *_static_only())
    lines = run.output.splitlines()
    assert lines[0].startswith("play/acts/wings/scenes/prompt.py:3: I203 act `wings` imports")
    assert lines[1].strip() == f"hint: {RULES['I203'].hint}"
    assert lines[-1].startswith("theatre: 1 finding in play (I203)")
    assert run.exit_code == 1


def test_a_clean_project_says_so_and_exits_0(stage: Stage) -> None:
    run = theatre("check", "--project", stage())
    assert run.output.startswith(f"theatre: play is clean ({len(RULES)} rules ran; ")
    assert run.exit_code == 0


def test_json_output_has_every_field(stage: Stage) -> None:
    document = theatre("check", "--project", stage("import_cycle"), "--format", "json", *_static_only()).json()
    assert document["package"] == "play"
    assert document["clean"] is False
    assert document["rules"] == {
        "run": [code for code in RULES if code not in RUNTIME_CODES],
        "not_run": [],
        "ignored": sorted(RUNTIME_CODES),
    }
    assert (document["not_run"], document["suppressed"], document["baselined"]) == ([], [], [])
    assert document["findings"] == [
        {
            "code": "I201",
            "message": "import cycle: play.models:3 → play.schema:3 → play.models",
            "file": "play/models/__init__.py",
            "line": 3,
            "hint": RULES["I201"].hint,
            "chain": ["play.models:3", "play.schema:3", "play.models"],
        }
    ]


def test_a_rule_ignored_on_the_command_line_is_not_reported(stage: Stage) -> None:
    run = theatre("check", "--project", stage("act_reaches_into_act"), "--ignore", "i203", *_static_only())
    assert "I203" in run.output.splitlines()[-1]  # named among the ignored
    assert run.exit_code == 0


def test_a_rule_ignored_in_pyproject_is_not_reported(stage: Stage) -> None:
    project = stage("act_reaches_into_act")
    add_setting(project, 'ignore = ["I203"]')
    assert theatre("check", "--project", project, *_static_only()).exit_code == 0


def test_the_package_can_be_named_on_the_command_line(stage: Stage) -> None:
    project = stage()
    (project / "pyproject.toml").unlink()
    assert theatre("check", "play", "--project", project, *_static_only()).exit_code == 0


def test_a_package_in_src_is_found(stage: Stage) -> None:
    project = stage()
    (project / "src").mkdir()
    (project / "play").rename(project / "src" / "play")
    run = theatre("check", "--project", project, "--format", "json")
    assert run.json()["findings"] == []


def test_an_unknown_package_exits_2(stage: Stage) -> None:
    run = theatre("check", "nothing", "--project", stage())
    assert run.exit_code == 2
    assert "no package 'nothing'" in run.errors


def test_a_misspelt_setting_exits_2(stage: Stage) -> None:
    project = stage()
    (project / "pyproject.toml").write_text('[tool.theatre]\npackage = "play"\nignroe = ["I203"]\n')
    run = theatre("check", "--project", project)
    assert run.exit_code == 2
    assert "unknown keys: ignroe" in run.errors


def test_no_package_named_anywhere_exits_2(stage: Stage) -> None:
    project = stage()
    (project / "pyproject.toml").unlink()
    run = theatre("check", "--project", project)
    assert run.exit_code == 2
    assert "which package?" in run.errors


def test_an_unknown_rule_to_ignore_exits_2(stage: Stage) -> None:
    run = theatre("check", "--project", stage(), "--ignore", "X999")
    assert run.exit_code == 2
    assert "no such rule: X999" in run.errors


def test_source_that_cannot_be_parsed_exits_2(stage: Stage) -> None:
    project = stage()
    (project / "play" / "broken.py").write_text("def (:\n")
    run = theatre("check", "--project", project, *_static_only())
    assert run.exit_code == 2
    assert "cannot build the import graph of play" in run.errors


def test_an_unknown_format_exits_2(stage: Stage) -> None:
    assert theatre("check", "--project", stage(), "--format", "xml").exit_code == 2


def test_help_explains_the_command_and_each_subcommand() -> None:
    top = theatre("--help")
    assert top.exit_code == 0
    assert "[tool.theatre]" in top.output
    assert all(command in top.output for command in ("check", "map", "rules"))
    check = theatre("check", "--help").output
    assert "Exit status: 0 clean (every rule ran, nothing found), 1 findings or rules not run" in " ".join(
        check.split()
    )
    assert all(option in check for option in ("--format", "--project", "--ignore", "--strict", "--write-baseline"))
    drawing = theatre("map", "--help").output
    assert all(word in drawing for word in ("mermaid", ".apply_async", "enqueue-helpers"))


def test_rules_lists_every_code() -> None:
    listing = theatre("rules").output
    assert all(code in listing for code in RULES)
