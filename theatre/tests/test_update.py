"""theatre update: a later template version merged into a generated project that has local edits."""

from __future__ import annotations

import shutil
import tomllib
from pathlib import Path

from tests.command_line import theatre
from tests.earlier_template import (
    LOCAL_EDITS,
    OUTBOX_FILES,
    TEMPLATE_0_2_0,
    assert_made_today_but_for_the_local_edits,
    edit_locally,
)
from theatre.generation.render import builtin


def _template(tmp_path: Path, name: str, version: str) -> Path:
    """A copy of today's project template, called ``version``."""
    copy = tmp_path / name
    shutil.copytree(builtin("project").root, copy, ignore=shutil.ignore_patterns("__pycache__"))
    (copy / "template.toml").write_text(f'version = "{version}"\n')
    return copy


def _replace_first_line(path: Path, line: str) -> str:
    first, rest = path.read_text().split("\n", 1)
    path.write_text(f"{line}\n{rest}")
    return first


def test_a_new_template_version_comes_in_beside_local_edits_and_conflicts_are_listed(tmp_path: Path) -> None:
    old = _template(tmp_path, "template-0.2", "0.2.0")
    project = tmp_path / "shop"
    assert theatre("new", project, "--no-input", "--no-install", "--template", old).exit_code == 0

    # Local edits: one where the template will not change, one on the very line it will change.
    readme = project / "README.md"
    readme.write_text(readme.read_text() + "\nOur own notes on deploying the shop.\n")
    _replace_first_line(project / "Procfile", "api: uvicorn shop.api:app --port 9000")

    new = _template(tmp_path, "template-0.3", "0.3.0")
    files = new / "files"
    (files / "README.md").write_text("> Made from the theatre template.\n\n" + (files / "README.md").read_text())
    _replace_first_line(files / "Procfile", "api: uvicorn {{ package }}.api:app --workers 2")
    (files / "CHANGELOG.md").write_text("# {{ project }}: changes\n")
    (files / ".dockerignore").unlink()

    updated = theatre("update", "--project", project, "--template", new)
    assert updated.exit_code == 1, updated.output + updated.errors
    assert "template 0.2.0 -> 0.3.0" in updated.output
    assert "merged with your edits: README.md" in updated.output
    assert "CONFLICT: Procfile" in updated.output
    assert "added: CHANGELOG.md" in updated.output
    assert "removed: .dockerignore" in updated.output
    assert "conflicts in 1 file: resolve the marked lines" in updated.errors

    text = readme.read_text()
    assert text.startswith("> Made from the theatre template.\n")
    assert text.endswith("Our own notes on deploying the shop.\n")
    procfile = (project / "Procfile").read_text()
    assert "<<<<<<< yours\napi: uvicorn shop.api:app --port 9000\n" in procfile
    assert "=======\napi: uvicorn shop.api:app --workers 2\n>>>>>>> template 0.3.0\n" in procfile
    assert (project / "CHANGELOG.md").read_text() == "# shop: changes\n"
    assert not (project / ".dockerignore").exists()

    record = tomllib.loads((project / ".theatre/template.toml").read_text())
    assert record["version"] == "0.3.0"
    assert (project / ".theatre/baseline/CHANGELOG.md").is_file()
    again = theatre("update", "--project", project, "--template", new)
    assert again.exit_code == 0
    assert "nothing to bring in" in again.output


def test_a_file_edited_here_and_dropped_by_the_template_is_kept(tmp_path: Path) -> None:
    old = _template(tmp_path, "template-0.2", "0.2.0")
    project = tmp_path / "shop"
    theatre("new", project, "--no-input", "--no-install", "--template", old)
    (project / ".dockerignore").write_text("everything-we-ignore\n")
    new = _template(tmp_path, "template-0.3", "0.3.0")
    (new / "files/.dockerignore").unlink()

    updated = theatre("update", "--project", project, "--template", new)
    assert updated.exit_code == 0
    assert "kept as you have it: .dockerignore" in updated.output
    assert (project / ".dockerignore").read_text() == "everything-we-ignore\n"


def test_a_project_made_before_the_outbox_gets_it_and_keeps_its_edits(tmp_path: Path) -> None:
    """The real upgrade: a project from template 0.2.0 (no outbox, no retry policy), edited since, brought to
    today's template. Its own tests run in test_generated_project, whose project is made this same way."""
    project = tmp_path / "shop"
    assert theatre("new", project, "--no-input", "--no-install", "--template", TEMPLATE_0_2_0).exit_code == 0
    assert not (project / "src/shop/adapters/outbox.py").exists()
    edit_locally(project)

    updated = theatre("update", "--project", project)
    assert updated.exit_code == 0, updated.output + updated.errors
    assert f"template 0.2.0 -> {builtin('project').version}" in updated.output
    for relative in OUTBOX_FILES:
        assert f"added: {relative}\n" in updated.output
    for relative in LOCAL_EDITS:
        assert f"merged with your edits: {relative}\n" in updated.output
    assert "CONFLICT" not in updated.output
    assert_made_today_but_for_the_local_edits(project)


def test_a_project_theatre_did_not_make_is_refused(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'hand-made'\n")
    refused = theatre("update", "--project", tmp_path)
    assert refused.exit_code == 2
    assert "theatre new did not make it" in refused.errors
