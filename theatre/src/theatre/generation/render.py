"""Rendering a template folder: every ``{{ name }}`` in a file's path or text becomes the answer called ``name``.

Deliberately not Jinja: a template here is a working project with a few names left open, so it needs no logic,
and a placeholder nobody answers is an error instead of an empty string.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

PLACEHOLDER = re.compile(r"\{\{ ([a-z_]+) \}\}")
TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
SKIPPED = {"__pycache__", ".mypy_cache", ".ruff_cache", ".pytest_cache"}


class TemplateError(Exception):
    """A template asks for an answer nobody gave, or cannot be read."""


@dataclass(frozen=True)
class Template:
    """A folder of files to render (``files/``) and its version (``template.toml``)."""

    root: Path

    @property
    def version(self) -> str:
        try:
            version = tomllib.loads((self.root / "template.toml").read_text(encoding="utf-8"))["version"]
        except (OSError, KeyError, tomllib.TOMLDecodeError) as error:
            raise TemplateError(f"{self.root / 'template.toml'} has no version: {error}") from error
        return str(version)

    def render(self, answers: Mapping[str, str]) -> dict[str, str]:
        """Every file of the template, as ``{relative path: text}`` with the answers filled in."""
        files = self.root / "files"
        if not files.is_dir():
            raise TemplateError(f"{self.root} has no files/ folder")
        return {
            fill(relative, answers, where=str(path)): fill(path.read_text(encoding="utf-8"), answers, where=str(path))
            for relative, path in files_in(files).items()
        }


def files_in(folder: Path) -> dict[str, Path]:
    """The files under ``folder`` by relative path, in order, without the caches tools leave beside them."""
    paths = (path for path in sorted(folder.rglob("*")) if path.is_file())
    return {
        path.relative_to(folder).as_posix(): path for path in paths if not SKIPPED & set(path.relative_to(folder).parts)
    }


def builtin(name: str) -> Template:
    """One of theatre's own templates: ``project``, ``act``, ``scene`` or ``task``."""
    return Template(TEMPLATES / name)


def fill(text: str, answers: Mapping[str, str], *, where: str) -> str:
    def answer(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in answers:
            raise TemplateError(f"{where}: no answer for {{{{ {name} }}}}")
        return answers[name]

    return PLACEHOLDER.sub(answer, text)


def write(rendered: Mapping[str, str], destination: Path) -> list[Path]:
    """Write rendered files under ``destination``; shell scripts keep their executable bit."""
    written = []
    for relative, text in rendered.items():
        target = destination / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
        if text.startswith("#!"):
            target.chmod(0o755)
        written.append(target)
    return written
