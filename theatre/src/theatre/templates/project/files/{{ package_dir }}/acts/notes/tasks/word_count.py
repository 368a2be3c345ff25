"""Tasks ``notes.count_words`` and ``notes.count_missed_words``: the worker counts a note's words.

Delivery may repeat a task: counting sets the same number again, so running it twice changes nothing. Retries and
dead tasks are the business of the Celery app's task class (in ``celery.py``), not of each task.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import select, update

from {{ package }}.adapters.outbox import queue_task
from {{ package }}.celery import app
from {{ package }}.db import task_session
from {{ package }}.models.base import utcnow
from {{ package }}.models.note import Note

SWEEP_BATCH = 500
SWEEP_AGE = timedelta(minutes=1)  # younger notes still have their own task queued


@app.task(name="notes.count_words")
def count_words(note_id: str) -> None:
    """A scene queues this with ``queue_task(session, count_words, note_id)`` before its transaction commits."""
    with task_session() as session:
        body = session.scalar(select(Note.body).where(Note.id == uuid.UUID(note_id)))
        if body is None:
            return  # deleted since: nothing to count
        session.execute(update(Note).where(Note.id == uuid.UUID(note_id)).values(word_count=len(body.split())))
        session.commit()


@app.task(name="notes.count_missed_words")
def count_missed_words() -> None:
    """Every minute (the scheduler, through the outbox): count the notes still uncounted, such as those written
    before the outbox came in, when a broker outage could lose their task."""
    with task_session() as session:
        uncounted = Note.word_count.is_(None) & (Note.created_at < utcnow() - SWEEP_AGE)
        for note_id in session.scalars(select(Note.id).where(uncounted).limit(SWEEP_BATCH)).all():
            queue_task(session, count_words, str(note_id))
        session.commit()
