"""The test stack: a real database, a real Celery worker consuming from a real broker, requests through the app.

Embedded (default): SQLite in a temporary folder and the SQLite-backed broker, as `make run` uses.
Services (CHORUS_TEST_SERVICES=1): PostgreSQL database `test`, RabbitMQ and Redis on 127.0.0.1.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.services import BROKER_URL, DATABASE_URL, FAULTS, GENEROUS_LIMITS, REDIS_URL, SERVICES, Proxies

_scratch = Path(tempfile.mkdtemp(prefix="chorus-tests-"))

# Set before chorus reads its settings (on first use), and never from a developer's .env file.
os.environ.update(
    {
        "CHORUS_ENV": "test",
        # Random per run, never a key written in the repository; the API processes some tests start inherit it, so
        # tokens issued here are valid there (test mode alone would give each process a key of its own).
        "CHORUS_SECRET_KEY": secrets.token_urlsafe(48),
        "CHORUS_MAIL_DIR": str(_scratch / "mail"),
        # A queue of this run's own, so two runs against one RabbitMQ never consume each other's tasks.
        "CHORUS_TASK_QUEUE": f"chorus-tests-{uuid.uuid4().hex[:12]}",
    }
    | GENEROUS_LIMITS
)
proxies = Proxies.start() if FAULTS else None
if proxies is not None:
    os.environ.update(proxies.urls())
elif SERVICES:
    os.environ.update(
        {
            "CHORUS_DATABASE_URL": DATABASE_URL,
            "CHORUS_BROKER_URL": BROKER_URL,
            "CHORUS_REDIS_URL": REDIS_URL,
        }
    )
else:
    os.environ.update(
        {
            "CHORUS_DATABASE_URL": f"sqlite:///{_scratch / 'chorus.sqlite3'}",
            "CHORUS_BROKER_URL": f"sqla+sqlite:///{_scratch / 'broker.sqlite3'}",
        }
    )
    os.environ.pop("CHORUS_REDIS_URL", None)
os.environ.pop("CHORUS_SMTP_URL", None)


# chorus is imported only now that its settings are in the environment.
from celery.contrib.testing.worker import start_worker  # noqa: E402
from fastapi.testclient import TestClient  # noqa: E402
from sqlalchemy import create_engine, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402
from sqlalchemy.exc import OperationalError  # noqa: E402

from chorus.adapters.rate_limits import clear_everything as clear_rate_limits  # noqa: E402
from chorus.api import app  # noqa: E402
from chorus.celery import app as celery_app  # noqa: E402
from chorus.config import get_settings  # noqa: E402
from chorus.db import dispose_engines, sync_engine  # noqa: E402
from chorus.models import Base  # noqa: E402
from chorus.ops.cli import migrate  # noqa: E402
from tests.people import PASSWORD, Mailbox, Person, log_in  # noqa: E402

SUITE_LOCK = 0x63686F72  # one suite at a time on a shared PostgreSQL database


@contextlib.contextmanager
def _exclusive_database() -> Iterator[None]:
    """On PostgreSQL, hold a session-wide advisory lock so concurrent runs wait instead of dropping each
    other's tables; then start from an empty schema."""
    engine = sync_engine()
    if engine.dialect.name != "postgresql":
        yield
        return
    # The fault tests cut chorus's path to the database; the lock's holder goes straight to it.
    direct = create_engine(make_url(DATABASE_URL).set(drivername="postgresql+psycopg")) if FAULTS else engine
    with direct.connect() as holder:
        holder.execute(text("SET statement_timeout = 0"))  # wait for another run as long as it takes
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
    """The schema, built by the real migrations once per run."""
    with _exclusive_database():
        migrate()
        yield
    dispose_engines()


@pytest.fixture(scope="session")
def worker(database: None) -> Iterator[Any]:
    """A real Celery worker in a thread, consuming from the configured broker."""
    celery_app.loader.import_default_modules()
    with start_worker(celery_app, pool="solo", perform_ping_check=False, shutdown_timeout=30) as running:
        if running.hub is not None:
            # With RabbitMQ the worker's event loop sleeps up to 10 s when no timer is due; in a thread nothing else
            # wakes it to take the next message after a late ack (a mail waited past its test's 15 s once in CI).
            running.hub.call_repeatedly(0.1, lambda: None)
        yield running
    with celery_app.connection_for_write() as connection:
        connection.default_channel.queue_delete(get_settings().task_queue)


@pytest.fixture(scope="session")
def client(worker: Any) -> Iterator[TestClient]:
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture(autouse=True)
def _isolated(database: None) -> Iterator[None]:
    """Each test starts from empty tables and an empty mailbox."""
    yield
    for attempt in range(3):
        try:
            with sync_engine().begin() as connection:
                for table in reversed(Base.metadata.sorted_tables):
                    connection.execute(table.delete())
            break
        except OperationalError:  # a deadlock with a task the test left running (an erasure, a digest): again
            if attempt == 2:
                raise
            time.sleep(0.2)
    clear_rate_limits()  # in Redis, when that is the store (the table above is emptied already)
    for mail in get_settings().mail_dir.glob("*.eml"):
        mail.unlink()


@pytest.fixture
def faults() -> Iterator[Proxies]:
    """The proxies in front of PostgreSQL, RabbitMQ and Redis (``make faults``); every path is healed after the test."""
    if proxies is None:
        pytest.fail("fault tests run with CHORUS_TEST_FAULTS=1: make faults")
    proxies.heal_all()
    yield proxies
    proxies.heal_all()


@pytest.fixture
def mailbox() -> Mailbox:
    return Mailbox(get_settings().mail_dir)


@pytest.fixture
def register(client: TestClient, mailbox: Mailbox) -> Any:
    """Register someone through the API, verify them with the mailed token, and log them in."""

    def _register(name: str = "Ada Lovelace", email: str | None = None, password: str = PASSWORD) -> Person:
        email = email or f"{name.split()[0].lower()}-{uuid.uuid4().hex[:8]}@example.com"
        response = client.post("/auth/register", json={"email": email, "password": password, "display_name": name})
        assert response.status_code == 201, response.text
        token = mailbox.token(email, "Verify your email address")
        assert client.post("/auth/verify", json={"token": token}).status_code == 204
        pair = log_in(client, email, password)
        return Person(uuid.UUID(response.json()["id"]), email, password, pair["access_token"], pair["refresh_token"])

    return _register
