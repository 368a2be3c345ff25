"""A three-way merge of one file's text, by ``git merge-file``: the merge git itself does, conflicts marked alike."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path


class MergeUnavailable(Exception):
    """git is not installed, so an edited file cannot be merged."""


@dataclass(frozen=True)
class Merged:
    text: str
    conflicted: bool


def merge_text(*, yours: str, base: str, theirs: str, labels: tuple[str, str, str]) -> Merged:
    """Merge the change from ``base`` to ``theirs`` into ``yours``; where both changed the same lines, keep both
    between conflict markers labelled ``labels`` (yours, base, theirs)."""
    git = shutil.which("git")
    if git is None:
        raise MergeUnavailable("theatre update merges with git merge-file: install git")
    with tempfile.TemporaryDirectory(prefix="theatre-merge-") as scratch:
        paths = [Path(scratch, name) for name in ("yours", "base", "theirs")]
        for path, text in zip(paths, (yours, base, theirs), strict=True):
            path.write_text(text, encoding="utf-8")
        command = [git, "merge-file", "-p", "--diff3"]
        for label in labels:
            command += ["-L", label]
        result = subprocess.run(command + [str(p) for p in paths], capture_output=True, text=True, check=False)  # noqa: S603
    if result.returncode < 0 or result.returncode > 127:
        raise MergeUnavailable(f"git merge-file failed: {result.stderr.strip()}")
    return Merged(result.stdout, conflicted=result.returncode > 0)
