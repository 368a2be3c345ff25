"""Where the project is, which package to look at, and what ``[tool.theatre]`` in its pyproject asks for."""

from __future__ import annotations

import functools
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DEFAULT_ENQUEUE_HELPERS = ("enqueue",)
DEFAULT_WEB_FRAMEWORK = ("fastapi", "starlette")
KNOWN_KEYS = {"package", "ignore", "enqueue-helpers", "worker-only", "web-framework"}


class UsageError(Exception):
    """The command cannot run as asked (no package, bad configuration): exit status 2."""


@dataclass(frozen=True)
class Settings:
    """The ``[tool.theatre]`` table, with the defaults a project in the layout needs."""

    package: str | None = None
    ignore: frozenset[str] = frozenset()
    enqueue_helpers: tuple[str, ...] = DEFAULT_ENQUEUE_HELPERS
    worker_only: tuple[str, ...] = ()
    web_framework: tuple[str, ...] = DEFAULT_WEB_FRAMEWORK


@dataclass(frozen=True)
class Project:
    """A package on disk and the directory its processes start from (where the pyproject is)."""

    root: Path
    package: str
    source_root: Path
    settings: Settings = field(default_factory=Settings)

    @property
    def package_dir(self) -> Path:
        return self.source_root / self.package

    def relative(self, path: Path | str) -> str:
        """A path as findings show it: relative to the project root when inside it, always with slashes."""
        text = os.fspath(path)
        if os.path.isabs(text):  # the same file every time it is asked for (a map asks for each route's)
            return _shown(text, self.root)
        return _shown.__wrapped__(text, self.root)


@functools.cache
def _shown(path: str, root: Path) -> str:
    absolute = Path(path).resolve()
    try:
        return absolute.relative_to(_resolved(root)).as_posix()
    except ValueError:
        return absolute.as_posix()


@functools.cache
def _resolved(path: Path) -> Path:
    return path.resolve()


def _strings(table: dict[str, Any], key: str, default: tuple[str, ...]) -> tuple[str, ...]:
    value = table.get(key, list(default))
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise UsageError(f"[tool.theatre] {key} must be a list of strings")
    return tuple(value)


def read_settings(pyproject: Path) -> Settings:
    """``[tool.theatre]`` of one pyproject; unknown keys are refused so a typo never silently disables a rule."""
    try:
        document = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise UsageError(f"cannot read {pyproject}: {error}") from error
    table = document.get("tool", {}).get("theatre", {})
    if not isinstance(table, dict):
        raise UsageError("[tool.theatre] must be a table")
    unknown = sorted(set(table) - KNOWN_KEYS)
    if unknown:
        raise UsageError(
            f"[tool.theatre] has unknown keys: {', '.join(unknown)} (known: {', '.join(sorted(KNOWN_KEYS))})"
        )
    package = table.get("package")
    if package is not None and not isinstance(package, str):
        raise UsageError("[tool.theatre] package must be a string")
    return Settings(
        package=package,
        ignore=frozenset(code.upper() for code in _strings(table, "ignore", ())),
        enqueue_helpers=_strings(table, "enqueue-helpers", DEFAULT_ENQUEUE_HELPERS),
        worker_only=_strings(table, "worker-only", ()),
        web_framework=_strings(table, "web-framework", DEFAULT_WEB_FRAMEWORK),
    )


def _find_pyproject(start: Path) -> Path | None:
    for folder in (start, *start.parents):
        if (folder / "pyproject.toml").is_file():
            return folder / "pyproject.toml"
    return None


def locate(package: str | None = None, project_dir: Path | None = None) -> Project:
    """The project to check: ``project_dir`` as given, else the nearest pyproject above the working directory.

    The package folder is looked for in ``src/`` first, then beside the pyproject (the two usual layouts).
    """
    if project_dir is not None:
        if not project_dir.is_dir():
            raise UsageError(f"{project_dir} is not a directory")
        root = project_dir.resolve()
        pyproject: Path | None = root / "pyproject.toml" if (root / "pyproject.toml").is_file() else None
    else:
        pyproject = _find_pyproject(Path(os.getcwd()).resolve())
        root = pyproject.parent if pyproject else Path(os.getcwd()).resolve()
    settings = read_settings(pyproject) if pyproject else Settings()
    name = package or settings.package
    if not name:
        raise UsageError("which package? Name it (theatre check PACKAGE) or set [tool.theatre] package")
    if not name.isidentifier():
        raise UsageError(f"{name!r} is not a top-level package name")
    for source_root in (root / "src", root):
        if (source_root / name).is_dir():
            return Project(root=root, package=name, source_root=source_root, settings=settings)
    raise UsageError(f"no package {name!r} in {root / 'src'} or {root}")
