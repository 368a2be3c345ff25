"""Housekeeping: tokens and login failures that can no longer matter are deleted."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete, or_

from chorus.celery import app
from chorus.config import get_settings
from chorus.db import task_session
from chorus.models import EmailToken, LoginFailure, RefreshToken, utcnow


@app.task(name="auth.purge_expired_tokens")
def purge_expired_tokens() -> dict[str, int]:
    """Expired or used mail tokens, expired refresh tokens, and login failures older than the throttle window."""
    now = utcnow()
    window = timedelta(minutes=get_settings().login_throttle_minutes)
    with task_session() as session:
        mail = session.execute(
            delete(EmailToken).where(or_(EmailToken.expires_at <= now, EmailToken.used_at.is_not(None)))
        )
        refresh = session.execute(delete(RefreshToken).where(RefreshToken.expires_at <= now))
        failures = session.execute(delete(LoginFailure).where(LoginFailure.created_at <= now - window))
        session.commit()
    return {
        "email_tokens": mail.rowcount,  # type: ignore[attr-defined]
        "refresh_tokens": refresh.rowcount,  # type: ignore[attr-defined]
        "login_failures": failures.rowcount,  # type: ignore[attr-defined]
    }
