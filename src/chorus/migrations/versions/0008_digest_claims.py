"""digests are claimed (claimed_at) and committed before the mail is sent, so no row stays locked across SMTP

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03 12:00:01.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import chorus.models.base

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("digests") as batch:
        batch.add_column(sa.Column("claimed_at", chorus.models.base.UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("digests") as batch:
        batch.drop_column("claimed_at")
