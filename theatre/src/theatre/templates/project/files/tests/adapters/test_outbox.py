"""The outbox: tasks commit with their data, reach the worker once committed, are retried on passing outages, and
are recorded as dead (and listed, and revived) when they fail for good."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from celery.beat import ScheduleEntry
from celery.schedules import schedule
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

import {{ package }}.celery
from {{ package }}.acts.notes.tasks import word_count
from {{ package }}.adapters.outbox import queue_task
from {{ package }}.celery import OutboxScheduler
from {{ package }}.celery import app as celery_app
from {{ package }}.db import task_session
from {{ package }}.models.base import utcnow
from {{ package }}.models.note import Note
from {{ package }}.models.outbox import OutboxTask
from {{ package }}.ops.cli import main as cli
from tests.finished_tasks import FinishedTasks


def _row(task_id: uuid.UUID) -> OutboxTask:
    with task_session() as session:
        return session.get_one(OutboxTask, task_id)


def _word_count(note_id: uuid.UUID) -> int | None:
    with task_session() as session:
        return session.get_one(Note, note_id).word_count


def _wait_for(predicate: Callable[[], bool], what: str, timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout} s: {what}")
        time.sleep(0.05)


def _note(body: str) -> uuid.UUID:
    with task_session() as session:
        note = Note(body=body)
        session.add(note)
        session.commit()
        return note.id


def _queue_count(note_id: uuid.UUID | str) -> uuid.UUID:
    """A count queued as a scene queues it: in the outbox, and published once the transaction commits."""
    with task_session() as session:
        task_id = queue_task(session, word_count.count_words, str(note_id))
        session.commit()
    return task_id


def _lost_count(note_id: uuid.UUID, **row: Any) -> uuid.UUID:
    """A count in the outbox whose publish was lost: stored, but never handed to the broker (or lost by it)."""
    with task_session() as session:
        lost = OutboxTask(task=word_count.count_words.name, args=[str(note_id)], kwargs={}, **row)
        session.add(lost)
        session.commit()
        return lost.id


def test_a_committed_task_is_done_once_and_a_rolled_back_one_never_leaves(finished_tasks: FinishedTasks) -> None:
    rolled_back, committed = _note("never counted"), _note("counted exactly once")
    with task_session() as session:
        queue_task(session, word_count.count_words, str(rolled_back))
        session.rollback()
        task_id = queue_task(session, word_count.count_words, str(committed))
        session.commit()
    assert finished_tasks.wait_for_id(str(task_id)) == "SUCCESS"
    assert _row(task_id).state == "done"
    assert _word_count(committed) == 3
    assert finished_tasks.runs_of(str(task_id)) == 1
    assert _word_count(rolled_back) is None
    with task_session() as session:
        assert session.scalars(select(OutboxTask.id)).all() == [task_id]


def test_the_relay_publishes_what_its_commit_could_not_and_again_what_was_lost(finished_tasks: FinishedTasks) -> None:
    """A row never published (the broker was down at commit), and one published whose message a broker or a
    killed worker lost: the relay in the worker's main process delivers both, within a second or so."""
    never_published, lost = _note("the broker was down"), _note("the message went missing")
    past = utcnow() - timedelta(seconds=1)
    first = _lost_count(never_published, due_at=past)
    second = _lost_count(lost, state="published", published_at=past, due_at=past)
    assert finished_tasks.wait_for_id(str(first), timeout=15) == "SUCCESS"
    assert finished_tasks.wait_for_id(str(second), timeout=15) == "SUCCESS"
    assert (_row(first).state, _row(second).state) == ("done", "done")
    assert (_word_count(never_published), _word_count(lost)) == (4, 4)
    assert finished_tasks.runs_of(str(first)) == finished_tasks.runs_of(str(second)) == 1


@contextmanager
def _sessions_failing(error: Exception, times: int, monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The count's database session fails ``times`` times with ``error``, then works; yields the failures."""
    failures: list[str] = []

    def failing() -> Any:
        if len(failures) < times:
            failures.append(repr(error))
            raise error
        return task_session()

    monkeypatch.setattr(word_count, "task_session", failing)
    yield failures
    monkeypatch.setattr(word_count, "task_session", task_session)


def test_a_passing_outage_is_retried_with_backoff(worker: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    soon = timedelta(seconds=0.2)
    monkeypatch.setattr({{ package }}.celery, "retry_delay", lambda attempt: soon)
    note_id = _note("worth the wait")
    outage = OperationalError("SELECT 1", {}, Exception("the database went away"))
    with _sessions_failing(outage, times=2, monkeypatch=monkeypatch) as failures:
        task_id = _queue_count(note_id)
        _wait_for(lambda: _row(task_id).state == "done", "the retried row is done")
    assert len(failures) == 2
    assert _row(task_id).attempts == 2
    assert _word_count(note_id) == 3


def test_bad_data_is_recorded_dead_once_listed_and_can_be_revived(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], finished_tasks: FinishedTasks
) -> None:
    hopeless = _queue_count("not-a-note-id")
    assert finished_tasks.wait_for_id(str(hopeless)) == "FAILURE"
    assert (_row(hopeless).state, _row(hopeless).attempts) == ("dead", 1)  # not put back for a retry
    assert "ValueError: badly formed hexadecimal UUID string" in (_row(hopeless).error or "")

    note_id = _note("fixed by a later deploy")
    with _sessions_failing(ValueError("a bug no retry can fix"), times=1, monkeypatch=monkeypatch):
        fixable = _queue_count(note_id)
        assert finished_tasks.wait_for_id(str(fixable)) == "FAILURE"
    assert _row(fixable).state == "dead"
    cli(["dead-letters"])
    listing = capsys.readouterr().out
    assert f"{hopeless}" in listing
    assert f"{fixable}" in listing
    assert "ValueError: a bug no retry can fix" in listing
    assert "2 dead task(s)" in listing

    cli(["dead-letters", "--revive", str(fixable)])
    assert "queued again" in capsys.readouterr().out
    _wait_for(lambda: _row(fixable).state == "done", "the revived row is done")
    assert _word_count(note_id) == 5


def test_the_scheduler_records_periodic_tasks_in_the_outbox(finished_tasks: FinishedTasks, tmp_path: Path) -> None:
    """Beat never publishes itself: a sweep due while the broker is down waits in the outbox instead of being
    skipped."""
    scheduler = OutboxScheduler(app=celery_app, schedule_filename=str(tmp_path / "beat"), lazy=True)
    every_minute = schedule(timedelta(minutes=1))
    entry = ScheduleEntry(
        name="count-missed-words", task="notes.count_missed_words", schedule=every_minute, app=celery_app
    )
    task_id = uuid.UUID(scheduler.apply_async(entry, advance=False).id)
    assert _row(task_id).task == "notes.count_missed_words"
    assert finished_tasks.wait_for_id(str(task_id)) == "SUCCESS"
    assert _row(task_id).state == "done"
