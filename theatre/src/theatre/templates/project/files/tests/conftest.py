"""The test stack: a migrated database, a real Celery worker consuming from a real broker, requests through the app.

Embedded (default): SQLite and the SQLite-backed broker in a temporary folder, as `make run` uses, no servers.
Services ({{ env_prefix }}_TEST_SERVICES=1): PostgreSQL, RabbitMQ and Redis at {{ env_prefix }}_TEST_*_URL.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import uuid
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

SERVICES = os.environ.get("{{ env_prefix }}_TEST_SERVICES") == "1"
SCRATCH = Path(tempfile.mkdtemp(prefix="{{ package }}-tests-"))
SUITE_LOCK = zlib.crc32(b"{{ package }} tests")  # one run at a time on a shared PostgreSQL database

# Set before the package reads its settings (on first use). The queue is this run's own, so two runs sharing a
# broker never take each other's tasks.
os.environ["{{ env_prefix }}_TASK_QUEUE"] = f"{{ package }}-tests-{uuid.uuid4().hex[:12]}"
if SERVICES:
    defaults = {
        "DATABASE_URL": "postgresql://postgres@127.0.0.1:5432/{{ package }}_test",
        "BROKER_URL": "amqp://guest:guest@127.0.0.1:5672//",
        "REDIS_URL": "redis://127.0.0.1:6379/15",
    }
    for name, default in defaults.items():
        os.environ[f"{{ env_prefix }}_{name}"] = os.environ.get(f"{{ env_prefix }}_TEST_{name}", default)
else:
    os.environ["{{ env_prefix }}_DATABASE_URL"] = f"sqlite:///{SCRATCH / 'test.sqlite3'}"
    os.environ["{{ env_prefix }}_BROKER_URL"] = f"sqla+sqlite:///{SCRATCH / 'broker.sqlite3'}"
    os.environ.pop("{{ env_prefix }}_REDIS_URL", None)

# The package is imported only now that its settings are in the environment.
from celery.contrib.testing.worker import start_worker  # noqa: E402
from fastapi.testclient import TestClient  # noqa: E402
from sqlalchemy import Engine, create_engine, text  # noqa: E402
from sqlalchemy.exc import ProgrammingError  # noqa: E402

from {{ package }}.api import app  # noqa: E402
from {{ package }}.celery import app as celery_app  # noqa: E402
from {{ package }}.config import get_settings  # noqa: E402
from {{ package }}.db import database_url, dispose_engines, sync_engine  # noqa: E402
from {{ package }}.models import Base  # noqa: E402
from {{ package }}.ops.cli import migrate  # noqa: E402
from tests.finished_tasks import FinishedTasks, TaskLog  # noqa: E402


def _create_database() -> None:
    """The test database, created when missing, through the server's own ``postgres`` database."""
    url = database_url(asynchronous=False)
    server = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with server.connect() as connection:
        query = text("SELECT 1 FROM pg_database WHERE datname = :name")
        if not connection.scalar(query, {"name": url.database}):
            with contextlib.suppress(ProgrammingError):  # another run created it meanwhile
                connection.execute(text(f'CREATE DATABASE "{url.database}"'))
    server.dispose()


@contextlib.contextmanager
def _exclusive(engine: Engine) -> Iterator[None]:
    """Hold an advisory lock for the whole run, so a concurrent run waits, then start from an empty schema."""
    with engine.connect() as holder:
        holder.execute(text("SELECT pg_advisory_lock(:key)"), {"key": SUITE_LOCK})
        holder.commit()
        with engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
        try:
            yield
        finally:
            holder.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": SUITE_LOCK})
            holder.commit()


@pytest.fixture(scope="session", autouse=True)
def database() -> Iterator[None]:
    """The schema, built once per run by the real migrations."""
    with contextlib.ExitStack() as stack:
        if SERVICES:
            _create_database()
            stack.enter_context(_exclusive(sync_engine()))
        migrate()
        yield
    dispose_engines()


@pytest.fixture(scope="session")
def task_log() -> Iterator[TaskLog]:
    log = TaskLog()
    log.connect()
    yield log
    log.disconnect()


@pytest.fixture(scope="session")
def worker(database: None, task_log: TaskLog) -> Iterator[Any]:
    """A real Celery worker in a thread (solo pool), consuming from the configured broker: not eager mode."""
    celery_app.loader.import_default_modules()
    with start_worker(celery_app, pool="solo", perform_ping_check=False, shutdown_timeout=30) as running:
        if running.hub is not None:
            # The event loop (RabbitMQ) sleeps up to 10 s between rounds when no timer is due; in a thread nothing
            # else wakes it to take the next message after a late ack, or to notice that the run is over.
            running.hub.call_repeatedly(0.1, lambda: None)  # type: ignore[attr-defined]
        yield running
    with celery_app.connection_for_write() as connection:
        connection.default_channel.queue_delete(get_settings().task_queue)  # type: ignore[attr-defined]


@pytest.fixture(scope="session")
def client(worker: Any) -> Iterator[TestClient]:
    """Requests through the whole app (its start-up included), with the worker running."""
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture
def finished_tasks(worker: Any, task_log: TaskLog) -> FinishedTasks:
    return FinishedTasks(task_log)


@pytest.fixture(autouse=True)
def _isolated(database: None) -> Iterator[None]:
    """Each test starts from empty tables."""
    yield
    with sync_engine().begin() as connection:
        for table in reversed(Base.metadata.sorted_tables):
            connection.execute(table.delete())
