"""The outside world behind small interfaces: the live hub (Redis or in-process), outgoing mail, and the embedded
mode's Celery transport over SQLite."""
