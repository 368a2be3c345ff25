"""digests record a failure on bad data, so it is not retried forever

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 12:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import chorus.models.base

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("digests") as batch:
        batch.add_column(sa.Column("failed_at", chorus.models.base.UTCDateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("failure", sa.String(length=500), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("digests") as batch:
        batch.drop_column("failure")
        batch.drop_column("failed_at")
