"""The idempotency keys, which the thread act alone writes: a post's key taken in the post's own transaction, the
first answer found again for a retry, and expired keys purged.

Taking the key is the post's first write: an upsert on the unique (account, key). Two requests with one key meet
there, and the database makes the second wait until the first commits or rolls back (PostgreSQL waits on the
uncommitted row, SQLite on its one writer). So the second never sees a half-done first: it finds the first answer
committed and replays it, or finds no key and goes ahead itself. An expired key is taken over as if it were free.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import CursorResult, Table, delete, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from chorus.config import get_settings
from chorus.models import IdempotencyKey, utcnow

KEYS: Table = IdempotencyKey.__table__  # type: ignore[assignment]


def fingerprint(request: str) -> bytes:
    """What the request asked for, as a digest: the same key sent with another request must not replay this one."""
    return hashlib.sha256(request.encode()).digest()


def expired_before(now: datetime) -> datetime:
    """Keys created before this moment no longer hold their answer."""
    return now - timedelta(hours=get_settings().idempotency_key_hours)


async def take_key(
    session: AsyncSession,
    *,
    account_id: uuid.UUID,
    key: str,
    fingerprint: bytes,
    status_code: int,
    answer: dict[str, Any],
) -> bool:
    """Keep ``answer`` under the account's key in the session's transaction (one statement); False when a live key
    is there already (the caller rolls back and replays it)."""
    now = utcnow()
    insert = postgresql_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    new = insert(KEYS).values(
        account_id=account_id, key=key, fingerprint=fingerprint, status_code=status_code, answer=answer, created_at=now
    )
    taken = new.on_conflict_do_update(
        index_elements=[KEYS.c.account_id, KEYS.c.key],
        set_={name: new.excluded[name] for name in ("fingerprint", "status_code", "answer", "created_at")},
        where=KEYS.c.created_at < expired_before(now),
    ).returning(KEYS.c.key)
    return (await session.execute(taken)).first() is not None


@dataclass(frozen=True)
class KeptAnswer:
    """What the first request with a key asked for (its fingerprint) and was answered."""

    fingerprint: bytes
    status_code: int
    answer: dict[str, Any]


async def first_answer(session: AsyncSession, *, account_id: uuid.UUID, key: str) -> KeptAnswer | None:
    """What the first request with the account's key left (plain values: they outlive the session's rollback)."""
    row = (
        await session.execute(
            select(KEYS.c.fingerprint, KEYS.c.status_code, KEYS.c.answer).where(
                KEYS.c.account_id == account_id, KEYS.c.key == key
            )
        )
    ).one_or_none()
    return None if row is None else KeptAnswer(*row)


def purge_expired(session: Session) -> int:
    """Delete the keys that no longer hold their answer (committed by the caller); how many went."""
    result = session.execute(delete(IdempotencyKey).where(IdempotencyKey.created_at < expired_before(utcnow())))
    assert isinstance(result, CursorResult)
    return int(result.rowcount)
