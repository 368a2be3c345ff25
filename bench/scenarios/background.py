"""Background work: notification digests processed per second end to end (published, run by the chorus worker,
mail written and recorded), beside a no-op task's rate through the same broker and the same worker settings.

Digests are published as the sweep queues them, in batches (``DIGEST_BATCH`` per task); each digest counts.
Digests are made owed on seeded threads: a participant's read marker and last mailed message are moved 20
messages back, exactly what a digest then covers. Both are put back afterwards. The clock starts before the first
task is published and stops when the last one finished (its ``sent_at``; for no-ops, the Redis counter). A few
tasks go first, unmeasured, so that every pool process has imported and connected what its tasks need.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select, tuple_, update

from bench.machinery.cpu import CpuUse, CpuWatch
from bench.machinery.dataset import Dataset
from bench.machinery.run_threads import TITLE_PREFIX
from chorus.models import Digest, MailDelivery, Participant, Thread, utcnow

UNREAD = 20
WARMUP_TASKS = 10
WARMUP_BATCH = 2  # digests per warm-up task: enough tasks that every pool process gets some
DIGEST_POLL_SECONDS = 0.02
NOOP_POLL_SECONDS = 0.005
MIN_TIMEOUT_SECONDS = 60


@dataclass(frozen=True)
class Throughput:
    tasks: int
    completed: int
    seconds: float
    publish_seconds: float
    cpu: CpuUse

    @property
    def per_second(self) -> float:
        return self.completed / self.seconds if self.seconds else 0.0

    def as_json(self) -> dict[str, Any]:
        return {
            "tasks": self.tasks,
            "completed": self.completed,
            "errors": self.tasks - self.completed,
            "seconds": round(self.seconds, 3),
            "per_second": round(self.per_second, 1),
            "publish_seconds": round(self.publish_seconds, 3),
            "worker_cpu_ms_per_task": round(1000 * self.cpu.app_seconds / self.completed, 3)
            if self.completed
            else None,
            "cpu": self.cpu.as_json(),
        }


@dataclass(frozen=True)
class _Owed:
    thread_id: uuid.UUID
    user_id: uuid.UUID
    read_seq: int
    notified_seq: int
    last_seq: int


def _make_digests_owed(count: int, dataset: Dataset) -> list[_Owed]:
    from chorus.db import task_session

    with task_session() as session:
        rows = session.execute(
            select(Participant.thread_id, Participant.user_id, Participant.read_seq, Participant.notified_seq)
            .add_columns(Thread.last_seq)
            .join(Thread, Thread.id == Participant.thread_id)
            .where(
                Thread.last_seq > UNREAD,
                Thread.id != dataset.big_thread_id,
                ~Thread.title.startswith(TITLE_PREFIX),
            )
            .order_by(Participant.thread_id, Participant.user_id)
            .limit(count)
        ).all()
        owed = [_Owed(*row) for row in rows]
        session.execute(delete(Digest))  # only bench runs write digests in the bench database
        session.execute(_forget_mails(owed))  # or a run after the first finds them sent, and sends nothing
        for item in owed:
            session.execute(
                update(Participant)
                .where(Participant.thread_id == item.thread_id, Participant.user_id == item.user_id)
                .values(read_seq=item.last_seq - UNREAD, notified_seq=item.last_seq - UNREAD)
            )
        session.commit()
    if len(owed) < count:
        raise RuntimeError(f"digests: only {len(owed)} participants to owe a digest, {count} wanted")
    return owed


def _put_back(owed: list[_Owed]) -> None:
    from chorus.db import task_session

    with task_session() as session:
        for item in owed:
            session.execute(
                update(Participant)
                .where(Participant.thread_id == item.thread_id, Participant.user_id == item.user_id)
                .values(read_seq=item.read_seq, notified_seq=item.notified_seq)
            )
        pairs = [(item.thread_id, item.user_id) for item in owed]
        session.execute(delete(Digest).where(tuple_(Digest.thread_id, Digest.user_id).in_(pairs)))
        session.execute(_forget_mails(owed))
        session.commit()


def _forget_mails(owed: list[_Owed]) -> Any:
    """The records of the digests' mails (keyed by what each covers, as the task keys them)."""
    keys = [f"digest-{item.thread_id}-{item.user_id}-{item.last_seq}" for item in owed]
    return delete(MailDelivery).where(MailDelivery.key.in_(keys))


def _sent_digests() -> tuple[int, datetime | None]:
    from chorus.db import task_session

    with task_session() as session:
        count, last = session.execute(
            select(func.count(), func.max(Digest.sent_at)).where(Digest.sent_at.is_not(None))
        ).one()
    return int(count), last


def _wait(done: Callable[[], int], expected: int, timeout: float, poll: float) -> int:
    deadline = time.perf_counter() + timeout
    finished = done()
    while finished < expected and time.perf_counter() < deadline:
        time.sleep(poll)
        finished = done()
    return finished


def _publish(name: str, argument_lists: list[list[Any]], queue: str | None = None) -> float:
    """Publish every task on one producer connection; seconds it took."""
    from chorus.celery import app

    started = time.perf_counter()
    with app.producer_or_acquire() as producer:
        for args in argument_lists:
            app.send_task(name, args=args, queue=queue, producer=producer)
    return time.perf_counter() - started


def _digest_batches(owed: list[_Owed], size: int) -> list[list[Any]]:
    """The tasks' arguments as the sweep queues them: one task per batch of ``size`` digests."""
    digests = [[str(item.thread_id), str(item.user_id), item.last_seq] for item in owed]
    return [[digests[first : first + size]] for first in range(0, len(digests), size)]


def measure_digests(count: int, dataset: Dataset, worker_pids: Callable[[], list[int]]) -> Throughput:
    from chorus.acts.message.tasks.digest import DIGEST_BATCH

    owed = _make_digests_owed(WARMUP_TASKS + count, dataset)
    warmup, measured = owed[:WARMUP_TASKS], owed[WARMUP_TASKS:]
    try:
        _publish("message.send_digests", _digest_batches(warmup, WARMUP_BATCH))
        if _wait(lambda: _sent_digests()[0], WARMUP_TASKS, MIN_TIMEOUT_SECONDS, DIGEST_POLL_SECONDS) < WARMUP_TASKS:
            raise RuntimeError("digests: the warm-up tasks did not finish; see the worker's log")
        watch = CpuWatch(worker_pids)
        watch.start()
        started_at, started = utcnow(), time.perf_counter()
        publish_seconds = _publish("message.send_digests", _digest_batches(measured, DIGEST_BATCH))
        timeout = max(MIN_TIMEOUT_SECONDS, count / 10)
        done = _wait(lambda: _sent_digests()[0] - WARMUP_TASKS, count, timeout, DIGEST_POLL_SECONDS)
        cpu = watch.stop()
        waited = time.perf_counter() - started
        last_sent = _sent_digests()[1]
        seconds = (last_sent - started_at).total_seconds() if last_sent and done == count else waited
    finally:
        _put_back(owed)
    return Throughput(tasks=count, completed=done, seconds=seconds, publish_seconds=publish_seconds, cpu=cpu)


def measure_noop(
    count: int, queue: str, redis_url: str, counter: str, worker_pids: Callable[[], list[int]]
) -> Throughput:
    from redis import Redis

    redis = Redis.from_url(redis_url)
    try:
        redis.delete(counter)
        _publish("bench.noop", [[counter]] * WARMUP_TASKS, queue=queue)
        _wait(lambda: int(redis.get(counter) or 0), WARMUP_TASKS, MIN_TIMEOUT_SECONDS, NOOP_POLL_SECONDS)
        redis.delete(counter)
        watch = CpuWatch(worker_pids)
        watch.start()
        started = time.perf_counter()
        publish_seconds = _publish("bench.noop", [[counter]] * count, queue=queue)
        timeout = max(MIN_TIMEOUT_SECONDS, count / 50)
        done = _wait(lambda: int(redis.get(counter) or 0), count, timeout, NOOP_POLL_SECONDS)
        seconds = time.perf_counter() - started
        cpu = watch.stop()
        redis.delete(counter)
    finally:
        redis.close()
    return Throughput(tasks=count, completed=done, seconds=seconds, publish_seconds=publish_seconds, cpu=cpu)
