"""Act ``message``'s background work, registered on ``chorus.celery:app`` when a worker imports this package."""

from chorus.acts.message.tasks import digest

__all__ = ["digest"]
