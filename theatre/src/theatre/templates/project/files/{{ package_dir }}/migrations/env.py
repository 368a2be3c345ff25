"""Alembic environment: the database URL comes from the settings (``db.sync_engine``), never from alembic.ini."""

from __future__ import annotations

from alembic import context

from {{ package }}.db import sync_engine
from {{ package }}.models import Base


def run_migrations() -> None:
    with sync_engine().connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=Base.metadata,
            render_as_batch=connection.dialect.name == "sqlite",  # SQLite alters a table by copying it
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()


run_migrations()
