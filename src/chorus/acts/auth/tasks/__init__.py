"""Act ``auth``'s background work, registered on the Celery app when a worker imports this package."""

from chorus.acts.auth.tasks import cleanup, mail

__all__ = ["cleanup", "mail"]
