"""theatre new: refusals before anything is written, and what a render holds (the full make test of a generated
project is in test_generated_project)."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from tests.command_line import theatre
from theatre import __version__
from theatre.commands.grow import with_scene
from theatre.generation.render import builtin


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--package", "Shop"), "'Shop' cannot name a package"),
        (("--package", "shop-app"), "'shop-app' cannot name a package"),
        (("--package", "celery"), "'celery' would shadow a library the project imports"),
        (("--package", "fastapi"), "'fastapi' would shadow a library the project imports"),
        (("--package", "json"), "'json' would shadow the standard library's module"),
        (("--package", "test"), "'test' names test code"),
        (("--package", "tests"), "'tests' names test code"),
        (("--name", "-shop"), "'-shop' is not a project name"),
    ],
)
def test_a_bad_name_is_refused_in_one_line_with_nothing_written(
    tmp_path: Path, args: tuple[str, ...], message: str
) -> None:
    refused = theatre("new", tmp_path / "shop", "--no-input", "--no-install", *args)
    assert refused.exit_code == 2
    assert message in refused.errors
    assert len(refused.errors.strip().splitlines()) == 1
    assert not (tmp_path / "shop").exists()


def test_a_folder_that_is_not_empty_is_refused_and_left_alone(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine\n")
    refused = theatre("new", tmp_path, "--no-input", "--no-install")
    assert refused.exit_code == 2
    assert "is not an empty folder" in refused.errors
    assert [p.name for p in tmp_path.iterdir()] == ["notes.txt"]


def test_the_default_package_comes_from_the_folder_name(tmp_path: Path) -> None:
    made = theatre("new", tmp_path / "Corner-Shop", "--no-input", "--no-install")
    assert made.exit_code == 0, made.errors
    assert (tmp_path / "Corner-Shop/src/corner_shop/api.py").is_file()


def test_a_render_holds_the_layout_and_records_what_made_it(tmp_path: Path) -> None:
    project = tmp_path / "shop"
    made = theatre("new", project, "--no-input", "--no-install")
    assert made.exit_code == 0, made.errors
    for module in ("__init__", "config", "db", "api", "celery"):
        assert (project / "src/shop" / f"{module}.py").is_file()
    for folder in ("models", "schema", "acts/notes/scenes", "acts/notes/tasks"):
        assert (project / "src/shop" / folder / "__init__.py").is_file()
    for path in ("Makefile", "README.md", "Dockerfile", "compose.yaml", ".ci/run", "pyproject.toml"):
        assert (project / path).is_file(), path
    assert (project / ".ci/run").stat().st_mode & 0o111
    files = [p for p in project.rglob("*") if p.is_file()]
    leftovers = [p for p in files if "{{ " in p.as_posix() or "{{ " in p.read_text(errors="replace")]
    assert leftovers == []
    for source in project.rglob("*.py"):
        compile(source.read_text(), str(source), "exec")

    record = tomllib.loads((project / ".theatre/template.toml").read_text())
    assert record["version"] == builtin("project").version
    assert record["answers"]["package"] == "shop"
    pyproject = tomllib.loads((project / "pyproject.toml").read_text())
    major, minor = __version__.split(".")[:2]
    assert f"theatre>={major}.{minor},<{major}.{int(minor) + 1}" in str(pyproject["dependency-groups"])
    baseline = project / ".theatre/baseline"
    assert (baseline / "src/shop/api.py").read_text() == (project / "src/shop/api.py").read_text()


def test_the_example_act_is_shaped_as_act_add_makes_one(tmp_path: Path) -> None:
    project = tmp_path / "shop"
    theatre("new", project, "--no-input", "--no-install")
    about = "write a note, read it back; the worker counts its words."
    answers = {"package": "shop", "package_dir": "src/shop", "act": "notes", "act_path": "notes", "about": about}
    made = builtin("act").render(answers | {"scene": "reading", "task": "word_count"})
    init = "src/shop/acts/notes/__init__.py"
    made[init] = with_scene(made[init], "writing", Path(init))
    for relative, text in made.items():
        assert (project / relative).read_text() == text, relative
