"""Act ``auth``'s background work, registered on ``chorus.celery:app`` when a worker imports this package."""

from chorus.acts.auth.tasks import cleanup, mail

__all__ = ["cleanup", "mail"]
