"""Act ``thread``'s background work, registered on the Celery app when a worker imports this package."""

from chorus.acts.thread.tasks import event_purge, idempotency_purge

__all__ = ["event_purge", "idempotency_purge"]
