"""Keeping the event log short: live subscribers resume from recent events; older ones are not needed."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete

from chorus.celery import app
from chorus.config import get_settings
from chorus.db import task_session
from chorus.models import ThreadEvent, utcnow


@app.task(name="thread.purge_old_events")
def purge_old_events() -> int:
    cutoff = utcnow() - timedelta(hours=get_settings().event_retention_hours)
    with task_session() as session:
        purged = session.execute(delete(ThreadEvent).where(ThreadEvent.created_at < cutoff))
        session.commit()
    return int(purged.rowcount)  # type: ignore[attr-defined]
