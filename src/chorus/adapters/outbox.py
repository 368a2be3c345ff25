"""The transactional outbox: a task is stored in the transaction that causes it, then relayed to the broker.

A scene (or a task) calls ``queue_task`` before it commits; the row commits or rolls back with the data. Right after
the commit the task is published at once (off the event loop in the API), so it normally reaches a worker within
milliseconds; the relay in every worker's main process publishes whatever that missed (the broker was down, the
process died) and publishes again a task that was published but never done (a broker or worker lost it). Every
delivery carries the row's id as the Celery task id: tasks do their effect once per id, so publishing twice is safe.
The rows also hold each task's retries and, when it failed for good, its error (``chorus dead-letters``).
"""

from __future__ import annotations

import asyncio
import functools
import logging
import threading
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from celery import Task
from sqlalchemy import delete, event, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from chorus.db import async_engine, task_session
from chorus.models import OutboxTask, utcnow, uuid7

if TYPE_CHECKING:
    from anyio import CapacityLimiter

logger = logging.getLogger(__name__)

# A fresh row is left to the publish that follows its commit for this long before the relay takes it.
PUBLISH_GRACE = timedelta(seconds=2)
# A published task not done by then is published again: longer than a run may take (the task time limit, 300 s).
REDELIVER_AFTER = timedelta(minutes=10)
# After a failed publish (broker down) the relay tries again this much later.
RELAY_BACKOFF = timedelta(seconds=1)
RELAY_BATCH = 100
# A publish gives up after this long (a partitioned broker never answers); the relay publishes the task later.
PUBLISH_TIMEOUT_SECONDS = 2
# Threads of an API process publishing at once: an unreachable broker holds these, never the threads hashing uses.
PUBLISHING_THREADS = 4
FINISHED_KEPT = timedelta(days=1)
ERROR_CHARS = 4000
_QUEUED = "chorus.outbox"


@dataclass(frozen=True)
class Outgoing:
    """What the broker needs to deliver one outbox row."""

    id: uuid.UUID
    task: str
    args: list[Any]
    kwargs: dict[str, Any]
    attempts: int = 0


def queue_task(session: Session | AsyncSession, task: Task[Any, Any] | str, *args: Any, **kwargs: Any) -> uuid.UUID:
    """Record ``task(*args, **kwargs)`` in ``session``'s transaction; it is published once that commits."""
    outgoing = Outgoing(uuid7(), task if isinstance(task, str) else task.name, list(args), kwargs)
    session.add(
        OutboxTask(
            id=outgoing.id,
            task=outgoing.task,
            args=outgoing.args,
            kwargs=outgoing.kwargs,
            due_at=utcnow() + PUBLISH_GRACE,
        )
    )
    sync_session = session.sync_session if isinstance(session, AsyncSession) else session
    if _QUEUED not in sync_session.info:
        sync_session.info[_QUEUED] = []
        event.listen(sync_session, "after_commit", _publish_committed)
        event.listen(sync_session, "after_soft_rollback", _forget_rolled_back)
    sync_session.info[_QUEUED].append(outgoing)
    return outgoing.id


def _publish_committed(session: Session) -> None:
    committed: list[Outgoing] = session.info.get(_QUEUED, [])
    if not committed:
        return
    session.info[_QUEUED] = []
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        publish_now(committed)  # a task's own session: it may wait for the broker
    else:
        _keep_until_done(loop.create_task(_publish_off_loop(committed)))


def _forget_rolled_back(session: Session, _previous_transaction: Any) -> None:
    session.info[_QUEUED] = []


_in_flight: set[asyncio.Task[None]] = set()


def _keep_until_done(task: asyncio.Task[None]) -> None:
    _in_flight.add(task)
    task.add_done_callback(_in_flight.discard)


@functools.cache
def _publishing_threads() -> CapacityLimiter:
    """Made on first use, inside the event loop that serves requests."""
    from anyio import CapacityLimiter

    return CapacityLimiter(PUBLISHING_THREADS)


async def _publish_off_loop(committed: list[Outgoing]) -> None:
    """The API's side: publish in a thread, then mark the rows published; a failure leaves them to the relay."""
    from anyio import to_thread

    try:
        await to_thread.run_sync(_publish_all, committed, limiter=_publishing_threads())
        async with async_engine().begin() as connection:
            await connection.execute(_mark_published([o.id for o in committed]))
    except Exception:
        logger.warning("outbox: %d task(s) left for the relay", len(committed), exc_info=True)


def publish_now(committed: list[Outgoing]) -> None:
    """Publish and mark published, from a worker or a scheduler; a failure leaves the rows to the relay."""
    try:
        _publish_all(committed)
        with task_session() as session:
            session.execute(_mark_published([o.id for o in committed]))
            session.commit()
    except Exception:
        logger.warning("outbox: %d task(s) left for the relay", len(committed), exc_info=True)


def _publish_all(committed: list[Outgoing]) -> None:
    for outgoing in committed:
        _publish(outgoing)


def _publish(outgoing: Outgoing) -> None:
    from chorus.celery import app

    app.send_task(
        outgoing.task,
        args=outgoing.args,
        kwargs=outgoing.kwargs,
        task_id=str(outgoing.id),
        retries=outgoing.attempts,
        timeout=PUBLISH_TIMEOUT_SECONDS,
        confirm_timeout=PUBLISH_TIMEOUT_SECONDS,
    )


def _mark_published(ids: list[uuid.UUID]) -> Any:
    """Rows published right after their commit; one a worker already ran (done, or rescheduled by a retry, which
    counts an attempt) is left as the worker left it."""
    now = utcnow()
    return (
        update(OutboxTask)
        .where(OutboxTask.id.in_(ids), OutboxTask.state == "pending", OutboxTask.attempts == 0)
        .values(state="published", published_at=now, due_at=now + REDELIVER_AFTER)
    )


def _if_unchanged(seen: Outgoing, state: str) -> Any:
    """An update of the row as the relay read it: a worker that marked it done or rescheduled it meanwhile wins."""
    return update(OutboxTask).where(
        OutboxTask.id == seen.id, OutboxTask.state == state, OutboxTask.attempts == seen.attempts
    )


def relay_due(limit: int = RELAY_BATCH) -> int:
    """Publish the rows that are due, claimed so that relays of several workers never publish one row together."""
    published = 0
    with task_session() as session:
        rows = session.execute(
            select(
                OutboxTask.id,
                OutboxTask.task,
                OutboxTask.args,
                OutboxTask.kwargs,
                OutboxTask.attempts,
                OutboxTask.state,
            )
            .where(OutboxTask.state.in_(("pending", "published")), OutboxTask.due_at <= utcnow())
            .order_by(OutboxTask.due_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        ).all()
        for row_id, task, args, kwargs, attempts, state in rows:
            seen = Outgoing(row_id, task, args, kwargs, attempts)
            if state == "published":
                logger.warning("outbox: task %s (%s) was published but never done: publishing it again", row_id, task)
            try:
                _publish(seen)
            except Exception:
                logger.warning("outbox: could not publish task %s (%s); trying again shortly", row_id, task)
                session.execute(_if_unchanged(seen, state).values(due_at=utcnow() + RELAY_BACKOFF))
                break
            now = utcnow()
            session.execute(
                _if_unchanged(seen, state).values(state="published", published_at=now, due_at=now + REDELIVER_AFTER)
            )
            published += 1
        session.commit()
    return published


def purge_finished(older_than: timedelta = FINISHED_KEPT) -> int:
    with task_session() as session:
        purged = session.execute(
            delete(OutboxTask).where(OutboxTask.state == "done", OutboxTask.finished_at < utcnow() - older_than)
        ).rowcount  # type: ignore[attr-defined]
        session.commit()
    return int(purged or 0)


class OutboxRelay:
    """The relay loop, in a thread of the worker's main process (the worker has the broker and the database)."""

    def __init__(self, poll_seconds: float) -> None:
        self.poll_seconds = poll_seconds
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="chorus-outbox-relay", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        purged_at = 0.0
        while not self._stopping.wait(self.poll_seconds):
            try:
                while relay_due() == RELAY_BATCH and not self._stopping.is_set():
                    pass
                if (now := utcnow().timestamp()) - purged_at > 3600:
                    purge_finished()
                    purged_at = now
            except Exception:
                logger.warning("outbox relay: the database is unreachable; trying again", exc_info=True)


def _settle(task_id: str | None, values: dict[str, Any], *states: str) -> bool:
    """Move the row of ``task_id`` to ``values`` if it is in one of ``states``; False when there is none (or the
    database cannot be reached), so the caller falls back on what the broker can do."""
    if task_id is None:
        return False
    try:
        row_id = uuid.UUID(task_id)
        with task_session() as session:
            changed = session.scalars(
                update(OutboxTask)
                .where(OutboxTask.id == row_id, OutboxTask.state.in_(states))
                .values(**values)
                .returning(OutboxTask.id)
            ).first()
            session.commit()
    except Exception:
        logger.warning("outbox: could not record the outcome of task %s", task_id, exc_info=True)
        return False
    return changed is not None


def mark_done(task_id: str | None) -> None:
    """The task's effect happened; a row that cannot be marked is published again later, and its run finds the
    effect done."""
    _settle(task_id, {"state": "done", "finished_at": utcnow(), "error": None}, "pending", "published")


def reschedule(task_id: str | None, *, attempts: int, delay: timedelta, error: str) -> bool:
    """Put a task that met a passing outage back in the outbox, due after ``delay``."""
    values = {"state": "pending", "attempts": attempts, "due_at": utcnow() + delay, "error": error[:ERROR_CHARS]}
    return _settle(task_id, values, "pending", "published")


def bury(
    task_id: str | None, *, task: str, args: tuple[Any, ...], kwargs: dict[str, Any], attempts: int, error: str
) -> None:
    """Record a task that failed for good, where an operator finds it (``chorus dead-letters``)."""
    now = utcnow()
    values = {"state": "dead", "attempts": attempts, "finished_at": now, "error": error[:ERROR_CHARS]}
    if _settle(task_id, values, "pending", "published", "dead"):
        return
    try:  # a task that did not come through the outbox (sent by hand): recorded all the same
        with task_session() as session:
            session.add(
                OutboxTask(
                    id=uuid.UUID(task_id) if task_id else uuid7(),
                    task=task,
                    args=list(args),
                    kwargs=kwargs,
                    due_at=now,
                    **values,
                )
            )
            session.commit()
    except Exception:
        logger.exception("outbox: could not record dead task %s (%s)", task_id, task)


def dead_letters(limit: int = 100) -> list[OutboxTask]:
    with task_session() as session:
        return list(
            session.scalars(
                select(OutboxTask)
                .where(OutboxTask.state == "dead")
                .order_by(OutboxTask.finished_at.desc())
                .limit(limit)
            )
        )


def revive(task_id: uuid.UUID) -> bool:
    """Queue a dead task again, from its first attempt (after its cause was fixed)."""
    with task_session() as session:
        changed = session.scalars(
            update(OutboxTask)
            .where(OutboxTask.id == task_id, OutboxTask.state == "dead")
            .values(state="pending", attempts=0, due_at=utcnow(), finished_at=None)
            .returning(OutboxTask.id)
        ).first()
        session.commit()
    return changed is not None
