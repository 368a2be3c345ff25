"""Filling a database with a synthetic data set (``chorus seed``), large enough to benchmark and try things on.

Everything a real service would have written is there and consistent: users who can log in, threads with
participants, messages numbered 1..N per thread with times that grow with the number, thread summaries
(``last_seq``, ``last_message_id``, ``last_activity_at``) and read markers at various points. Messages are written
in time order across threads, as a live service would have written them, with PostgreSQL's COPY (or batched
executemany on SQLite) inside one transaction.
"""

from __future__ import annotations

import heapq
import json
import random
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from operator import itemgetter
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, exists, insert, select, text, update

from chorus.acts.auth.password_hashing import hash_password
from chorus.config import Environment, get_settings
from chorus.models import Base, Message, Participant, Thread, User, utcnow, uuid7

# Every seeded user has this password: the data set is for benchmarks and trying things, never for production.
PASSWORD = "chorus-seed-password"
EMAIL_DOMAIN = "example.com"
HISTORY = timedelta(days=365)
PROGRESS_EVERY = 100_000
SQLITE_BATCH = 10_000

# Word lists read better as text than as lists of quoted words.
FIRST_NAMES = (  # noqa: SIM905
    "Ada Alan Barbara Claude Dennis Donald Edsger Frances Grace Guido Hedy Ivan Jean John Ken Leslie Linus "
    "Margaret Niklaus Radia Richard Shafi Sophie Tim Tony Whitfield Yukihiro Anita Butler Carol Dana Evelyn"
).split()
LAST_NAMES = (  # noqa: SIM905
    "Lovelace Turing Liskov Shannon Ritchie Knuth Dijkstra Allen Hopper Rossum Lamarr Sutherland Sammet McCarthy "
    "Thompson Lamport Torvalds Hamilton Wirth Perlman Stallman Goldwasser Wilson Berners-Lee Hoare Diffie "
    "Matsumoto Borg Lampson Shaw Estrin Clarke"
).split()
WORDS = (  # noqa: SIM905
    "the a we it is that this to of and in on for with at by from about as but or not so if then when "
    "meeting lunch deploy release review draft plan budget invoice report ticket branch build test bug fix "
    "feature design database query index page cache queue worker server client api token login password "
    "thread message reply update change version schema migration benchmark latency throughput memory disk "
    "network today tomorrow monday friday morning afternoon week sprint deadline call notes agenda slides "
    "looks good great thanks sorry maybe probably definitely agree disagree idea question answer problem "
    "works fails slow fast broken fixed merged shipped blocked waiting ready done later soon now again "
    "please check send share read write open close start stop try need want think know see"
).split()
PUNCTUATION = ".....!?"

# The columns each bulk write fills, in the order the row tuples carry them.
USER_COLUMNS = (
    "id", "email", "password_hash", "display_name", "bio", "email_verified_at", "session_version", "created_at",
    "updated_at",
)  # fmt: skip
THREAD_COLUMNS = ("id", "title", "owner_id", "created_at", "last_activity_at", "last_seq", "event_seq")
MESSAGE_COLUMNS = ("id", "thread_id", "seq", "author_id", "body", "created_at", "edited_at", "deleted_at")
PARTICIPANT_COLUMNS = ("thread_id", "user_id", "joined_at", "read_seq", "notified_seq")


@dataclass(frozen=True)
class Parameters:
    """The size and shape of the data set; the defaults are the benchmark set of issue 3."""

    users: int = 1000
    threads: int = 2000
    messages: int = 200_000
    big_thread_messages: int = 1_000_000
    busy_user_threads: int = 1000
    participants_per_thread: int = 10
    seed: int = 2026

    def problems(self) -> list[str]:
        """What makes these parameters impossible to honour, so the command can refuse before writing."""
        found = []
        for name in ("users", "threads", "messages", "big_thread_messages", "busy_user_threads"):
            if getattr(self, name) < 0:
                found.append(f"--{name.replace('_', '-')} must not be negative")
        if self.users < 1:
            found.append("--users must be at least 1 (the busy user)")
        if not 1 <= self.participants_per_thread < self.users:
            found.append("--participants-per-thread must be at least 1 and less than --users")
        if self.messages and not self.threads:
            found.append("--messages needs at least one ordinary thread (--threads)")
        available = self.threads + (1 if self.big_thread_messages else 0)
        if self.busy_user_threads > available:
            found.append(f"--busy-user-threads: only {available} threads to be in")
        return found


@dataclass
class _ThreadPlan:
    """One thread to write; ``last_authored`` fills in while its messages are generated (read markers need it)."""

    id: uuid.UUID
    title: str
    created_at: datetime
    last_at: datetime
    messages: int
    members: list[uuid.UUID]
    last_authored: dict[uuid.UUID, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Seeded:
    """What a benchmark needs to find its way into the data set, and how long each phase took."""

    busy_user_id: uuid.UUID
    busy_user_email: str
    password: str
    busy_user_threads: int
    big_thread_id: uuid.UUID | None
    big_thread_messages: int
    counts: dict[str, int]
    seconds: dict[str, float]

    def as_json(self) -> dict[str, Any]:
        return {
            "busy_user": {
                "id": str(self.busy_user_id),
                "email": self.busy_user_email,
                "password": self.password,
                "threads": self.busy_user_threads,
            },
            "big_thread": None
            if self.big_thread_id is None
            else {"id": str(self.big_thread_id), "messages": self.big_thread_messages},
            "password_of_every_user": self.password,
            "counts": self.counts,
            "seconds": {phase: round(elapsed, 2) for phase, elapsed in self.seconds.items()},
        }

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.as_json(), indent=2) + "\n")


class SeedRefused(RuntimeError):
    """The seed would destroy or mix with data it did not make, or cannot build what was asked."""


class _Phases:
    """Times each phase and reports it, so a slow seed shows where the time goes."""

    def __init__(self, report: Callable[[str], None]) -> None:
        self.report = report
        self.seconds: dict[str, float] = {}
        self.started = time.perf_counter()

    @contextmanager
    def phase(self, name: str) -> Iterator[None]:
        start = time.perf_counter()
        yield
        self.seconds[name] = time.perf_counter() - start
        self.report(f"{name}: {self.seconds[name]:.1f} s")

    def counted(self, rows: Iterable[tuple[Any, ...]], name: str, total: int) -> Iterator[tuple[Any, ...]]:
        """Pass ``rows`` through, reporting every ``PROGRESS_EVERY`` rows how far the phase has got."""
        start = time.perf_counter()
        for done, row in enumerate(rows, start=1):
            yield row
            if done % PROGRESS_EVERY == 0:
                self.report(f"  {name}: {done:,} / {total:,} ({time.perf_counter() - start:.1f} s)")


def seed(
    engine: Engine, parameters: Parameters, *, reset: bool = False, report: Callable[[str], None] = print
) -> Seeded:
    """Write the data set in one transaction (emptying every table first if ``reset``), then refresh statistics."""
    if problems := parameters.problems():
        raise SeedRefused("; ".join(problems))
    if reset and get_settings().env is Environment.PRODUCTION:
        raise SeedRefused("--reset empties every table: refused with CHORUS_ENV=production")
    rng = random.Random(parameters.seed)  # noqa: S311 (reproducible synthetic data, no secrets)
    phases = _Phases(report)
    now = utcnow()
    total_messages = parameters.messages + parameters.big_thread_messages
    report(f"seeding {engine.url.render_as_string(hide_password=True)}: {total_messages:,} messages")
    with phases.phase("hash the password"):
        password_hash = hash_password(PASSWORD)
    users = _users(rng, parameters.users, now, password_hash)
    user_ids = [row[0] for row in users]
    plans = _plan_threads(rng, parameters, user_ids, now)
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            # One COPY of a million messages is one statement: a loaded machine takes it past the tasks' timeout.
            connection.execute(text("SET LOCAL statement_timeout = 0"))
        if reset:
            with phases.phase("empty the tables"):
                _empty(connection)
        elif _has_data(connection):
            raise SeedRefused("the database already has data; pass --reset to empty every table first")
        with phases.phase("users"):
            _load(connection, User, USER_COLUMNS, users)
        with phases.phase("threads"):
            _load(connection, Thread, THREAD_COLUMNS, (_thread_row(plan) for plan in plans))
        with phases.phase("messages"):
            stream = heapq.merge(*(_messages(rng, plan, now) for plan in plans), key=itemgetter(5))
            _load(connection, Message, MESSAGE_COLUMNS, phases.counted(stream, "messages", total_messages))
        with phases.phase("participants"):
            _load(connection, Participant, PARTICIPANT_COLUMNS, _participants(rng, plans))
        with phases.phase("thread summaries"):
            _summarise_threads(connection)
    with phases.phase("analyze"):
        _analyze(engine)
    phases.seconds["total"] = time.perf_counter() - phases.started
    big = plans[0] if parameters.big_thread_messages else None
    return Seeded(
        busy_user_id=user_ids[0],
        busy_user_email=users[0][1],
        password=PASSWORD,
        busy_user_threads=sum(1 for plan in plans if user_ids[0] in plan.members),
        big_thread_id=big.id if big else None,
        big_thread_messages=big.messages if big else 0,
        counts={
            "users": len(users),
            "threads": len(plans),
            "messages": total_messages,
            "participants": sum(len(plan.members) for plan in plans),
        },
        seconds=phases.seconds,
    )


def _users(rng: random.Random, count: int, now: datetime, password_hash: str) -> list[tuple[Any, ...]]:
    """Verified accounts that joined before the history starts; the first is the busy user."""
    rows = []
    for index in range(count):
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        joined = now - HISTORY - timedelta(days=rng.uniform(1, 365))
        email = f"{first}.{last}.{index}@{EMAIL_DOMAIN}".lower()
        bio = _sentence(rng, 12) if rng.random() < 0.3 else None
        rows.append((uuid7(), email, password_hash, f"{first} {last}", bio, joined, 0, joined, joined))
    return rows


def _plan_threads(
    rng: random.Random, parameters: Parameters, user_ids: Sequence[uuid.UUID], now: datetime
) -> list[_ThreadPlan]:
    """The big thread first (if any), then ordinary threads with a long-tailed share of the messages each."""
    busy, others = user_ids[0], user_ids[1:]
    size = parameters.participants_per_thread
    plans = []
    busy_left = parameters.busy_user_threads
    if parameters.big_thread_messages:
        members = [busy, *rng.sample(others, size - 1)] if busy_left else rng.sample(others, size)
        title = f"The big thread ({parameters.big_thread_messages:,} messages)"
        start = now - HISTORY
        plans.append(_ThreadPlan(uuid7(), title, start, now, parameters.big_thread_messages, members))
        busy_left = max(0, busy_left - 1)
    busy_in = set(rng.sample(range(parameters.threads), busy_left))
    for index, count in enumerate(_shares(rng, parameters.messages, parameters.threads)):
        if index in busy_in:
            members = rng.sample(others, size - 1)
            members.insert(rng.randrange(size), busy)
        else:
            members = rng.sample(others, size)
        created = now - HISTORY * rng.random()
        # Most threads have been active lately; some went quiet long ago.
        last_at = created + (now - created) * rng.random() ** 0.25
        plans.append(_ThreadPlan(uuid7(), _title(rng), created, last_at, count, members))
    return plans


def _shares(rng: random.Random, total: int, threads: int) -> list[int]:
    """Split ``total`` over ``threads`` with a long tail (a few busy threads, many small, some empty)."""
    weights = [0.0 if rng.random() < 0.05 else rng.paretovariate(1.16) for _ in range(threads)]
    if not any(weights):
        weights = [1.0] * threads  # every thread came out empty: spread evenly rather than lose the messages
    scale = total / (sum(weights) or 1.0)
    counts = [int(weight * scale) for weight in weights]
    busiest = sorted(range(threads), key=lambda index: weights[index], reverse=True)
    for index in busiest[: total - sum(counts)]:
        counts[index] += 1
    return counts


def _title(rng: random.Random) -> str:
    return " ".join(rng.choices(WORDS[20:], k=rng.randint(1, 4))).capitalize()


def _sentence(rng: random.Random, mean_words: float) -> str:
    words = rng.choices(WORDS, k=min(200, 1 + int(rng.expovariate(1 / mean_words))))
    return " ".join(words).capitalize() + rng.choice(PUNCTUATION)


def _body(rng: random.Random) -> str:
    """Mostly one short sentence; now and then a few, sometimes on separate lines, as people write."""
    if rng.random() < 0.8:
        return _sentence(rng, 9)
    sentences = [_sentence(rng, 12) for _ in range(rng.randint(2, 6))]
    return rng.choice((" ", "\n", "\n\n")).join(sentences)


def _thread_row(plan: _ThreadPlan) -> tuple[Any, ...]:
    """The thread with its final ``last_seq``; the last message's id and time are filled in once it exists."""
    return (plan.id, plan.title, plan.members[0], plan.created_at, plan.created_at, plan.messages, 0)


def _messages(rng: random.Random, plan: _ThreadPlan, now: datetime) -> Iterator[tuple[Any, ...]]:
    """The thread's messages in order, times growing with seq; talkative members write more than quiet ones."""
    if not plan.messages:
        return
    talkativeness = [rng.paretovariate(1.5) for _ in plan.members]
    authors = rng.choices(plan.members, weights=talkativeness, k=plan.messages)
    step = (plan.last_at - plan.created_at) / plan.messages
    for seq, author in enumerate(authors, start=1):
        at = plan.created_at + step * (seq - 1 + rng.random()) if seq < plan.messages else plan.last_at
        body: str | None = _body(rng)
        edited = deleted = None
        fate = rng.random()
        if fate < 0.005:
            body, deleted = None, min(now, at + timedelta(minutes=rng.uniform(1, 600)))
        elif fate < 0.025:
            edited = min(now, at + timedelta(seconds=rng.uniform(5, 900)))
        plan.last_authored[author] = seq
        yield (uuid7(), plan.id, seq, author, body, at, edited, deleted)


def _participants(rng: random.Random, plans: Iterable[_ThreadPlan]) -> Iterator[tuple[Any, ...]]:
    """Members with read markers at various points, never behind their own last message.

    Everything up to the end counts as already mailed, so a worker started on the seeded database does not
    send a digest to every member with unread messages.
    """
    for plan in plans:
        for member in plan.members:
            own = plan.last_authored.get(member, 0)
            chance = rng.random()
            if chance < 0.6:
                read = plan.messages
            elif chance < 0.85:
                read = rng.randint(own, plan.messages)
            else:
                read = own
            yield (plan.id, member, plan.created_at, read, plan.messages)


def _summarise_threads(connection: Connection) -> None:
    """Point each thread at its newest message, as posting would have: id and time of message ``last_seq``."""
    connection.execute(
        update(Thread)
        .where(Message.thread_id == Thread.id, Message.seq == Thread.last_seq)
        .values(last_message_id=Message.id, last_activity_at=Message.created_at)
    )


def _has_data(connection: Connection) -> bool:
    return any(connection.scalar(select(exists().select_from(table))) for table in Base.metadata.sorted_tables)


def _empty(connection: Connection) -> None:
    tables = list(reversed(Base.metadata.sorted_tables))
    if connection.dialect.name == "postgresql":
        quote = connection.dialect.identifier_preparer.quote
        connection.execute(text(f"TRUNCATE {', '.join(quote(table.name) for table in tables)}"))
    else:
        for table in tables:
            connection.execute(table.delete())


def _load(connection: Connection, model: type[Base], columns: Sequence[str], rows: Iterable[tuple[Any, ...]]) -> None:
    """Bulk-write rows: one COPY on PostgreSQL, executemany in batches elsewhere (SQLAlchemy converts the types)."""
    if connection.dialect.name == "postgresql":
        import psycopg

        driver = connection.connection.driver_connection
        assert isinstance(driver, psycopg.Connection)
        quote = connection.dialect.identifier_preparer.quote
        names = ", ".join(quote(column) for column in columns)
        with driver.cursor() as cursor, cursor.copy(f"COPY {quote(model.__tablename__)} ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        return
    statement = insert(model)
    batch: list[dict[str, Any]] = []
    for row in rows:
        batch.append(dict(zip(columns, row, strict=True)))
        if len(batch) == SQLITE_BATCH:
            connection.execute(statement, batch)
            batch = []
    if batch:
        connection.execute(statement, batch)


def _analyze(engine: Engine) -> None:
    """Fresh statistics, so the planner walks the (thread_id, seq) index; on PostgreSQL VACUUM also sets hint
    bits and the visibility map now rather than on the first benchmark's reads."""
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM ANALYZE" if connection.dialect.name == "postgresql" else "ANALYZE"))
