"""Task ``{{ act }}.{{ task }}``: say here what work it does. Tasks can be delivered twice: make it safe to repeat."""

from __future__ import annotations

from {{ package }}.celery import app


@app.task(name="{{ act }}.{{ task }}")
def {{ task }}() -> None:
    """A scene queues this with ``await enqueue({{ task }})`` once its transaction has committed."""
