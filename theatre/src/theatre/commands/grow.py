"""``theatre act add``, ``scene add``, ``task add``: a new act, scene or task in an existing project, written from
theatre's templates, with the few lines that list them edited (the API's act list, the act's scene imports, the
tasks package's imports). Everything is checked before the first file is written.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from theatre.facts.project import Project
from theatre.generation.names import NameRefused, part_name
from theatre.generation.render import builtin, write

DEFAULT_SCENE = "overview"
DEFAULT_TASK = "tidy"


@dataclass
class Plan:
    """Files to write and files to rewrite, all decided before anything touches the disk."""

    project: Project
    files: dict[str, str] = field(default_factory=dict)
    edits: dict[Path, str] = field(default_factory=dict)

    def add(self, rendered: dict[str, str]) -> None:
        for relative in rendered:
            if (self.project.root / relative).exists():
                raise NameRefused(f"{relative} already exists")
        self.files |= rendered

    def edit(self, path: Path, change: str) -> None:
        compile(change, str(path), "exec")  # an edit that breaks the module is a bug here, never the user's problem
        self.edits[path] = change

    def carry_out(self) -> list[Path]:
        written = write(self.files, self.project.root)
        for path, text in self.edits.items():
            path.write_text(text, encoding="utf-8")
        return written + list(self.edits)


def _answers(project: Project, act: str, **more: str) -> dict[str, str]:
    package_dir = project.package_dir.relative_to(project.root).as_posix()
    return {
        "package": project.package,
        "package_dir": package_dir,
        "act": act,
        "act_path": act.replace("_", "-"),
        **more,
    }


def _scene_answers(scene: str) -> dict[str, str]:
    return {
        "scene": scene,
        "scene_path": scene.replace("_", "-"),
        "scene_summary": scene.replace("_", " ").capitalize(),
    }


def _acts_dir(project: Project) -> Path:
    acts = project.package_dir / "acts"
    if not (acts / "__init__.py").is_file() or not (project.package_dir / "api.py").is_file():
        raise NameRefused(f"{project.package_dir} is not a package in the theatre layout (no api.py and acts/)")
    return acts


def _existing_act(project: Project, act: str) -> Path:
    folder = _acts_dir(project) / part_name("an act", act)
    if not (folder / "__init__.py").is_file():
        raise NameRefused(f"there is no act {act!r} in {folder.parent}")
    return folder


def _add_to_import(text: str, pattern: str, name: str, where: Path, shown: str) -> str:
    """``from X import a, c`` gains ``b`` in sorted place (the order isort keeps)."""
    line = re.search(pattern, text, re.MULTILINE)
    if line is None:
        raise NameRefused(f"{where} has no one-line '{shown}' to add {name!r} to: add it by hand")
    names = sorted({*(n.strip() for n in line.group("names").split(",")), name})
    return text[: line.start("names")] + ", ".join(names) + text[line.end("names") :]


def _mount_act(project: Project, act: str) -> tuple[Path, str]:
    api = project.package_dir / "api.py"
    text = api.read_text(encoding="utf-8")
    package = re.escape(project.package)
    text = _add_to_import(
        text, rf"^from {package}\.acts import (?P<names>[\w, ]+)$", act, api, "from <package>.acts import ..."
    )
    loop = re.search(r"^for act in \((?P<names>[\w, ]+)\):$", text, re.MULTILINE)
    if loop is None:
        raise NameRefused(f"{api} has no line like 'for act in (...):' to mount {act!r} in; add it by hand")
    mounted = [*(name.strip() for name in loop.group("names").split(",") if name.strip()), act]
    return api, text[: loop.start("names")] + ", ".join(mounted) + text[loop.end("names") :]


def _include_tasks(project: Project, act: str) -> tuple[Path, str] | None:
    """A Celery app that lists each act's tasks package by hand gets the new one listed; one that finds them by
    scanning the acts folder (as theatre's template does) needs nothing."""
    celery = project.package_dir / "celery.py"
    text = celery.read_text(encoding="utf-8") if celery.is_file() else ""
    package = re.escape(project.package)
    listed = re.search(
        rf"\[(?P<names>\s*\"{package}\.acts\.\w+\.tasks\"(,\s*\"{package}\.acts\.\w+\.tasks\")*,?\s*)\]", text
    )
    if listed is None:
        return None
    names = sorted({*re.findall(r'"([\w.]+)"', listed.group("names")), f"{project.package}.acts.{act}.tasks"})
    return celery, text[: listed.start("names")] + ", ".join(f'"{n}"' for n in names) + text[listed.end("names") :]


def with_scene(text: str, scene: str, where: Path) -> str:
    """An act ``__init__`` whose router also aggregates ``scene``, mounted after the scenes already there."""
    text = _add_to_import(text, r"^ +from \.scenes import (?P<names>[\w, ]+)$", scene, where, "from .scenes import ...")
    mounts = list(re.finditer(r"^( +)value\.include_router\(\w+\.router(, prefix=\"[^\"]*\")?\)$", text, re.MULTILINE))
    if not mounts:
        raise NameRefused(f"{where} has no 'value.include_router(...)' line to aggregate {scene!r} after")
    last = mounts[-1]  # the new scene is mounted after the others, under the same prefix
    mount = f"\n{last.group(1)}value.include_router({scene}.router{last.group(2) or ''})"
    return text[: last.end()] + mount + text[last.end() :]


def with_task(text: str, package: str, act: str, task: str, where: Path) -> str:
    """An act's tasks ``__init__`` that also imports (and so registers) ``task``."""
    module = re.escape(f"{package}.acts.{act}.tasks")
    shown = f"from {package}.acts.{act}.tasks import ..."
    text = _add_to_import(text, rf"^from {module} import (?P<names>[\w, ]+)$", task, where, shown)
    listed = re.search(r"^__all__ = \[(?P<names>[^\]]*)\]$", text, re.MULTILINE)
    if listed is None:
        raise NameRefused(f"{where} has no '__all__ = [...]' line to list {task!r} in; add it by hand")
    names = sorted({*re.findall(r'"(\w+)"', listed.group("names")), task})
    return text[: listed.start("names")] + ", ".join(f'"{n}"' for n in names) + text[listed.end("names") :]


def add_act(
    project: Project, act: str, *, about: str, scene: str = DEFAULT_SCENE, task: str = DEFAULT_TASK
) -> list[Path]:
    """The act's package with one scene and one task, their tests, and the act mounted in the API."""
    acts = _acts_dir(project)
    part_name("an act", act)
    part_name("a scene", scene)
    part_name("a task", task)
    if (acts / act).exists():
        raise NameRefused(f"act {act!r} already exists in {acts}")
    if (project.package_dir / act).exists() or (project.package_dir / f"{act}.py").exists():
        raise NameRefused(
            f"{act!r} is a module at the root of {project.package}: an act of that name would be confusing"
        )
    plan = Plan(project)
    answers = _answers(project, act, about=about, task=task) | _scene_answers(scene)
    for template in ("act", "scene", "task"):
        plan.add(builtin(template).render(answers))
    plan.edit(*_mount_act(project, act))
    included = _include_tasks(project, act)
    if included:
        plan.edit(*included)
    return plan.carry_out()


def add_scene(project: Project, act: str, scene: str) -> list[Path]:
    """A scene module and its test, aggregated into the act's router after the scenes already there."""
    folder = _existing_act(project, act)
    plan = Plan(project)
    plan.add(builtin("scene").render(_answers(project, act) | _scene_answers(part_name("a scene", scene))))
    init = folder / "__init__.py"
    plan.edit(init, with_scene(init.read_text(encoding="utf-8"), scene, init))
    return plan.carry_out()


def add_task(project: Project, act: str, task: str) -> list[Path]:
    """A task module and its test, imported by the act's tasks package so the worker registers it."""
    folder = _existing_act(project, act)
    plan = Plan(project)
    plan.add(builtin("task").render(_answers(project, act, task=part_name("a task", task))))
    tasks_init = folder / "tasks" / "__init__.py"
    if tasks_init.is_file():
        text = tasks_init.read_text(encoding="utf-8")
        plan.edit(tasks_init, with_task(text, project.package, act, task, tasks_init))
    else:
        act_files = builtin("act").render(_answers(project, act, about="", task=task) | _scene_answers(DEFAULT_SCENE))
        plan.add({path: text for path, text in act_files.items() if path.endswith("/tasks/__init__.py")})
    return plan.carry_out()
