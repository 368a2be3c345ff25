"""The README embeds chorus's map; this keeps that copy from falling behind the code."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_readme_map_is_chorus_map() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## The theatre toolkit") :]
    embedded = re.search(r"```mermaid\n(.*?)```", section, re.DOTALL)
    assert embedded, "the README's theatre section has no mermaid block"
    drawn = subprocess.run(
        [sys.executable, "-m", "theatre", "map", "chorus", "--project", ROOT, "--format", "mermaid"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert drawn.returncode == 0, drawn.stderr
    assert embedded.group(1) == drawn.stdout, "README is behind: paste `theatre map --format mermaid` into it"
