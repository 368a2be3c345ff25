"""{{ project }}: an API and a Celery worker sharing one database, in the theatre layout."""

__version__ = "0.1.0"
