"""Password hashing with Argon2id; hashes made with weaker parameters are upgraded on the next login.

Argon2 is slow and memory-hard on purpose (~0.1 s of CPU and 64 MiB a hash), so a flood of registrations or logins
must not starve the process: hashes run in worker threads, at most ``CHORUS_MAX_CONCURRENT_HASHES`` at a time per
process (memory stays under that many times 64 MiB), and a request that waits longer than ``CHORUS_HASH_WAIT_SECONDS``
for a slot answers 503 with ``Retry-After``. Scenes release their database connection before hashing (see
``release_connection``), so waiting hashes never hold pooled connections that other requests need.
"""

from __future__ import annotations

import asyncio
import functools
import math
import weakref
from collections.abc import Callable
from typing import TypeVar

from anyio import to_thread
from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher
from sqlalchemy.ext.asyncio import AsyncSession

from chorus.config import get_settings
from chorus.web import Problem

T = TypeVar("T")

# One bound per event loop: uvicorn runs one loop per process, and an asyncio semaphore belongs to a single loop.
_slots: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = weakref.WeakKeyDictionary()


@functools.cache
def _hasher() -> PasswordHash:
    return PasswordHash((Argon2Hasher(),))


@functools.cache
def _decoy_hash() -> str:
    return hash_password("decoy password that no account has")


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def verify_password(password: str, password_hash: str | None) -> tuple[bool, str | None]:
    """Whether ``password`` matches, and a fresh hash to store if the old one should be upgraded.

    Without a stored hash (no such account) a decoy is checked, so the answer takes as long either way.
    """
    if password_hash is None:
        _hasher().verify(password, _decoy_hash())
        return False, None
    return _hasher().verify_and_update(password, password_hash)


def hashing_busy() -> Problem:
    """The answer when no hashing slot frees up in time: the process is saturated, not broken, so retry shortly."""
    retry_after = max(1, math.ceil(get_settings().hash_wait_seconds))
    return Problem(
        503,
        "too many password checks are under way; try again shortly",
        "hashing_busy",
        headers={"Retry-After": str(retry_after)},
    )


def _loop_slots() -> asyncio.Semaphore:
    loop = asyncio.get_running_loop()
    slots = _slots.get(loop)
    if slots is None:
        slots = _slots[loop] = asyncio.Semaphore(get_settings().max_concurrent_hashes)
    return slots


async def _bounded(work: Callable[..., T], *args: object) -> T:
    """Run ``work`` in a worker thread once a hashing slot is free; 503 if none frees up within the wait bound.

    The slot is held until the thread ends, even if the request is cancelled, so the bound on memory holds.
    """
    slots = _loop_slots()
    try:
        async with asyncio.timeout(get_settings().hash_wait_seconds):
            await slots.acquire()
    except TimeoutError:
        raise hashing_busy() from None
    try:
        return await to_thread.run_sync(work, *args)
    finally:
        slots.release()


async def hash_password_off_loop(password: str) -> str:
    """``hash_password`` in a worker thread within the per-process bound, never on the event loop."""
    return await _bounded(hash_password, password)


async def verify_password_off_loop(password: str, password_hash: str | None) -> tuple[bool, str | None]:
    """``verify_password`` in a worker thread within the per-process bound, so other requests go on meanwhile."""
    return await _bounded(verify_password, password, password_hash)


async def release_connection(session: AsyncSession) -> None:
    """End the session's transaction so its pooled connection goes back before a slow hash.

    A commit, not a rollback: loaded objects stay usable (``expire_on_commit`` is off), and the next query begins a
    new transaction. Call it only when whatever the session holds may be committed.
    """
    await session.commit()


async def password_matches(session: AsyncSession, user_password_hash: str, password: str) -> bool:
    """Whether ``password`` is the account's, for a scene that asks for it again before a grave step; the
    session's connection is released first, so no pooled connection waits on the hash."""
    await release_connection(session)
    matches, _ = await verify_password_off_loop(password, user_password_hash)
    return matches
