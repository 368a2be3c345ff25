"""Act ``notes``'s background work, registered on the Celery app when a worker imports this package."""

from {{ package }}.acts.notes.tasks import word_count

__all__ = ["word_count"]
