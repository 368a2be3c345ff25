"""Fixtures of the test stack; ``conftest`` has already pointed chorus at the right services."""

from __future__ import annotations

import contextlib
import re
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from celery.contrib.testing.worker import start_worker
from fastapi.testclient import TestClient
from sqlalchemy import text

from chorus.api import app
from chorus.celery import app as celery_app
from chorus.cli import migrate
from chorus.config import get_settings
from chorus.db import dispose_engines, sync_engine
from chorus.models import Base

PASSWORD = "correct horse battery staple"
TOKEN_LINE = re.compile(r"^token: (\S+)$", re.MULTILINE)


SUITE_LOCK = 0x63686F72  # one suite at a time on a shared PostgreSQL database


@contextlib.contextmanager
def _exclusive_database() -> Iterator[None]:
    """On PostgreSQL, hold a session-wide advisory lock so concurrent runs wait instead of dropping each
    other's tables; then start from an empty schema."""
    engine = sync_engine()
    if engine.dialect.name != "postgresql":
        yield
        return
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
    with sync_engine().begin() as connection:
        for table in reversed(Base.metadata.sorted_tables):
            connection.execute(table.delete())
    for mail in get_settings().mail_dir.glob("*.eml"):
        mail.unlink()


class Mailbox:
    """The mail the worker wrote, read the way a person would: by opening the files."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def all(self) -> list[EmailMessage]:
        messages = []
        for path in sorted(self.folder.glob("*.eml"), key=lambda p: p.stat().st_mtime_ns):
            message = message_from_bytes(path.read_bytes(), policy=policy.default)
            assert isinstance(message, EmailMessage)
            messages.append(message)
        return messages

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.all() if m["To"] == address]

    def wait_for(self, address: str, subject: str, count: int = 1, timeout: float = 15.0) -> EmailMessage:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = [m for m in self.to(address) if m["Subject"] == subject]
            if len(found) >= count:
                return found[-1]
            time.sleep(0.02)
        raise AssertionError(f"no mail {subject!r} to {address} within {timeout}s")

    def token(self, address: str, subject: str, count: int = 1) -> str:
        body = self.wait_for(address, subject, count).get_body(("plain",))
        assert body is not None
        match = TOKEN_LINE.search(body.get_content())
        assert match, "the mail carries no token line"
        return match.group(1)


@pytest.fixture
def mailbox() -> Mailbox:
    return Mailbox(get_settings().mail_dir)


@dataclass
class Person:
    id: uuid.UUID
    email: str
    password: str
    access_token: str
    refresh_token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access_token}"}


def log_in(client: TestClient, email: str, password: str = PASSWORD) -> dict[str, Any]:
    response = client.post("/auth/token", data={"username": email, "password": password})
    assert response.status_code == 200, response.text
    return dict(response.json())


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
