"""Login throttling, counted in the rate-limit store (Redis or the database) before the password is hashed.

Every attempt is counted atomically first, so parallel guesses cannot slip past a limit while earlier ones are still
hashing; a login that succeeds takes its count back. Three kinds of count:

- per (account, client address), with growing delays: CHORUS_LOGIN_FAILURES_PER_ACCOUNT failures lock the pair for
  CHORUS_LOGIN_THROTTLE_MINUTES, twice as many lock it for up to 4 times as long, three times as many for up to 16
  times as long. A stranger's guesses lock out the stranger's address only: the owner, elsewhere, still logs in.
- per client address, over all accounts: CHORUS_LOGIN_FAILURES_PER_ADDRESS per CHORUS_LOGIN_THROTTLE_MINUTES.
- per account, over all addresses: CHORUS_LOGIN_FAILURES_PER_ACCOUNT_CEILING an hour, a looser ceiling against
  guessing spread over many addresses. Reaching it does lock the owner out too until the hour ends: that is the price
  of bounding distributed guessing, and it takes a hundred guesses an hour (by default) to pay it.
"""

from __future__ import annotations

import hashlib

from chorus.adapters import rate_limits
from chorus.adapters.rate_limits import RateLimitItem
from chorus.config import get_settings

Limit = tuple[RateLimitItem, tuple[str, ...]]

GROWTH = (1, 4, 16)  # each tier allows one more batch of failures and lasts this many throttle windows


def _account(email: str) -> str:
    """Keys carry a digest of the address, never the address itself (short, fixed length, nothing to read)."""
    return hashlib.sha256(email.lower().encode()).hexdigest()[:32]


def _pair_tiers(email: str, address: str) -> list[Limit]:
    settings = get_settings()
    failures, minutes = settings.login_failures_per_account, settings.login_throttle_minutes
    return [
        (rate_limits.parse(f"{failures * tier}/{minutes * growth}minutes"), ("login", "pair", _account(email), address))
        for tier, growth in enumerate(GROWTH, start=1)
    ]


def _wide_limits(email: str, address: str) -> list[Limit]:
    settings = get_settings()
    per_address = f"{settings.login_failures_per_address}/{settings.login_throttle_minutes}minutes"
    return [
        (rate_limits.parse(per_address), ("login", "address", address)),
        (
            rate_limits.parse(f"{settings.login_failures_per_account_ceiling}/hour"),
            ("login", "account", _account(email)),
        ),
    ]


async def admit(*, email: str, address: str) -> int:
    """Count this attempt, strictest limit first: 0 when it may go on to the password check, else the seconds to
    wait, the longest of any spent limit's (so a grown lockout says how long it really lasts). A refused attempt is
    not counted by the limits after the one that refused it."""
    limits = _pair_tiers(email, address) + _wide_limits(email, address)
    for position, (item, identifiers) in enumerate(limits):
        wait = await rate_limits.hit(item, *identifiers)
        if wait:
            others = [await rate_limits.test(other, *ids) for other, ids in limits[position + 1 :]]
            return max([wait, *others])
    return 0


async def succeeded(*, email: str, address: str) -> None:
    """The password was right: the pair starts afresh, and the attempt is taken back from the wider counts."""
    for item, identifiers in _pair_tiers(email, address):
        await rate_limits.clear(item, *identifiers)
    for item, identifiers in _wide_limits(email, address):
        await rate_limits.refund(item, *identifiers)
