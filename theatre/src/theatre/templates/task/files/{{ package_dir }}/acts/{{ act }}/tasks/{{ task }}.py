"""Task ``{{ act }}.{{ task }}``: say here what work it does. Tasks can be delivered twice: make it safe to repeat."""

from __future__ import annotations

from {{ package }}.celery import app


@app.task(name="{{ act }}.{{ task }}")
def {{ task }}() -> None:
    """A scene queues this with ``queue_task(session, {{ task }})`` before its transaction commits."""
