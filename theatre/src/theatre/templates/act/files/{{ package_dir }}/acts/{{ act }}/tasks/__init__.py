"""Act ``{{ act }}``'s background work, registered on the Celery app when a worker imports this package."""

from {{ package }}.acts.{{ act }}.tasks import {{ task }}

__all__ = ["{{ task }}"]
