"""Act ``accounts``'s background work, registered on the Celery app when a worker imports this package."""

from chorus.acts.accounts.tasks import erasure

__all__ = ["erasure"]
