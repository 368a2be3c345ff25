"""Live updates of one thread as server-sent events, resumable with ``Last-Event-ID``.

A stream lives no longer than the right to read it: it ends when its access token expires and when its reader is no
longer a participant with a live account (re-checked on every event and every ``CHORUS_STREAM_RECHECK_SECONDS``),
telling the client why in a last ``end`` event. Open streams are capped per person and per process.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import math
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, Depends, Header, Response
from fastapi.sse import KEEPALIVE_COMMENT, EventSourceResponse, format_sse_event
from sqlalchemy.exc import SQLAlchemyError

from chorus.acts.auth import CurrentSession, access_is_live
from chorus.acts.thread.event_log import channel, events_after
from chorus.acts.thread.membership import MyThread, still_in_thread
from chorus.adapters.hub import SubscriberDropped, get_hub
from chorus.config import get_settings
from chorus.schema.page import MAX_SEQ
from chorus.web import DatabaseSession, Problem, documented

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

logger = logging.getLogger(__name__)
router = APIRouter()

REPLAY_BATCH = 500
RETRY_AFTER_SECONDS = 10
"""What a refused stream is told to wait: long enough for one of the holder's streams to end."""
CLOCK_SLACK = 0.01  # a loop timer may fire this much before its time: the expiry is then due, not missed
KEEPALIVE_SECONDS = 15.0  # a comment on a stream this long quiet: proxies keep it open, and a gone client shows
NOT_BUFFERED = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}  # the last for nginx
EVENT_SCHEMA = {
    "type": "object",
    "properties": {
        "data": {"type": "string"},
        "event": {"type": "string"},
        "id": {"type": "string"},
        "retry": {"type": "integer", "minimum": 0},
    },
}

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


@dataclass(frozen=True)
class _Event:
    seq: int
    type: str
    data: Any
    frame: bytes  # as written on the wire


def _event(seq: int, type_: str, data: Any) -> _Event:
    raw = json.dumps(data, separators=(",", ":"))
    return _Event(seq, type_, data, format_sse_event(data_str=raw, event=type_, id=str(seq)))


@functools.lru_cache(maxsize=256)
def _published(message: str) -> _Event:
    """A published event, read and framed once for every stream of this process it reaches (each gets the same
    string from the hub, so the lookup hashes it once)."""
    event = json.loads(message)
    return _event(event["seq"], event["type"], event["data"])


def _end(reason: str, resume_after: int | None = None) -> bytes:
    """The last event of a stream. Its id, when the client is to resume, is the last event the stream delivered or,
    if it delivered none, the point it started from: a client that heard nothing yet resumes from there too."""
    data = json.dumps({"reason": reason}, separators=(",", ":"))
    return format_sse_event(data_str=data, event="end", id=None if resume_after is None else str(resume_after))


def _removes(user_id: str, event: _Event) -> bool:
    return event.type == "participant.removed" and event.data.get("user_id") == user_id


@router.get(
    "/{thread_id}/events",
    response_class=Response,  # the 200's content is documented in ``responses``, as FastAPI documents its own SSE
    summary="Live events of a thread: message.created, .edited, .deleted, participant.added, .removed; end",
    description=DESCRIPTION,
    responses={200: {"content": {"text/event-stream": {"itemSchema": EVENT_SCHEMA}}}, **documented(401, 404, 422, 429)},
)
async def stream_thread_events(
    membership: MyThread,
    claims: CurrentSession,
    session: DatabaseSession,
    _slot: Annotated[None, Depends(stream_slot)],
    last_event_id: Annotated[
        int | None, Header(ge=0, le=MAX_SEQ, description="Resume after this event (sent by EventSource on reconnect).")
    ] = None,
) -> EventSourceResponse:
    # The response's frames are written here, not by FastAPI's SSE machinery: one event reaches every open stream
    # of the thread, so its frame is made once and each stream only checks and writes it.
    after = membership.thread.event_seq if last_event_id is None else last_event_id
    frames = _frames(thread_id=membership.thread.id, claims=claims, session=session, after=after)
    return EventSourceResponse(frames, headers=NOT_BUFFERED)


async def _frames(
    *, thread_id: uuid.UUID, claims: CurrentSession, session: AsyncSession, after: int
) -> AsyncIterator[bytes]:
    """The stream's frames: what the log holds after ``after``, then each event as it is published, until reading
    it is no longer allowed."""
    me = str(claims.user_id)
    loop = asyncio.get_running_loop()
    expires = loop.time() + (claims.expires_at - time.time())
    period = get_settings().stream_recheck_seconds
    phase = (claims.user_id.int ^ thread_id.int) % 1000 / 1000 * period

    def recheck() -> float:
        """When the next full check is due: within the period, on a beat of this reader in this thread. All their
        streams in this process check together and share one query; other readers' beats fall elsewhere, so the
        streams of a busy thread do not all ask the database at once."""
        return phase + period * (math.floor((loop.time() - phase) / period) + 1)

    async def missed_since(seq: int) -> list[_Event]:
        """Events after ``seq`` from the log; the session goes back to the pool so a quiet stream holds none."""
        found: list[_Event] = []
        while batch := await events_after(session, thread_id=thread_id, after_seq=seq, limit=REPLAY_BATCH):
            found += [_event(event.seq, event.type, event.data) for event in batch]
            seq = batch[-1].seq
            if len(batch) < REPLAY_BATCH:
                break
        await session.close()
        return found

    async def replayed(seq: int) -> list[_Event] | None:
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
            if full and not await still_in_thread(thread_id=thread_id, claims=claims):
                return "access_revoked"
        except (SQLAlchemyError, OSError):
            logger.warning("live updates: could not re-check a stream's reader; ending it", exc_info=True)
            return "unavailable"
        return None

    async with get_hub().subscribe(channel(thread_id)) as live:
        if (pending := await replayed(after)) is None:
            yield _end("unavailable", resume_after=after)
            return
        next_check = recheck()  # my_thread has just checked
        written = loop.time()
        while True:
            if pending:
                full = loop.time() >= next_check
                reason = await end_reason(full=full)
                if full:
                    next_check = recheck()
                if reason is not None:
                    # What happened while I was still in the thread is mine to read, up to my own removal.
                    upto = next((i for i, event in enumerate(pending) if _removes(me, event)), None)
                    if reason == "access_revoked" and upto is not None:
                        pending, reason = pending[: upto + 1], "removed"
                    else:
                        pending = []
                    for event in pending:
                        if event.seq > after:
                            yield event.frame
                    yield _end(reason, resume_after=after if reason == "unavailable" else None)
                    return
            for event in pending:
                if event.seq <= after:
                    continue
                yield event.frame
                after, written = event.seq, loop.time()
                if _removes(me, event):
                    yield _end("removed")
                    return
            pending = []
            try:
                async with asyncio.timeout_at(min(next_check, expires, written + KEEPALIVE_SECONDS)):
                    message = await anext(live)
            except TimeoutError:
                if loop.time() < min(next_check, expires) - CLOCK_SLACK:
                    yield KEEPALIVE_COMMENT  # quiet, but not yet due for a check
                    written = loop.time()
                    continue
                # Quiet: the token may have expired, or the reader gone without an event of this thread.
                if (reason := await end_reason(full=True)) is not None:
                    yield _end(reason, resume_after=after if reason == "unavailable" else None)
                    return
                next_check = recheck()
                continue
            except SubscriberDropped as dropped:
                # fell behind, or live delivery was interrupted: the client reconnects with Last-Event-ID and
                # catches up from the log
                yield _end(dropped.reason, resume_after=after)
                return
            event = _published(message)
            if event.seq == after + 1:
                pending = [event]
            elif event.seq > after:
                # One arrived out of order: the log has them all, in order.
                if (replay := await replayed(after)) is None:
                    yield _end("unavailable", resume_after=after)
                    return
                pending = replay
