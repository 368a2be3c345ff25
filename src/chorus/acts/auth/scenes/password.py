"""Passwords: ask for a reset mail, reset with its token, or change while logged in."""

from __future__ import annotations

from fastapi import APIRouter, status
from sqlalchemy import select, update

from chorus.acts.auth.guard import CurrentSession, CurrentUser
from chorus.acts.auth.password_hashing import hash_password, verify_password
from chorus.acts.auth.tasks.mail import send_password_reset_email
from chorus.acts.auth.tokens import digest
from chorus.celery import enqueue
from chorus.models import EmailToken, EmailTokenPurpose, RefreshToken, User, utcnow
from chorus.schema.auth import Accepted, EmailAddress, PasswordChange, PasswordReset
from chorus.web import DatabaseSession, Problem, documented

router = APIRouter(prefix="/password")

RESET_MAIL_SENT = "If an account has this address, a password reset mail is on its way."


@router.post(
    "/forgot",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Mail a password reset token",
    responses=documented(422),
)
async def forgot_password(body: EmailAddress) -> Accepted:
    # The worker looks the address up, so this answer is the same, in body and time, whether it exists or not.
    await enqueue(send_password_reset_email, body.email)
    return Accepted(detail=RESET_MAIL_SENT)


@router.post(
    "/reset",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Set a new password with the mailed token; every session ends",
    responses=documented(400, 422),
)
async def reset_password(body: PasswordReset, session: DatabaseSession) -> None:
    now = utcnow()
    token = await session.scalar(
        select(EmailToken).where(
            EmailToken.token_hash == digest(body.token),
            EmailToken.purpose == EmailTokenPurpose.RESET_PASSWORD,
            EmailToken.used_at.is_(None),
            EmailToken.expires_at > now,
        )
    )
    user = await session.get(User, token.user_id) if token else None
    if token is None or user is None or not user.is_active:
        raise Problem(400, "the reset token is invalid, used or expired", "invalid_token")
    spent = await session.execute(
        update(EmailToken)
        .where(
            EmailToken.user_id == user.id,
            EmailToken.purpose == EmailTokenPurpose.RESET_PASSWORD,
            EmailToken.used_at.is_(None),
        )
        .values(used_at=now)
    )
    if spent.rowcount < 1:  # type: ignore[attr-defined]
        raise Problem(400, "the reset token is invalid, used or expired", "invalid_token")
    user.password_hash = hash_password(body.new_password)
    user.session_version += 1  # outstanding access tokens stop working
    user.email_verified_at = user.email_verified_at or now  # the mailbox answered, so the address is proven
    await session.execute(
        update(RefreshToken)
        .where(RefreshToken.user_id == user.id, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    await session.commit()


@router.post(
    "/change",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Change my password; my other sessions end",
    responses=documented(401, 403, 422),
)
async def change_password(
    body: PasswordChange, user: CurrentUser, current: CurrentSession, session: DatabaseSession
) -> None:
    matches, _ = verify_password(body.current_password, user.password_hash)
    if not matches:
        raise Problem(403, "the current password is incorrect", "wrong_password")
    user.password_hash = hash_password(body.new_password)
    await session.execute(
        update(RefreshToken)
        .where(
            RefreshToken.user_id == user.id,
            RefreshToken.family_id != current.session_id,
            RefreshToken.revoked_at.is_(None),
        )
        .values(revoked_at=utcnow())
    )
    await session.commit()
