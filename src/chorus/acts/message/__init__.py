"""Act ``message``: posting, reading and editing messages, marking them read, and digests by mail.

Public face: ``router``, handed out on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from chorus.acts.public_face import public_face

if TYPE_CHECKING:
    from fastapi import APIRouter

    router: APIRouter

__all__ = ["router"]

__getattr__ = public_face(__name__, prefix="/threads/{thread_id}", scenes=("posting", "reading"))
