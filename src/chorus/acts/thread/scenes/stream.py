"""Live updates of one thread as server-sent events, resumable with ``Last-Event-ID``."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Header
from fastapi.sse import EventSourceResponse, ServerSentEvent

from chorus.acts.thread.event_log import channel, events_after
from chorus.acts.thread.membership import MyThread
from chorus.adapters.hub import SubscriberDropped, get_hub
from chorus.schema.page import MAX_SEQ
from chorus.web import DatabaseSession, documented

router = APIRouter()

REPLAY_BATCH = 500


def _sse(seq: int, type_: str, data: Any) -> ServerSentEvent:
    return ServerSentEvent(id=str(seq), event=type_, raw_data=json.dumps(data, separators=(",", ":")))


def _removes(user_id: str, type_: str, data: Any) -> bool:
    return type_ == "participant.removed" and data.get("user_id") == user_id


@router.get(
    "/{thread_id}/events",
    response_class=EventSourceResponse,
    summary="Live events of a thread: message.created, .edited, .deleted, participant.added, .removed",
    responses=documented(401, 404, 422),
)
async def stream_thread_events(
    membership: MyThread,
    session: DatabaseSession,
    last_event_id: Annotated[
        int | None, Header(ge=0, le=MAX_SEQ, description="Resume after this event (sent by EventSource on reconnect).")
    ] = None,
) -> AsyncIterator[ServerSentEvent]:
    thread_id, me = membership.thread.id, str(membership.user.id)
    after = membership.thread.event_seq if last_event_id is None else last_event_id

    async def missed_since(seq: int) -> list[tuple[int, str, Any]]:
        """Events after ``seq`` from the log; the session goes back to the pool so a quiet stream holds none."""
        found: list[tuple[int, str, Any]] = []
        while batch := await events_after(session, thread_id=thread_id, after_seq=seq, limit=REPLAY_BATCH):
            found += [(event.seq, event.type, event.data) for event in batch]
            seq = batch[-1].seq
            if len(batch) < REPLAY_BATCH:
                break
        await session.close()
        return found

    async with get_hub().subscribe(channel(thread_id)) as live:
        pending = await missed_since(after)
        while True:
            for seq, type_, data in pending:
                if seq <= after:
                    continue
                yield _sse(seq, type_, data)
                after = seq
                if _removes(me, type_, data):
                    return
            try:
                message = json.loads(await anext(live))
            except SubscriberDropped:
                return  # fell behind: the client reconnects with Last-Event-ID and catches up from the log
            if message["seq"] == after + 1:
                pending = [(message["seq"], message["type"], message["data"])]
            elif message["seq"] > after:
                pending = await missed_since(after)  # one arrived out of order: the log has them all, in order
            else:
                pending = []
