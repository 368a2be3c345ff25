"""Act ``accounts``: my profile, other people's public profiles, and finding people to invite.

Public face: ``router``, handed out on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from chorus.acts.public_face import public_face

if TYPE_CHECKING:
    from fastapi import APIRouter

    router: APIRouter

__all__ = ["router"]

# `me` first: /accounts/me is not a profile id.
__getattr__ = public_face(__name__, prefix="/accounts", scenes=("me", "people"))
