"""Mail over SMTP when CHORUS_SMTP_URL is set: the worker hands the verification mail to a real SMTP server."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from fastapi.testclient import TestClient

from chorus.config import get_settings
from tests.people import PASSWORD, Mailbox


class Inbox:
    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []

    async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd's hook
        message = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(message, EmailMessage)
        self.messages.append(message)
        return "250 OK"


@pytest.fixture
def smtp_inbox(monkeypatch: pytest.MonkeyPatch) -> Iterator[Inbox]:
    inbox = Inbox()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = Controller(inbox, hostname="127.0.0.1", port=port)
    server.start()
    monkeypatch.setenv("CHORUS_SMTP_URL", f"smtp://127.0.0.1:{server.port}")
    get_settings.cache_clear()  # the worker thread reads the same settings
    try:
        yield inbox
    finally:
        server.stop()
        monkeypatch.undo()
        get_settings.cache_clear()


def test_the_worker_sends_mail_over_smtp_when_configured(
    client: TestClient, smtp_inbox: Inbox, mailbox: Mailbox
) -> None:
    body = {"email": "smtp@example.com", "password": PASSWORD, "display_name": "Smtp Person"}
    assert client.post("/auth/register", json=body).status_code == 201
    deadline = time.monotonic() + 15
    while not smtp_inbox.messages and time.monotonic() < deadline:
        time.sleep(0.02)
    assert smtp_inbox.messages, "no mail reached the SMTP server"
    mail = smtp_inbox.messages[0]
    assert mail["To"] == "smtp@example.com"
    assert mail["Subject"] == "Verify your email address"
    assert {part.get_content_type() for part in mail.iter_parts()} == {"text/plain", "text/html"}
    assert mailbox.to("smtp@example.com") == [], "nothing was written to files"
