"""Alembic environment: the database URL comes from chorus's settings, never from alembic.ini."""

from __future__ import annotations

from alembic import context

from chorus.db import sync_engine
from chorus.models import Base

target_metadata = Base.metadata


def run_migrations() -> None:
    engine = sync_engine()
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",  # SQLite alters tables by copying them
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()


run_migrations()
