"""Alembic environment: the database URL comes from chorus's settings, never from alembic.ini."""

from __future__ import annotations

from alembic import context
from sqlalchemy import text

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
            if connection.dialect.name == "postgresql":
                # A migration runs once, as its own job, for as long as it needs: not under the tasks' statement limit.
                connection.execute(text("SET LOCAL statement_timeout = 0"))
            context.run_migrations()


run_migrations()
