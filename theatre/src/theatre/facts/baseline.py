"""A baseline: the findings a project had when it adopted theatre, silenced so that only new ones fail its CI.

A finding matches an entry by code, file and message with line numbers left out, so edits that move lines keep
it matched; each entry silences one finding, so a second copy of an old mistake is still reported."""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

from theatre.facts.project import UsageError
from theatre.rules.catalogue import Finding

FORMAT = 1
DEFAULT_BASELINE = "theatre-baseline.json"
LINE_NUMBER = re.compile(r":\d+\b")

Key = tuple[str, str, str]


def _key(code: str, file: str, message: str) -> Key:
    return code, file, LINE_NUMBER.sub(":", message)


class Baseline:
    """The entries of one baseline file, consumed as findings match them."""

    def __init__(self, entries: Iterable[Key] = ()) -> None:
        self._left = Counter(entries)

    @classmethod
    def read(cls, path: Path) -> Baseline:
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
            entries = [_key(e["code"], e["file"], e["message"]) for e in document["findings"]]
        except FileNotFoundError:
            raise UsageError(f"no baseline at {path} (write one with theatre check --write-baseline)") from None
        except (OSError, ValueError, KeyError, TypeError) as error:
            raise UsageError(f"cannot read the baseline {path}: {error}") from error
        return cls(entries)

    def covers(self, found: Finding) -> bool:
        key = _key(found.code, found.file, found.message)
        if self._left[key] > 0:
            self._left[key] -= 1
            return True
        return False


def write_baseline(path: Path, package: str, findings: list[Finding]) -> None:
    entries = [{"code": f.code, "file": f.file, "line": f.line, "message": f.message} for f in findings]
    document = {"theatre-baseline": FORMAT, "package": package, "findings": entries}
    path.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
