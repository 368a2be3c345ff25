"""Per-line suppression, like ruff's ``noqa``: ``# theatre: ignore[I206]`` on the line a finding points at (several
codes comma-separated; a bare ``# theatre: ignore`` silences every rule on that line)."""

from __future__ import annotations

import re
from pathlib import Path

from theatre.rules.catalogue import Finding

COMMENT = re.compile(r"#\s*theatre:\s*ignore\b(?:\[(?P<codes>[^\]]*)\])?", re.IGNORECASE)


class Suppressions:
    """Reads the comments on findings' lines, each file once."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._files: dict[str, list[str]] = {}

    def _line(self, file: str, number: int) -> str:
        if file not in self._files:
            try:
                self._files[file] = (self.root / file).read_text(encoding="utf-8").splitlines()
            except (OSError, UnicodeDecodeError):
                self._files[file] = []
        lines = self._files[file]
        return lines[number - 1] if 0 < number <= len(lines) else ""

    def covers(self, found: Finding) -> bool:
        if found.line is None:
            return False
        match = COMMENT.search(self._line(found.file, found.line))
        if match is None:
            return False
        codes = match["codes"]
        return codes is None or found.code in {code.strip().upper() for code in codes.split(",")}
