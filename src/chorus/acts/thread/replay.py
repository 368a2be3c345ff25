"""The ``Idempotency-Key`` header of the scenes that create (a message, a thread): a client that retries a post
after a timeout, with the same key, gets the first answer again instead of a second message or thread.

The key is taken in the scene's own transaction (`idempotency.take_key`), so it is kept exactly when what the scene
created is. Only a created answer is kept: a request that failed left nothing, and may be retried with its key.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import Header
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from chorus.acts.thread.idempotency import fingerprint, first_answer, take_key
from chorus.web import Problem

REPLAYED_HEADER = "Idempotent-Replayed"

IdempotencyKeyHeader = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=255,
        pattern=r"^[!-~]+$",
        description="A key the client makes up for this request (1-255 visible ASCII characters, e.g. a UUID). "
        "Retrying the request with the same key within CHORUS_IDEMPOTENCY_KEY_HOURS answers the first answer "
        "again, with `Idempotent-Replayed: true`, and creates nothing; the same key with a different request is "
        "422 `idempotency_key_reused`.",
    ),
]

# The created answer's documentation: a replay carries this header.
REPLAYABLE: dict[int | str, dict[str, Any]] = {
    201: {
        "description": "Created (or, for a retry with the same Idempotency-Key, the first answer again)",
        "headers": {
            REPLAYED_HEADER: {
                "description": "`true` when this is the kept answer to an earlier request with the same key.",
                "schema": {"type": "string", "enum": ["true"]},
            }
        },
    }
}


async def replay_or_take_key(
    session: AsyncSession,
    *,
    account_id: uuid.UUID,
    key: str,
    request: str,
    answer: BaseModel,
    status_code: int = 201,
) -> JSONResponse | None:
    """None when the key is this request's now: ``answer`` is kept with it if the scene commits. Otherwise the
    transaction is rolled back and the first answer to the same ``request`` (method, path and body) is returned,
    or 422 when the key was used for another request."""
    digest = fingerprint(request)
    kept = answer.model_dump(mode="json")
    if await take_key(
        session, account_id=account_id, key=key, fingerprint=digest, status_code=status_code, answer=kept
    ):
        return None
    first = await first_answer(session, account_id=account_id, key=key)
    await session.rollback()
    if first is None:
        # Not expected: the upsert that found the key holds it until this transaction ends. Answered as a race.
        raise Problem(
            409, "a request with this Idempotency-Key is in flight", "idempotency_key_in_flight", {"Retry-After": "1"}
        )
    if first.fingerprint != digest:
        raise Problem(
            422,
            "Idempotency-Key: already used for a different request; use a new key for a new request",
            "idempotency_key_reused",
        )
    return JSONResponse(first.answer, status_code=first.status_code, headers={REPLAYED_HEADER: "true"})
