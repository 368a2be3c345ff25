"""Mail over SMTP when CHORUS_SMTP_URL is set: the worker hands the verification mail to a real SMTP server."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.people import PASSWORD, Mailbox
from tests.smtp_sink import SmtpSink, smtp_sink


@pytest.fixture
def smtp_inbox(monkeypatch: pytest.MonkeyPatch) -> Iterator[SmtpSink]:
    with smtp_sink(monkeypatch) as sink:
        yield sink


def test_the_worker_sends_mail_over_smtp_when_configured(
    client: TestClient, smtp_inbox: SmtpSink, mailbox: Mailbox
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


class LosingFirstAnswer(SmtpSink):
    """Takes every mail, but answers the first as if it failed (as when its 250 is lost on the way back)."""

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd's hook
        await super().handle_DATA(server, session, envelope)
        return "250 OK" if len(self.messages) > 1 else "421 closing: try again later"


def test_a_mail_sent_again_after_a_lost_answer_keeps_its_message_id(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What the transport allows: the server has the mail twice, as one message (mail clients show one)."""
    losing = LosingFirstAnswer(stall=False)
    monkeypatch.setattr("chorus.celery.retry_delay", lambda attempt: timedelta(seconds=0.2))
    body = {"email": "lost-answer@example.com", "password": PASSWORD, "display_name": "Lost Answer"}
    with smtp_sink(monkeypatch, sink=losing):
        assert client.post("/auth/register", json=body).status_code == 201
        deadline = time.monotonic() + 15
        while len(losing.messages) < 2 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert len(losing.messages) == 2, "the failed send was not retried"
        time.sleep(0.5)
        assert len(losing.messages) == 2, "sent again after the server's 250"
    first, second = losing.messages
    assert first["Message-ID"] == second["Message-ID"]
    assert first.get_body(("plain",)).get_content() == second.get_body(("plain",)).get_content()  # type: ignore[union-attr]
