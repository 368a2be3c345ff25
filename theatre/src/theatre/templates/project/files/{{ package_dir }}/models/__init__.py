"""SQLAlchemy models, one module per aggregate; importing this package registers every table on ``Base``."""

from {{ package }}.models.base import Base
from {{ package }}.models.note import Note
from {{ package }}.models.outbox import OutboxTask

__all__ = ["Base", "Note", "OutboxTask"]
