"""Tasks ``notes.count_words`` and ``notes.count_missed_words``, consumed by the real worker."""

from __future__ import annotations

import uuid
from datetime import timedelta

from {{ package }}.acts.notes.tasks.word_count import count_missed_words, count_words
from {{ package }}.db import task_session
from {{ package }}.models.base import utcnow
from {{ package }}.models.note import Note
from tests.finished_tasks import FinishedTasks


def _stored(body: str, age: timedelta = timedelta(0)) -> uuid.UUID:
    with task_session() as session:
        note = Note(body=body, created_at=utcnow() - age)
        session.add(note)
        session.commit()
        return note.id


def _word_count(note_id: uuid.UUID) -> int | None:
    with task_session() as session:
        note = session.get(Note, note_id)
        assert note is not None
        return note.word_count


def test_the_worker_counts_words(finished_tasks: FinishedTasks) -> None:
    note_id = _stored("one two  three\nfour")
    count_words.delay(str(note_id))
    assert finished_tasks.wait_for("notes.count_words") == "SUCCESS"
    assert _word_count(note_id) == 4


def test_counting_twice_changes_nothing() -> None:
    note_id = _stored("a b")
    count_words(str(note_id))
    count_words(str(note_id))
    assert _word_count(note_id) == 2


def test_a_deleted_note_is_nothing_to_count(finished_tasks: FinishedTasks) -> None:
    count_words.delay(str(uuid.uuid4()))
    assert finished_tasks.wait_for("notes.count_words") == "SUCCESS"


def test_the_sweep_counts_notes_whose_task_was_never_queued(finished_tasks: FinishedTasks) -> None:
    missed = _stored("lost in an outage", age=timedelta(minutes=5))
    recent = _stored("still queued")
    count_missed_words.delay()
    assert finished_tasks.wait_for("notes.count_missed_words") == "SUCCESS"
    assert finished_tasks.wait_for("notes.count_words") == "SUCCESS"
    assert _word_count(missed) == 4
    assert _word_count(recent) is None
