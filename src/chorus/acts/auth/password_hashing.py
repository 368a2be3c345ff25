"""Password hashing with Argon2id; hashes made with weaker parameters are upgraded on the next login."""

from __future__ import annotations

import functools

from anyio import to_thread
from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher


@functools.cache
def _hasher() -> PasswordHash:
    return PasswordHash((Argon2Hasher(),))


@functools.cache
def _decoy_hash() -> str:
    return hash_password("decoy password that no account has")


def hash_password(password: str) -> str:
    return _hasher().hash(password)


async def hash_password_off_loop(password: str) -> str:
    """Argon2 is deliberately slow (~0.1 s of CPU): scenes hash in a worker thread, never on the event loop."""
    return await to_thread.run_sync(hash_password, password)


def verify_password(password: str, password_hash: str | None) -> tuple[bool, str | None]:
    """Whether ``password`` matches, and a fresh hash to store if the old one should be upgraded.

    Without a stored hash (no such account) a decoy is checked, so the answer takes as long either way.
    """
    if password_hash is None:
        _hasher().verify(password, _decoy_hash())
        return False, None
    return _hasher().verify_and_update(password, password_hash)


async def verify_password_off_loop(password: str, password_hash: str | None) -> tuple[bool, str | None]:
    """``verify_password`` in a worker thread, so other requests go on while it runs."""
    return await to_thread.run_sync(verify_password, password, password_hash)


async def password_matches(user_password_hash: str, password: str) -> bool:
    """Whether ``password`` is the account's, for a scene that asks for it again before a grave step."""
    matches, _ = await verify_password_off_loop(password, user_password_hash)
    return matches
