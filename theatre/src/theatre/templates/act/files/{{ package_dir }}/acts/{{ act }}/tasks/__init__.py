"""Act ``{{ act }}``'s background work, registered on ``{{ package }}.celery:app`` when a worker imports this package."""

from {{ package }}.acts.{{ act }}.tasks import {{ task }}

__all__ = ["{{ task }}"]
