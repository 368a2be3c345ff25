"""A project made before the outbox: the project template as theatre 0.2.0 shipped it (frozen under fixtures/, as
it was at chorus commit 3a51360), the local edits its owners made since, and what ``theatre update`` must turn it
into. A plain helper module, shared by the quick update test and the generated project's full run."""

from __future__ import annotations

from pathlib import Path

from tests.command_line import FIXTURES
from theatre.generation.record import read_record
from theatre.generation.render import builtin

TEMPLATE_0_2_0 = FIXTURES / "project_template_0_2_0"
# What the outbox and the retry policy bring as new files into a project called shop.
OUTBOX_FILES = (
    "src/shop/adapters/outbox.py",
    "src/shop/adapters/transient_errors.py",
    "src/shop/migrations/versions/0002_outbox.py",
    "src/shop/models/outbox.py",
    "tests/adapters/test_outbox.py",
)
# Local edits, as (old text, new text), in files the template changes too, away from the lines it changes.
LOCAL_EDITS = {
    "src/shop/celery.py": (
        '"count-missed-words": {"task": "notes.count_missed_words", "schedule": timedelta(minutes=1)},',
        '"count-missed-words": {"task": "notes.count_missed_words", "schedule": timedelta(minutes=5)},',
    ),
    "README.md": ("a worker and the\nscheduler.\n", "a worker and the\nscheduler.\n\n## Deploying\n\nOur own notes.\n"),
}


def edit_locally(project: Path) -> None:
    for relative, (old, new) in LOCAL_EDITS.items():
        path = project / relative
        text = path.read_text()
        assert text.count(old) == 1, f"{relative} no longer holds the line the local edit changes"
        path.write_text(text.replace(old, new))


def assert_made_today_but_for_the_local_edits(project: Path) -> None:
    """Every file is what ``theatre new`` writes today with the project's answers, the local edits aside, and the
    record says so: whatever passes in this project passes in a new one."""
    record = read_record(project)
    today = builtin("project").render(record.answers)
    for relative, text in today.items():
        old, new = LOCAL_EDITS.get(relative, ("", ""))
        assert (project / relative).read_text() == text.replace(old, new), relative
    assert record.version == builtin("project").version
    assert record.baseline == today
