"""The README embeds chorus's map; this keeps that copy from falling behind the code."""

from __future__ import annotations

import re
from pathlib import Path

from tests.theatre.conftest import theatre

ROOT = Path(__file__).resolve().parents[2]


def test_the_readme_map_is_chorus_map() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## The theatre toolkit") :]
    embedded = re.search(r"```mermaid\n(.*?)```", section, re.DOTALL)
    assert embedded, "the README's theatre section has no mermaid block"
    drawn = theatre("map", "chorus", "--project", ROOT, "--format", "mermaid")
    assert drawn.exit_code == 0, drawn.errors
    assert embedded.group(1) == drawn.output, "README is behind: paste `theatre map --format mermaid` into it"
