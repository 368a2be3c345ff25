"""People in tests, and their mail: plain helpers, imported by the tests that need them (fixtures live in
``tests/conftest.py``)."""

from __future__ import annotations

import functools
import re
import time
import uuid
from dataclasses import dataclass
from datetime import timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from chorus.acts.auth.password_hashing import hash_password
from chorus.acts.auth.tokens import AccessClaims, issue_access_token
from chorus.db import sync_engine
from chorus.models import LoginSession, User, utcnow

PASSWORD = "correct horse battery staple"
TOKEN_LINE = re.compile(r"^token: (\S+)$", re.MULTILINE)


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


@functools.cache
def _password_hash() -> str:
    return hash_password(PASSWORD)  # a quarter of a second of Argon2: once per run, not once per person


def make_person(name: str = "Ada Lovelace") -> Person:
    """A verified account and an access token for it, as registering and logging in would leave them.

    ``register`` goes through the API, the mail and two Argon2 rounds (~0.4 s a person); the matrix needs four
    people in each of its ~75 cases, so it makes them here, in a few milliseconds. Registration and login have
    their own tests in the auth act; what is tested here is what a valid bearer token may do.
    """
    email = f"{name.split()[0].lower()}-{uuid.uuid4().hex[:8]}@example.com"
    user = User(email=email, password_hash=_password_hash(), display_name=name, email_verified_at=utcnow())
    with Session(sync_engine()) as session, session.begin():
        session.add(user)
        session.flush()
        user_id, version = user.id, user.session_version
        login = LoginSession(user_id=user_id, expires_at=utcnow() + timedelta(days=1))  # what logging in opens
        session.add(login)
        session.flush()
        session_id = login.id
    token, _ = issue_access_token(AccessClaims(user_id, session_id, version))
    return Person(user_id, email, PASSWORD, token, refresh_token="")
