"""Joining: register an account, and prove the address by the token mailed to it."""

from __future__ import annotations

from fastapi import APIRouter, status
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from chorus.acts.auth.password_hashing import hash_password_off_loop, release_connection
from chorus.acts.auth.redemption import redeem
from chorus.acts.auth.tasks.mail import resend_verification_email, send_verification_email
from chorus.adapters.outbox import queue_task
from chorus.models import EmailTokenPurpose, User, utcnow, uuid7
from chorus.schema.accounts import Account
from chorus.schema.auth import Accepted, EmailAddress, MailedToken, Registration
from chorus.web import DatabaseSession, Problem, documented, rate_limited

router = APIRouter()

VERIFICATION_RESENT = "If an unverified account has this address, a new verification mail is on its way."


@router.post(
    "/register",
    status_code=status.HTTP_201_CREATED,
    summary="Create an account; a verification mail follows",
    responses=documented(409, 422, 429, 503),
    dependencies=[rate_limited("register")],
)
async def register(body: Registration, session: DatabaseSession) -> Account:
    if await session.scalar(select(User.id).where(User.email == body.email)):
        raise Problem(409, "an account with this email address already exists", "email_taken")
    # The connection goes back to the pool while hashing (the unique index still catches a racing twin below).
    await release_connection(session)
    password_hash = await hash_password_off_loop(body.password)
    user = User(id=uuid7(), email=body.email, password_hash=password_hash, display_name=body.display_name)
    session.add(user)
    queue_task(session, send_verification_email, str(user.id))
    try:
        await session.commit()
    except IntegrityError:
        raise Problem(409, "an account with this email address already exists", "email_taken") from None
    return Account.model_validate(user)


@router.post(
    "/verify",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Verify an email address with the mailed token",
    responses=documented(400, 422, 429, 503),
    dependencies=[rate_limited("verify_email")],
)
async def verify_email(body: MailedToken, session: DatabaseSession) -> None:
    user = await redeem(session, body.token, EmailTokenPurpose.VERIFY_EMAIL)
    user.email_verified_at = user.email_verified_at or utcnow()
    await session.commit()


@router.post(
    "/verify/resend",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Mail a new verification token",
    responses=documented(422, 429, 503),
    dependencies=[rate_limited("resend_verification")],
)
async def resend_verification(body: EmailAddress, session: DatabaseSession) -> Accepted:
    queue_task(session, resend_verification_email, body.email)  # the task looks the address up: one answer, one time
    await session.commit()
    return Accepted(detail=VERIFICATION_RESENT)
