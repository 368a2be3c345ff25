"""Mails auth sends: a verification token after registering, a reset token when a password is forgotten, and a
notice when a password is changed.

None carries text a person chose: anyone can register any address, so a display name would let a stranger write to
that address in chorus's name.

Token mails count against CHORUS_MAILS_PER_ADDRESS_PER_HOUR (shared with digests): past it a request for one is
dropped, so asking fifty times for someone's reset mail sends them a handful. The password-changed notice is not
capped: it is how an owner learns of a takeover, and a flood of other mails must not hide it.

Each task makes its token with the task's own id, so a redelivered task finds the token it already made and
mails the same secret again instead of a second one.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import timedelta
from html import escape
from typing import Any

from celery import Task
from sqlalchemy import select
from sqlalchemy.orm import Session

from chorus.acts.auth.tokens import hash_secret, mail_secret
from chorus.celery import app
from chorus.config import get_settings
from chorus.db import task_session
from chorus.models import EmailToken, EmailTokenPurpose, User, utcnow

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class TokenMail:
    purpose: EmailTokenPurpose
    subject: str
    instruction: str
    link_path: str
    link_text: str
    lifetime: timedelta
    footnote: str = ""


def _token_for(session: Session, token_id: uuid.UUID, user: User, kind: TokenMail) -> str:
    if session.get(EmailToken, token_id) is None:
        session.add(
            EmailToken(
                id=token_id,
                user_id=user.id,
                purpose=kind.purpose,
                token_hash=hash_secret(mail_secret(token_id, kind.purpose)),
                expires_at=utcnow() + kind.lifetime,
            )
        )
    return mail_secret(token_id, kind.purpose)


def _mail_token(task: Task[Any, Any], user: User | None, kind: TokenMail, session: Session) -> None:
    from chorus.adapters.mailer import Mail, deliver
    from chorus.adapters.rate_limits import hit_in_transaction, mails_per_hour

    if user is None:
        return
    if not hit_in_transaction(session.connection(), mails_per_hour(), "mail", user.email):
        session.commit()  # the count stands (it is what holds the cap), the mail does not go
        logger.warning("%s mail to user %s dropped: the address had its mails for this hour", kind.purpose, user.id)
        return
    token_id = uuid.UUID(task.request.id) if task.request.id else uuid.uuid4()
    secret = _token_for(session, token_id, user, kind)
    session.commit()  # the token exists before anyone can read the mail
    link = f"{get_settings().public_url}{kind.link_path}?token={secret}"
    hours = kind.lifetime.total_seconds() / 3600
    paragraphs = [
        "Hello,",
        kind.instruction,
        f"token: {secret}",
        f"or open {link}",
        f"The token works once and expires in {hours:g} hours. {kind.footnote}".strip(),
    ]
    html = "".join(f"<p>{escape(p)}</p>" for p in paragraphs[:2])
    html += f'<p><code>{secret}</code></p><p><a href="{escape(link)}">{escape(kind.link_text)}</a></p>'
    html += f"<p>{escape(paragraphs[-1])}</p>"
    mail = Mail(to=user.email, subject=kind.subject, text="\n\n".join(paragraphs) + "\n", html=html)
    deliver(mail, key=f"{kind.purpose.value}-{token_id}")


def _verification() -> TokenMail:
    return TokenMail(
        purpose=EmailTokenPurpose.VERIFY_EMAIL,
        subject="Verify your email address",
        instruction="Please confirm your email address for chorus by sending this token to POST /auth/verify:",
        link_path="/verify",
        link_text="Verify my address",
        lifetime=timedelta(hours=get_settings().verification_token_hours),
    )


def _unverified(user: User | None) -> User | None:
    return user if user is not None and user.is_active and user.email_verified_at is None else None


@app.task(name="auth.send_verification_email", bind=True)
def send_verification_email(self: Task[Any, Any], user_id: str) -> None:
    with task_session() as session:
        _mail_token(self, _unverified(session.get(User, uuid.UUID(user_id))), _verification(), session)


@app.task(name="auth.resend_verification_email", bind=True)
def resend_verification_email(self: Task[Any, Any], email: str) -> None:
    """Looked up here, not in the scene, so the answer takes the same time whether or not the address waits for
    verification."""
    with task_session() as session:
        user = session.scalar(select(User).where(User.email == email.lower(), User.deleted_at.is_(None)))
        _mail_token(self, _unverified(user), _verification(), session)


@app.task(name="auth.send_password_reset_email", bind=True)
def send_password_reset_email(self: Task[Any, Any], email: str) -> None:
    kind = TokenMail(
        purpose=EmailTokenPurpose.RESET_PASSWORD,
        subject="Reset your password",
        instruction="Someone asked to reset your chorus password. Send this token with a new password to "
        "POST /auth/password/reset:",
        link_path="/reset-password",
        link_text="Reset my password",
        lifetime=timedelta(minutes=get_settings().reset_token_minutes),
        footnote="If it was not you, ignore this mail: your password stays as it is.",
    )
    with task_session() as session:
        user = session.scalar(select(User).where(User.email == email.lower(), User.deleted_at.is_(None)))
        _mail_token(self, user, kind, session)


@app.task(name="auth.send_password_changed_email", bind=True)
def send_password_changed_email(self: Task[Any, Any], user_id: str) -> None:
    """Tell the owner their password changed, so a change they did not make is noticed; keyed by the task's id, so a
    redelivered task does not mail twice."""
    from chorus.adapters.mailer import Mail, deliver

    with task_session() as session:
        user = session.get(User, uuid.UUID(user_id))
        if user is None or not user.is_active:
            return
        address = user.email
    when = utcnow().strftime("%Y-%m-%d %H:%M UTC")
    paragraphs = [
        "Hello,",
        f"The password of your chorus account was changed on {when}, and your other sessions were ended.",
        "If it was not you, ask for a password reset at POST /auth/password/forgot right away: that ends every "
        "session, including the one that changed it.",
    ]
    html = "".join(f"<p>{escape(p)}</p>" for p in paragraphs)
    mail = Mail(to=address, subject="Your password was changed", text="\n\n".join(paragraphs) + "\n", html=html)
    key = self.request.id or uuid.uuid4().hex
    deliver(mail, key=f"password-changed-{key}")
