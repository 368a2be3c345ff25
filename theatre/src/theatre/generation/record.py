"""What a generated project remembers of its template: the version and answers it was last rendered with, and
that render untouched (the base of ``theatre update``'s three-way merge), all under ``.theatre/``.

Keeping the render itself, not only its version, is what lets an update run anywhere: no copy of the old template,
no network, no history of theatre's releases is needed to tell a local edit from a template change.
"""

from __future__ import annotations

import json
import shutil
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from theatre.generation.render import files_in, write

FOLDER = ".theatre"
RECORD = "template.toml"
BASELINE = "baseline"
HEADER = (
    "# Written by `theatre new` and `theatre update`: the template version this project was last brought to and\n"
    "# the answers it was rendered with. baseline/ beside it holds that render untouched: keep both in version\n"
    "# control, and let theatre change them.\n"
)


class RecordError(Exception):
    """The folder holds no project theatre generated, or its record is damaged."""


@dataclass(frozen=True)
class Record:
    version: str
    answers: dict[str, str]
    baseline: dict[str, str]


def write_record(root: Path, version: str, answers: Mapping[str, str], rendered: Mapping[str, str]) -> None:
    folder = root / FOLDER
    lines = [HEADER, f"version = {json.dumps(version)}", "", "[answers]"]
    lines += [f"{key} = {json.dumps(value)}" for key, value in sorted(answers.items())]
    folder.mkdir(exist_ok=True)
    (folder / RECORD).write_text("\n".join(lines) + "\n", encoding="utf-8")
    baseline = folder / BASELINE
    if baseline.exists():
        shutil.rmtree(baseline)
    write(rendered, baseline)


def read_record(root: Path) -> Record:
    path = root / FOLDER / RECORD
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise RecordError(f"{root} has no {FOLDER}/{RECORD}: theatre new did not make it") from None
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise RecordError(f"cannot read {path}: {error}") from error
    version, answers = document.get("version"), document.get("answers")
    if not isinstance(version, str) or not isinstance(answers, dict):
        raise RecordError(f"{path} needs a version and an [answers] table")
    files = files_in(root / FOLDER / BASELINE)
    baseline = {relative: path.read_text(encoding="utf-8") for relative, path in files.items()}
    return Record(version, {str(key): str(value) for key, value in answers.items()}, baseline)
