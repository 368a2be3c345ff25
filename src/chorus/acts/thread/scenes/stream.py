"""Live updates of one thread as server-sent events, resumable with ``Last-Event-ID``.

A stream lives no longer than the right to read it: it ends when its access token expires and when its reader is no
longer a participant with a live account (re-checked on every event and every ``CHORUS_STREAM_RECHECK_SECONDS``),
telling the client why in a last ``end`` event. Open streams are capped per person and per process.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header
from fastapi.sse import EventSourceResponse, ServerSentEvent
from sqlalchemy.exc import SQLAlchemyError

from chorus.acts.auth import CurrentSession, access_is_live
from chorus.acts.thread.event_log import channel, events_after
from chorus.acts.thread.membership import MyThread, still_in_thread
from chorus.adapters.hub import SubscriberDropped, get_hub
from chorus.config import get_settings
from chorus.schema.page import MAX_SEQ
from chorus.web import DatabaseSession, Problem, documented

logger = logging.getLogger(__name__)
router = APIRouter()

REPLAY_BATCH = 500
RETRY_AFTER_SECONDS = 10
CLOCK_SLACK = 0.01  # a loop timer may fire this much before its time: the expiry is then due, not missed
"""What a refused stream is told to wait: long enough for one of the holder's streams to end."""

Event = tuple[int, str, Any]

DESCRIPTION = """\
Server-sent events of the thread, from now on or, with `Last-Event-ID`, from after that event (kept for
`CHORUS_EVENT_RETENTION_HOURS`).

The stream ends, after a last event `end` whose data names the reason, when reading it is no longer allowed:

- `{"reason": "token_expired"}`: the access token's `exp` has passed (even on a quiet thread);
- `{"reason": "removed"}`: the reader left or was removed (right after that `participant.removed` event);
- `{"reason": "session_ended"}`: the token's login session ended (logout, a password change or reset, the
  account deleted, the session ended from another device); checked before every event, within
  `CHORUS_SESSION_CHECK_SECONDS` of its end on another API process;
- `{"reason": "access_revoked"}`: the reader is no longer a participant or its account is gone, found on a
  re-check at least every `CHORUS_STREAM_RECHECK_SECONDS`;
- `{"reason": "fell_behind"}`: the reader did not keep up with the thread;
- `{"reason": "interrupted"}`: live delivery was interrupted (the server lost Redis, or got it back after an outage
  during which this stream was opened): reconnect at once, nothing is lost;
- `{"reason": "unavailable"}`: the database could not be asked.

A client resumes with a fresh token and the `Last-Event-ID` of the last event it received, and misses nothing it
may still read. The `end` event carries no id, except after `fell_behind` and `interrupted`: there its id is the last
event the stream delivered or, if none, the point the stream started from, so a client that heard nothing yet (as
`EventSource` does) resumes from there.

Each person may hold `CHORUS_STREAMS_PER_USER` open streams on an API process, and a process serves at most
`CHORUS_STREAMS_PER_PROCESS`; over either cap the answer is 429 with `Retry-After` (code `too_many_streams` or
`streams_at_capacity`).
"""


class _Slots:
    """This process's open streams, in all and by person; only one event loop touches it, so no lock."""

    def __init__(self) -> None:
        self.by_user: Counter[uuid.UUID] = Counter()
        self.total = 0

    def take(self, user_id: uuid.UUID) -> None:
        settings = get_settings()
        if self.by_user[user_id] >= settings.streams_per_user:
            raise _busy(f"at most {settings.streams_per_user} open event streams per person", "too_many_streams")
        if self.total >= settings.streams_per_process:
            raise _busy("this server has no room for another event stream", "streams_at_capacity")
        self.by_user[user_id] += 1
        self.total += 1

    def give_back(self, user_id: uuid.UUID) -> None:
        self.total -= 1
        self.by_user[user_id] -= 1
        if self.by_user[user_id] <= 0:
            del self.by_user[user_id]


_slots = _Slots()


def _busy(detail: str, code: str) -> Problem:
    return Problem(429, detail, code, headers={"Retry-After": str(RETRY_AFTER_SECONDS)})


async def stream_slot(claims: CurrentSession, membership: MyThread) -> AsyncIterator[None]:
    """Hold one of the capped stream slots for as long as the response lasts, however it ends.

    A request-scoped dependency: its exit runs after the streaming response is over, also on a client's
    disconnect or an error, so a slot is never kept by a stream that is gone.
    """
    _slots.take(claims.user_id)
    try:
        yield
    finally:
        _slots.give_back(claims.user_id)


def _sse(seq: int, type_: str, data: Any) -> ServerSentEvent:
    return ServerSentEvent(id=str(seq), event=type_, raw_data=json.dumps(data, separators=(",", ":")))


def _end(reason: str, resume_after: int | None = None) -> ServerSentEvent:
    """The last event of a stream. Its id, when the client is to resume, is the last event the stream delivered or,
    if it delivered none, the point it started from: a client that heard nothing yet resumes from there too."""
    data = json.dumps({"reason": reason}, separators=(",", ":"))
    return ServerSentEvent(event="end", raw_data=data, id=None if resume_after is None else str(resume_after))


def _removes(user_id: str, type_: str, data: Any) -> bool:
    return type_ == "participant.removed" and data.get("user_id") == user_id


async def _receive(live: AsyncIterator[str]) -> str:
    return await anext(live)


@router.get(
    "/{thread_id}/events",
    response_class=EventSourceResponse,
    summary="Live events of a thread: message.created, .edited, .deleted, participant.added, .removed; end",
    description=DESCRIPTION,
    responses=documented(401, 404, 422, 429),
)
async def stream_thread_events(
    membership: MyThread,
    claims: CurrentSession,
    session: DatabaseSession,
    _slot: Annotated[None, Depends(stream_slot)],
    last_event_id: Annotated[
        int | None, Header(ge=0, le=MAX_SEQ, description="Resume after this event (sent by EventSource on reconnect).")
    ] = None,
) -> AsyncIterator[ServerSentEvent]:
    thread_id, me = membership.thread.id, str(membership.user.id)
    after = membership.thread.event_seq if last_event_id is None else last_event_id
    loop = asyncio.get_running_loop()
    expires = loop.time() + (claims.expires_at - time.time())
    period = get_settings().stream_recheck_seconds

    def recheck() -> float:
        """When the next full check is due: somewhere in the second half of the period, so that the streams of a
        busy thread, opened together, do not all ask the database on the same event."""
        return loop.time() + period * random.uniform(0.5, 1.0)  # noqa: S311 (a spread, not a secret)

    async def missed_since(seq: int) -> list[Event]:
        """Events after ``seq`` from the log; the session goes back to the pool so a quiet stream holds none."""
        found: list[Event] = []
        while batch := await events_after(session, thread_id=thread_id, after_seq=seq, limit=REPLAY_BATCH):
            found += [(event.seq, event.type, event.data) for event in batch]
            seq = batch[-1].seq
            if len(batch) < REPLAY_BATCH:
                break
        await session.close()
        return found

    async def replayed(seq: int) -> list[Event] | None:
        """``missed_since``, or None when the database does not answer (the stream then ends, to resume later)."""
        try:
            return await missed_since(seq)
        except (SQLAlchemyError, OSError):
            logger.warning("live updates: could not replay a stream's missed events; ending it", exc_info=True)
            return None

    async def end_reason(*, full: bool) -> str | None:
        """The one place that decides whether the stream may go on: None if so, else why it ends.

        The token's expiry and its session (from the guard's cache, no query) are checked before every delivery;
        the reader's membership and account in the database on a ``full`` check, at most every
        CHORUS_STREAM_RECHECK_SECONDS, since a removal also arrives, in order, as an event of the thread.
        """
        if loop.time() >= expires - CLOCK_SLACK:
            return "token_expired"
        try:
            if not await access_is_live(claims):
                return "session_ended"
            if not full:
                return None
            allowed = await still_in_thread(session, thread_id=thread_id, claims=claims)
            await session.close()
        except (SQLAlchemyError, OSError):
            logger.warning("live updates: could not re-check a stream's reader; ending it", exc_info=True)
            return "unavailable"
        return None if allowed else "access_revoked"

    async with get_hub().subscribe(channel(thread_id)) as live:
        if (pending := await replayed(after)) is None:
            yield _end("unavailable", resume_after=after)
            return
        next_check = recheck()  # my_thread has just checked
        incoming: asyncio.Task[str] | None = None
        try:
            while True:
                if pending:
                    full = loop.time() >= next_check
                    reason = await end_reason(full=full)
                    if full:
                        next_check = recheck()
                    if reason is not None:
                        # What happened while I was still in the thread is mine to read, up to my own removal.
                        upto = next((i for i, (_, t, d) in enumerate(pending) if _removes(me, t, d)), None)
                        if reason == "access_revoked" and upto is not None:
                            pending, reason = pending[: upto + 1], "removed"
                        else:
                            pending = []
                        for seq, type_, data in pending:
                            if seq > after:
                                yield _sse(seq, type_, data)
                        yield _end(reason, resume_after=after if reason == "unavailable" else None)
                        return
                for seq, type_, data in pending:
                    if seq <= after:
                        continue
                    yield _sse(seq, type_, data)
                    after = seq
                    if _removes(me, type_, data):
                        yield _end("removed")
                        return
                if incoming is None:
                    incoming = asyncio.create_task(_receive(live))
                wake = min(next_check, expires)
                done, _ = await asyncio.wait({incoming}, timeout=max(0.0, wake - loop.time()))
                if not done:
                    # Quiet: the token may have expired, or the reader gone without an event of this thread.
                    if (reason := await end_reason(full=True)) is not None:
                        yield _end(reason, resume_after=after if reason == "unavailable" else None)
                        return
                    next_check, pending = recheck(), []
                    continue
                arrived, incoming = incoming, None
                try:
                    message = json.loads(arrived.result())
                except SubscriberDropped as dropped:
                    # fell behind, or live delivery was interrupted: the client reconnects with Last-Event-ID and
                    # catches up from the log
                    yield _end(dropped.reason, resume_after=after)
                    return
                if message["seq"] == after + 1:
                    pending = [(message["seq"], message["type"], message["data"])]
                elif message["seq"] > after:
                    # One arrived out of order: the log has them all, in order.
                    if (replay := await replayed(after)) is None:
                        yield _end("unavailable", resume_after=after)
                        return
                    pending = replay
                else:
                    pending = []
        finally:
            if incoming is not None:
                incoming.cancel()
                await asyncio.wait({incoming})  # done before the subscription it reads from is closed
