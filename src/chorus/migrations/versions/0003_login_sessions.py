"""login sessions: the session behind each refresh-token family, with an absolute lifetime and its client

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01 10:00:00.000000

Existing families become sessions (created at their first token, last used at their latest, ending when their
latest refresh token expires, already ended when every token of theirs is revoked), so nobody is logged out.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import chorus.models.base

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "login_sessions",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", chorus.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_used_at", chorus.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", chorus.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ended_at", chorus.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("user_agent", sa.String(length=255), nullable=True),
        sa.Column("address", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_login_sessions_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_sessions")),
    )
    with op.batch_alter_table("login_sessions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_login_sessions_expires_at"), ["expires_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_login_sessions_user_id"), ["user_id"], unique=False)
    op.execute(
        """
        INSERT INTO login_sessions (id, user_id, created_at, last_used_at, expires_at, ended_at)
        SELECT family_id, user_id, MIN(created_at), MAX(created_at), MAX(expires_at),
               CASE WHEN COUNT(revoked_at) = COUNT(*) THEN MAX(revoked_at) END
        FROM refresh_tokens
        GROUP BY family_id, user_id
        """
    )


def downgrade() -> None:
    with op.batch_alter_table("login_sessions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_login_sessions_user_id"))
        batch_op.drop_index(batch_op.f("ix_login_sessions_expires_at"))

    op.drop_table("login_sessions")
