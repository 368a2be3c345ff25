"""Tasks ``notes.count_words`` and ``notes.count_missed_words``: the worker counts a note's words.

Delivery may repeat a task: counting sets the same number again, so running it twice changes nothing.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import InterfaceError, OperationalError

from {{ package }}.celery import app
from {{ package }}.db import task_session
from {{ package }}.models.base import utcnow
from {{ package }}.models.note import Note

SWEEP_BATCH = 500
SWEEP_AGE = timedelta(minutes=1)  # younger notes still have their own task queued

# A database that is down, restarting or locked is worth waiting for; anything else is a bug to see at once.
RETRY: dict[str, Any] = {
    "autoretry_for": (OperationalError, InterfaceError),
    "retry_backoff": True,
    "retry_backoff_max": 60,
    "max_retries": 8,
}


@app.task(name="notes.count_words", **RETRY)
def count_words(note_id: str) -> None:
    """A scene queues this with ``await enqueue(count_words, note_id)`` once its transaction has committed."""
    with task_session() as session:
        body = session.scalar(select(Note.body).where(Note.id == uuid.UUID(note_id)))
        if body is None:
            return  # deleted since: nothing to count
        session.execute(update(Note).where(Note.id == uuid.UUID(note_id)).values(word_count=len(body.split())))
        session.commit()


@app.task(name="notes.count_missed_words", **RETRY)
def count_missed_words() -> None:
    """Every minute (the scheduler): queue notes whose count a broker outage kept from being queued."""
    with task_session() as session:
        uncounted = Note.word_count.is_(None) & (Note.created_at < utcnow() - SWEEP_AGE)
        missed = session.scalars(select(Note.id).where(uncounted).limit(SWEEP_BATCH)).all()
    for note_id in missed:
        count_words.delay(str(note_id))
