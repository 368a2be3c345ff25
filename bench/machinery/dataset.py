"""The data set every run reads: made once by ``make seed`` into the bench database and kept between runs.

``var/bench/seed.json`` (written by ``chorus seed``) says where to find the busy user and the big thread; the
database is checked against it, and seeded again (``--reset``) when either is missing or they disagree.
"""

from __future__ import annotations

import json
import subprocess
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import func, select

from bench.machinery.environment import RunEnvironment, ensure_database

BIG_THREAD_MESSAGES = 1_000_000
BUSY_USER_THREADS = 1_000


class DatasetUnusable(RuntimeError):
    pass


@dataclass(frozen=True)
class Dataset:
    busy_user_id: uuid.UUID
    busy_user_email: str
    password: str
    busy_user_threads: int
    big_thread_id: uuid.UUID
    big_thread_last_seq: int


def _from_seed_file(run: RunEnvironment) -> Dataset | None:
    """The data set ``seed.json`` describes, if the database holds it at the size the scenarios need."""
    from chorus.db import task_session
    from chorus.models import Participant, Thread, User

    try:
        seeded = json.loads(run.seed_file.read_text())
        busy_user_id = uuid.UUID(seeded["busy_user"]["id"])
        big_thread_id = uuid.UUID(seeded["big_thread"]["id"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    with task_session() as session:
        user = session.get(User, busy_user_id)
        last_seq = session.scalar(select(Thread.last_seq).where(Thread.id == big_thread_id))
        threads = session.scalar(select(func.count()).where(Participant.user_id == busy_user_id))
    if user is None or last_seq is None or last_seq < BIG_THREAD_MESSAGES or (threads or 0) < BUSY_USER_THREADS:
        return None
    return Dataset(
        busy_user_id=busy_user_id,
        busy_user_email=user.email,
        password=seeded["busy_user"]["password"],
        busy_user_threads=threads or 0,
        big_thread_id=big_thread_id,
        big_thread_last_seq=last_seq,
    )


def _run(argv: list[str], run: RunEnvironment, **overrides: str) -> None:
    subprocess.run(argv, env=run.process_env() | overrides, cwd=run.root, check=True)  # noqa: S603


def ensure_dataset(run: RunEnvironment, report: Callable[[str], None]) -> tuple[Dataset, float | None]:
    """The data set, migrated to the code's schema; seeded first when absent. Also: how long seeding took."""
    ensure_database(run)
    # The schema first: the seed check reads the tables, and a data set made by older code gets new migrations.
    _run(["chorus", "migrate"], run)
    if (dataset := _from_seed_file(run)) is not None:
        report(f"data set: kept ({dataset.big_thread_last_seq:,} messages in the big thread)")
        return dataset, None
    report("data set: absent or incomplete; seeding the bench database with `make seed` (about a minute)")
    started = time.perf_counter()
    # --reset empties the bench database's tables; chorus seed refuses it with CHORUS_ENV=production.
    seed_args = f"--reset --output {run.seed_file}"
    _run(["make", "--no-print-directory", "seed", f"SEED_ARGS={seed_args}"], run, CHORUS_ENV="development")
    seconds = time.perf_counter() - started
    if (dataset := _from_seed_file(run)) is None:
        raise DatasetUnusable(f"make seed ran but {run.seed_file} does not describe the data set the bench needs")
    return dataset, seconds
