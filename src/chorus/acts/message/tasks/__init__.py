"""Act ``message``'s background work, registered on the Celery app when a worker imports this package."""

from chorus.acts.message.tasks import digest

__all__ = ["digest"]
