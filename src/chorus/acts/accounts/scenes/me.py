"""My account: read it, update my profile, delete it."""

from __future__ import annotations

from fastapi import APIRouter, status

from chorus.acts.accounts.tasks.erasure import erase_account
from chorus.acts.auth import CurrentUser, end_sessions, password_matches
from chorus.adapters.outbox import queue_task
from chorus.models import utcnow
from chorus.schema.accounts import Account, AccountUpdate
from chorus.schema.auth import PasswordConfirmation
from chorus.web import DatabaseSession, Problem, documented

router = APIRouter(prefix="/me")


@router.get("", summary="My account", responses=documented(401))
async def read_my_account(user: CurrentUser) -> Account:
    return Account.model_validate(user)


@router.patch("", summary="Update my display name or bio", responses=documented(401, 422))
async def update_my_account(body: AccountUpdate, user: CurrentUser, session: DatabaseSession) -> Account:
    for field, value in body.model_dump(exclude_unset=True).items():
        setattr(user, field, value)
    await session.commit()
    return Account.model_validate(user)


@router.delete(
    "",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete my account (my password confirms it); my personal data is erased shortly after",
    responses=documented(401, 403, 422, 503),
)
async def delete_my_account(body: PasswordConfirmation, user: CurrentUser, session: DatabaseSession) -> None:
    # A token alone (a borrowed device, a stolen token) must not be enough to destroy the account. The check
    # releases the session's connection before hashing.
    if not await password_matches(session, user.password_hash, body.password):
        raise Problem(403, "the password is incorrect", "wrong_password")
    user.deleted_at = utcnow()
    user.session_version += 1
    await end_sessions(session, user.id)
    queue_task(session, erase_account, str(user.id))
    await session.commit()
