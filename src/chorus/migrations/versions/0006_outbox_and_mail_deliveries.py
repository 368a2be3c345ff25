"""the task outbox (tasks stored with the data that caused them) and mail deliveries (each mail sent once)

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03 12:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import chorus.models.base

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "outbox",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("task", sa.String(length=200), nullable=False),
        sa.Column("args", sa.JSON(), nullable=False),
        sa.Column("kwargs", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("due_at", chorus.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", chorus.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("published_at", chorus.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("finished_at", chorus.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox")),
    )
    op.create_index("ix_outbox_state_due_at", "outbox", ["state", "due_at"], unique=False)
    op.create_table(
        "mail_deliveries",
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("message_id", sa.String(length=300), nullable=False),
        sa.Column("created_at", chorus.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("sent_at", chorus.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_mail_deliveries")),
    )


def downgrade() -> None:
    op.drop_table("mail_deliveries")
    op.drop_index("ix_outbox_state_due_at", table_name="outbox")
    op.drop_table("outbox")
