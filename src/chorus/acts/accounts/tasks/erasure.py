"""Erasing a deleted account's personal data; the row stays so that what others see keeps its author."""

from __future__ import annotations

import uuid

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from chorus.celery import app
from chorus.db import task_session
from chorus.models import EmailToken, LoginSession, RefreshToken, User

ERASED_NAME = "Deleted account"
ERASED_DOMAIN = "erased.invalid"


def _erase(session: Session, user: User) -> None:
    """Scrub ``user`` in place and delete the credentials that hang off the account."""
    user.email = f"{user.id}@{ERASED_DOMAIN}"
    user.display_name = ERASED_NAME
    user.bio = None
    user.password_hash = "!"  # matches no password
    session.execute(delete(EmailToken).where(EmailToken.user_id == user.id))
    session.execute(delete(RefreshToken).where(RefreshToken.user_id == user.id))
    session.execute(delete(LoginSession).where(LoginSession.user_id == user.id))  # user agents and addresses


@app.task(name="accounts.erase_account")
def erase_account(user_id: str) -> bool:
    """Erase one deleted account; False when there was nothing (left) to erase."""
    with task_session() as session:
        user = session.get(User, uuid.UUID(user_id))
        if user is None or user.deleted_at is None or user.email.endswith(f"@{ERASED_DOMAIN}"):
            return False
        _erase(session, user)
        session.commit()
    return True


@app.task(name="accounts.erase_deleted_accounts")
def erase_deleted_accounts() -> int:
    """The sweep behind ``erase_account``: erases deleted accounts whose erasure was never queued or was lost."""
    with task_session() as session:
        ids = session.scalars(
            select(User.id).where(User.deleted_at.is_not(None), User.email.not_like(f"%@{ERASED_DOMAIN}")).limit(500)
        ).all()
    return sum(erase_account.run(str(user_id)) for user_id in ids)
