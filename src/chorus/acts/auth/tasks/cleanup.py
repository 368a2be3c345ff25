"""Housekeeping: tokens and login failures that can no longer matter are deleted."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete, or_

from chorus.celery import app
from chorus.config import get_settings
from chorus.db import task_session
from chorus.models import EmailToken, LoginFailure, LoginSession, RefreshToken, utcnow


@app.task(name="auth.purge_expired_tokens")
def purge_expired_tokens() -> dict[str, int]:
    """Expired or used mail tokens, expired refresh tokens, sessions ended, past their absolute lifetime or idle past
    the refresh tokens' lifetime (an unknown session is refused like an ended one), and login failures older than
    the throttle window."""
    now = utcnow()
    settings = get_settings()
    window = timedelta(minutes=settings.login_throttle_minutes)
    idle_since = now - timedelta(days=settings.refresh_token_days)
    with task_session() as session:
        mail = session.execute(
            delete(EmailToken).where(or_(EmailToken.expires_at <= now, EmailToken.used_at.is_not(None)))
        )
        refresh = session.execute(delete(RefreshToken).where(RefreshToken.expires_at <= now))
        logins = session.execute(
            delete(LoginSession).where(
                or_(
                    LoginSession.ended_at.is_not(None),
                    LoginSession.expires_at <= now,
                    LoginSession.last_used_at <= idle_since,
                )
            )
        )
        failures = session.execute(delete(LoginFailure).where(LoginFailure.created_at <= now - window))
        session.commit()
    return {
        "email_tokens": mail.rowcount,  # type: ignore[attr-defined]
        "refresh_tokens": refresh.rowcount,  # type: ignore[attr-defined]
        "login_sessions": logins.rowcount,  # type: ignore[attr-defined]
        "login_failures": failures.rowcount,  # type: ignore[attr-defined]
    }
