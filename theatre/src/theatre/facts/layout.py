"""The package as the layout sees it on disk: its acts, their scenes and tasks, and where each module lives."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from theatre.facts.project import Project

ROOT_MODULES = ("__init__", "db", "config", "api", "celery")
ROOT_FOLDERS = ("models", "schema", "acts")


@dataclass(frozen=True)
class Act:
    """One folder under ``acts``: ``module`` is its package, the others are lists of module names."""

    name: str
    module: str
    directory: Path
    scene_modules: tuple[str, ...]
    task_modules: tuple[str, ...]

    @property
    def scenes(self) -> str:
        return f"{self.module}.scenes"

    @property
    def tasks(self) -> str:
        return f"{self.module}.tasks"


def is_package(directory: Path) -> bool:
    return (directory / "__init__.py").is_file()


def _python_files(folder: str, within: tuple[str, ...]) -> list[tuple[str, ...]]:
    """What ``rglob("*.py")`` finds under a package folder, as parts relative to it, except under folders that are
    not packages: read with ``os.scandir`` (pathlib costs more than the reading), not following symbolic links to
    folders, as rglob does not."""
    found: list[tuple[str, ...]] = []
    try:
        with os.scandir(folder) as scan:
            entries = list(scan)
    except PermissionError:
        return found
    for entry in entries:
        if entry.name.endswith(".py"):
            found.append((*within, entry.name))
        try:
            deeper = entry.is_dir() and not entry.is_symlink()
        except OSError:
            deeper = False
        if deeper and os.path.isfile(os.path.join(entry.path, "__init__.py")):
            found += _python_files(entry.path, (*within, entry.name))
    return found


def modules_in(directory: Path, dotted: str) -> tuple[str, ...]:
    """Every module of a package folder, the package itself first, found without importing anything; a module
    inside a folder that is not a package is none."""
    if not is_package(directory):
        return ()
    found = [dotted]
    for relative in sorted(_python_files(str(directory), ())):
        parts = PurePosixPath(*relative).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        if parts:
            found.append(".".join((dotted, *parts)))
    return tuple(found)


def stray_folders(directory: Path) -> tuple[Path, ...]:
    """Folders below a package that hold Python files but are not packages themselves (the topmost of each): what
    is in them is never imported by their act."""
    found: list[Path] = []
    with os.scandir(directory) as scan:  # as in _python_files: pathlib's iterdir costs more than the reading
        entries = sorted(scan, key=lambda entry: entry.name)
    for entry in entries:
        if entry.name.startswith((".", "__")) or not entry.is_dir():
            continue
        child = Path(entry.path)
        if os.path.isfile(os.path.join(entry.path, "__init__.py")):
            found += stray_folders(child)
        elif next(child.rglob("*.py"), None) is not None:
            found.append(child)
    return tuple(found)


@dataclass(frozen=True)
class Layout:
    """The acts of a project, the folders under ``acts`` that are not packages, and where each module lives."""

    project: Project
    acts: tuple[Act, ...]
    strays: tuple[Path, ...] = ()

    @property
    def package(self) -> str:
        return self.project.package

    def module_file(self, module: str) -> Path | None:
        """The file that defines a module of the package, or None for anything else."""
        if module != self.package and not module.startswith(f"{self.package}."):
            return None
        base = self.project.source_root.joinpath(*module.split("."))
        for candidate in (base / "__init__.py", base.with_suffix(".py")):
            if candidate.is_file():
                return candidate
        return None

    def relative_file(self, module: str) -> str:
        """A module's file as findings show it (the expected path when the module does not exist)."""
        path = self.module_file(module)
        return self.project.relative(path or self.project.source_root.joinpath(*module.split(".")).with_suffix(".py"))

    def act_of(self, module: str) -> Act | None:
        for act in self.acts:
            if module == act.module or module.startswith(f"{act.module}."):
                return act
        return None


def discover(project: Project) -> Layout:
    """Read the layout from the file system; whatever is missing is left for the layout rules to report."""
    acts_dir = project.package_dir / "acts"
    acts: list[Act] = []
    if acts_dir.is_dir():
        for directory in sorted(acts_dir.iterdir()):
            if not is_package(directory):
                continue
            module = f"{project.package}.acts.{directory.name}"
            acts.append(
                Act(
                    name=directory.name,
                    module=module,
                    directory=directory,
                    scene_modules=modules_in(directory / "scenes", f"{module}.scenes"),
                    task_modules=modules_in(directory / "tasks", f"{module}.tasks"),
                )
            )
    strays = stray_folders(acts_dir) if acts_dir.is_dir() else ()
    return Layout(project=project, acts=tuple(acts), strays=strays)
