"""Where the project is, which package to look at, and what ``[tool.theatre]`` in its pyproject asks for."""

from __future__ import annotations

import functools
import os
import re
import sys
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DEFAULT_ENQUEUE_HELPERS = ("enqueue", "queue_task")
DEFAULT_WEB_FRAMEWORK = ("fastapi", "starlette")
DEFAULT_PROBE_TIMEOUT = 120.0
KNOWN_KEYS = {
    "package",
    "ignore",
    "enqueue-helpers",
    "worker-only",
    "web-framework",
    "python",
    "env-file",
    "probe-timeout",
    "baseline",
    "strict",
}
# where a project's own virtual environment keeps its interpreter, beside its pyproject (POSIX, then Windows)
PROJECT_INTERPRETERS = (Path(".venv", "bin", "python"), Path(".venv", "Scripts", "python.exe"))
ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


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
    python: str | None = None
    env_file: str | None = None
    probe_timeout: float = DEFAULT_PROBE_TIMEOUT
    baseline: str | None = None
    strict: bool = False


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
    package, python, env_file, baseline = (_string(table, key) for key in ("package", "python", "env-file", "baseline"))
    timeout = table.get("probe-timeout", DEFAULT_PROBE_TIMEOUT)
    if isinstance(timeout, bool) or not isinstance(timeout, int | float) or timeout <= 0:
        raise UsageError("[tool.theatre] probe-timeout must be a number of seconds above 0")
    if not isinstance(table.get("strict", False), bool):
        raise UsageError("[tool.theatre] strict must be true or false")
    return Settings(
        package=package,
        ignore=frozenset(code.upper() for code in _strings(table, "ignore", ())),
        enqueue_helpers=_strings(table, "enqueue-helpers", DEFAULT_ENQUEUE_HELPERS),
        worker_only=_strings(table, "worker-only", ()),
        web_framework=_strings(table, "web-framework", DEFAULT_WEB_FRAMEWORK),
        python=python,
        env_file=env_file,
        probe_timeout=float(timeout),
        baseline=baseline,
        strict=table.get("strict", False),
    )


def _string(table: dict[str, Any], key: str) -> str | None:
    value = table.get(key)
    if value is not None and not isinstance(value, str):
        raise UsageError(f"[tool.theatre] {key} must be a string")
    return value


def _find_pyproject(start: Path) -> Path | None:
    for folder in (start, *start.parents):
        if (folder / "pyproject.toml").is_file():
            return folder / "pyproject.toml"
    return None


def project_root(project_dir: Path | None = None) -> Path:
    """``project_dir`` as given, else the folder of the nearest pyproject above the working directory."""
    if project_dir is not None:
        if not project_dir.is_dir():
            raise UsageError(f"{project_dir} is not a directory")
        return project_dir.resolve()
    pyproject = _find_pyproject(Path(os.getcwd()).resolve())
    return pyproject.parent if pyproject else Path(os.getcwd()).resolve()


def locate(package: str | None = None, project_dir: Path | None = None) -> Project:
    """The project to check: ``project_dir`` as given, else the nearest pyproject above the working directory.

    The package folder is looked for in ``src/`` first, then beside the pyproject (the two usual layouts).
    """
    root = project_root(project_dir)
    pyproject = root / "pyproject.toml" if (root / "pyproject.toml").is_file() else None
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


@dataclass(frozen=True)
class ProbeSettings:
    """How the probes run: in which interpreter, with which variables added, and for how long at most."""

    python: Path
    environment: Mapping[str, str] = field(default_factory=dict)
    timeout: float = DEFAULT_PROBE_TIMEOUT


def resolve_probe_settings(
    project: Project, python: Path | None = None, env_file: Path | None = None, timeout: float | None = None
) -> ProbeSettings:
    """The command line's choices, else ``[tool.theatre]``'s (paths relative to the project root), else defaults:
    the project's own ``.venv`` interpreter when it has one, theatre's otherwise, and no environment file."""
    settings = project.settings
    if python is not None:
        interpreter = _runnable(python, "--python")
    elif settings.python is not None:
        interpreter = _runnable(project.root / settings.python, "[tool.theatre] python")
    else:
        interpreter = next(
            (project.root / path for path in PROJECT_INTERPRETERS if _is_runnable(project.root / path)),
            Path(sys.executable),
        )
    if env_file is not None:
        environment = read_env_file(env_file, "--env-file")
    elif settings.env_file is not None:
        environment = read_env_file(project.root / settings.env_file, "[tool.theatre] env-file")
    else:
        environment = {}
    return ProbeSettings(interpreter, environment, settings.probe_timeout if timeout is None else timeout)


def _is_runnable(path: Path) -> bool:
    return path.is_file() and os.access(path, os.X_OK)


def _runnable(path: Path, origin: str) -> Path:
    """An interpreter as given, made absolute but not resolved: a venv's ``python`` is a symlink whose target
    would start outside the venv."""
    absolute = Path(os.path.abspath(path))
    if not absolute.exists():
        raise UsageError(f"{origin}: {absolute} does not exist")
    if not _is_runnable(absolute):
        raise UsageError(f"{origin}: {absolute} is not an executable file")
    return absolute


def read_env_file(path: Path, origin: str = "env file") -> dict[str, str]:
    """``KEY=VALUE`` lines as ``.env`` files write them: ``#`` comments, blank lines, an optional ``export``, and
    one pair of matching quotes around a value (kept verbatim inside); unquoted values end at `` #``."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UsageError(f"{origin}: {path} does not exist") from None
    except (OSError, UnicodeDecodeError) as error:
        raise UsageError(f"{origin}: cannot read {path}: {error}") from error
    variables: dict[str, str] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("export ") or line.startswith("export\t"):
            line = line[len("export") :].lstrip()
        key, equals, value = line.partition("=")
        key, value = key.strip(), value.strip()
        if not equals or not ENV_NAME.fullmatch(key):
            raise UsageError(f"{origin}: {path}:{number} is not KEY=VALUE: {raw.strip()!r}")
        if value[:1] in ("'", '"'):
            closing = value.find(value[0], 1)
            if closing == -1 or value[closing + 1 :].strip()[:1] not in ("", "#"):
                raise UsageError(f"{origin}: {path}:{number} has an unclosed or trailing quote: {raw.strip()!r}")
            value = value[1:closing]
        else:
            value = value.split(" #", 1)[0].rstrip()
        variables[key] = value
    return variables
