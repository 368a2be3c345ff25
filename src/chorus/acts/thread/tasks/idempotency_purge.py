"""Keeping the idempotency keys short: a key past CHORUS_IDEMPOTENCY_KEY_HOURS holds no answer any more (a post
takes it over as if it were free), so the hourly purge only gives the space back. Safe to repeat."""

from __future__ import annotations

from chorus.acts.thread.idempotency import purge_expired
from chorus.celery import app
from chorus.db import task_session


@app.task(name="thread.purge_idempotency_keys")
def purge_idempotency_keys() -> int:
    """Delete the expired keys; how many went."""
    with task_session() as session:
        purged = purge_expired(session)
        session.commit()
    return purged
