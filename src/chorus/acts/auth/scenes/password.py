"""Passwords: ask for a reset mail, reset with its token, or change while logged in."""

from __future__ import annotations

from fastapi import APIRouter, status

from chorus.acts.auth.guard import CurrentSession, CurrentUser
from chorus.acts.auth.password_hashing import hash_password_off_loop, release_connection, verify_password_off_loop
from chorus.acts.auth.redemption import redeem
from chorus.acts.auth.sessions import end_sessions
from chorus.acts.auth.tasks.mail import send_password_changed_email, send_password_reset_email
from chorus.adapters.outbox import queue_task
from chorus.models import EmailTokenPurpose, utcnow
from chorus.schema.auth import Accepted, EmailAddress, PasswordChange, PasswordReset
from chorus.web import DatabaseSession, Problem, documented, rate_limited

router = APIRouter(prefix="/password")

RESET_MAIL_SENT = "If an account has this address, a password reset mail is on its way."


@router.post(
    "/forgot",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Mail a password reset token",
    responses=documented(422, 429, 503),
    dependencies=[rate_limited("forgot_password")],
)
async def forgot_password(body: EmailAddress, session: DatabaseSession) -> Accepted:
    # The worker looks the address up, so this answer is the same, in body and time, whether it exists or not.
    queue_task(session, send_password_reset_email, body.email)
    await session.commit()
    return Accepted(detail=RESET_MAIL_SENT)


@router.post(
    "/reset",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Set a new password with the mailed token; every session ends",
    responses=documented(400, 422, 429, 503),
    dependencies=[rate_limited("reset_password")],
)
async def reset_password(body: PasswordReset, session: DatabaseSession) -> None:
    # Hashed before the session first touches the database, so no pooled connection waits on it; and a token is
    # never spent on a request that then finds no hashing slot.
    password_hash = await hash_password_off_loop(body.new_password)
    user = await redeem(session, body.token, EmailTokenPurpose.RESET_PASSWORD)
    user.password_hash = password_hash
    user.session_version += 1  # outstanding access tokens stop working
    user.email_verified_at = user.email_verified_at or utcnow()  # the mailbox answered: the address is proven
    await end_sessions(session, user.id)
    await session.commit()


@router.post(
    "/change",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Change my password; my other sessions end, and this one continues after a refresh",
    responses=documented(401, 403, 422, 503),
)
async def change_password(
    body: PasswordChange, user: CurrentUser, current: CurrentSession, session: DatabaseSession
) -> None:
    # The guard loaded the account; its connection goes back to the pool while the two hashes run.
    await release_connection(session)
    matches, _ = await verify_password_off_loop(body.current_password, user.password_hash)
    if not matches:
        raise Problem(403, "the current password is incorrect", "wrong_password")
    user.password_hash = await hash_password_off_loop(body.new_password)
    # Every access token stops (this session's too: its refresh token, kept, brings one of the new version), and
    # every other session ends.
    user.session_version += 1
    await end_sessions(session, user.id, keep=current.session_id)
    queue_task(session, send_password_changed_email, str(user.id))
    await session.commit()
