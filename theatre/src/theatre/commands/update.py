"""``theatre update``: the template's later changes, merged into a generated project without losing local edits.

Three versions of each file meet: the render the project was last brought to (``.theatre/baseline``), the project
as it is, and the new template rendered with the same answers. A file nobody edited takes the template's change;
a file only the project edited stays; a file both changed is merged line by line, and lines both changed are
left between conflict markers and listed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from theatre.generation.merge import merge_text
from theatre.generation.record import read_record, write_record
from theatre.generation.render import Template, write


@dataclass
class Update:
    old_version: str
    new_version: str
    updated: list[str] = field(default_factory=list)
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    merged: list[str] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)  # the template dropped or changed them, the project still differs

    @property
    def changed_nothing(self) -> bool:
        return not (self.updated or self.added or self.removed or self.merged or self.conflicts)


def _read(path: Path) -> str | None:
    return path.read_text(encoding="utf-8") if path.is_file() else None


def update(root: Path, template: Template) -> Update:
    record = read_record(root)
    new = template.render(record.answers)
    old = record.baseline
    result = Update(record.version, template.version)
    labels = ("yours", f"template {record.version}", f"template {template.version}")
    for relative in sorted(old.keys() | new.keys()):
        path = root / relative
        base, theirs, yours = old.get(relative), new.get(relative), _read(path)
        if theirs == base or yours == theirs:
            continue  # the template did not change it, or the project already has the change
        if theirs is None:  # the template dropped the file
            if yours == base:
                path.unlink()
                result.removed.append(relative)
            elif yours is not None:
                result.kept.append(relative)
        elif yours is None:
            if base is None:
                write({relative: theirs}, root)
                result.added.append(relative)
            else:
                result.kept.append(relative)  # deleted here on purpose; the template's change is not forced back
        elif yours == base:
            write({relative: theirs}, root)
            result.updated.append(relative)
        else:
            merged = merge_text(yours=yours, base=base or "", theirs=theirs, labels=labels)
            write({relative: merged.text}, root)
            (result.conflicts if merged.conflicted else result.merged).append(relative)
    write_record(root, template.version, record.answers, new)
    return result
