"""Housekeeping: tokens, sessions and rate-limit windows that can no longer matter are deleted."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete, or_

from chorus.adapters.rate_limits import purge_expired_counters
from chorus.celery import app
from chorus.config import get_settings
from chorus.db import task_session
from chorus.models import EmailToken, LoginSession, RefreshToken, utcnow


@app.task(name="auth.purge_expired_tokens")
def purge_expired_tokens() -> dict[str, int]:
    """Expired or used mail tokens, expired refresh tokens, sessions ended, past their absolute lifetime or idle past
    the refresh tokens' lifetime (an unknown session is refused like an ended one), and the database store's ended
    rate-limit windows."""
    now = utcnow()
    settings = get_settings()
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
        windows = purge_expired_counters(session.connection())
        session.commit()
    return {
        "email_tokens": mail.rowcount,  # type: ignore[attr-defined]
        "refresh_tokens": refresh.rowcount,  # type: ignore[attr-defined]
        "login_sessions": logins.rowcount,  # type: ignore[attr-defined]
        "rate_limit_windows": windows,
    }
