"""A digest that fails on its data fails once and is recorded; a passing outage is retried; and rows stored before
titles were single lines (a U+2028 in a title broke the mail's subject on every sweep) no longer poison the sweep."""

from __future__ import annotations

import logging
import threading
import uuid
from datetime import timedelta
from email.message import EmailMessage
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from chorus.acts.message.tasks.digest import send_digest, send_unread_digests
from chorus.adapters import mailer
from chorus.config import get_settings
from chorus.db import sync_engine
from chorus.models import Digest, Message, Participant, Thread, utcnow
from tests.conversations import post, start_thread
from tests.digests import wait_until_recorded
from tests.people import Mailbox


def _age_messages() -> None:
    older = utcnow() - timedelta(minutes=get_settings().digest_delay_minutes + 1)
    with sync_engine().begin() as connection:
        connection.execute(update(Message).values(created_at=older))


def _store_title(thread_id: str, title: str) -> None:
    """Write a title behind the API's back, as rows written before the rule was enforced hold them."""
    with sync_engine().begin() as connection:
        connection.execute(update(Thread).where(Thread.id == uuid.UUID(thread_id)).values(title=title))


def _digest_rows() -> list[Any]:
    with sync_engine().connect() as connection:
        return list(connection.execute(select(Digest.upto_seq, Digest.sent_at, Digest.failed_at, Digest.failure)))


def test_a_stored_title_with_a_line_separator_is_mailed_on_one_line(
    client: TestClient, register: Any, mailbox: Mailbox
) -> None:
    ada, bob = register("Ada Lovelace"), register("Bob Babbage")
    thread = start_thread(client, ada, bob, title="Lunch")
    _store_title(thread["id"], "Lunch\u2028at \u202enoon")
    post(client, ada, thread["id"], "Noon?")
    _age_messages()

    assert send_unread_digests() == 1
    digest = mailbox.wait_for(bob.email, "1 unread in Lunch at noon")
    wait_until_recorded(1)
    assert "“Lunch at noon”" in digest.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert send_unread_digests() == 0, "sent once, not queued again"


def test_a_digest_failing_on_its_data_fails_once_is_recorded_and_never_queued_again(
    client: TestClient, register: Any, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    ada, bob = register("Ada Lovelace"), register("Bob Babbage")
    thread = start_thread(client, ada, bob, title="Lunch")
    post(client, ada, thread["id"], "Noon?")
    _age_messages()
    calls: list[str] = []

    def refuse(_transport: mailer.Transport, _message: EmailMessage, key: str) -> None:
        calls.append(key)
        raise ValueError("Header values may not contain linefeed or carriage return characters")

    monkeypatch.setattr(mailer.Transport, "send", refuse)
    with caplog.at_level(logging.ERROR, logger="chorus.acts.message.tasks.digest"):
        assert send_digest.apply((thread["id"], str(bob.id), 1)).get() is False
    assert len(calls) == 1, "not retried"
    [(upto_seq, sent_at, failed_at, failure)] = _digest_rows()
    assert (upto_seq, sent_at) == (1, None)
    assert failed_at is not None
    assert failure == "ValueError: Header values may not contain linefeed or carriage return characters"
    assert "failed on its data" in caplog.text

    # Neither the next sweeps nor a redelivery of the same task try it again.
    assert send_unread_digests() == 0
    assert send_unread_digests() == 0
    assert send_digest.apply((thread["id"], str(bob.id), 1)).get() is False
    assert len(calls) == 1


def test_a_new_message_after_a_failed_digest_gets_a_digest_of_its_own(
    client: TestClient, register: Any, monkeypatch: pytest.MonkeyPatch, mailbox: Mailbox
) -> None:
    ada, bob = register("Ada Lovelace"), register("Bob Babbage")
    thread = start_thread(client, ada, bob, title="Lunch")
    post(client, ada, thread["id"], "first")
    _age_messages()

    def refuse(_transport: mailer.Transport, _message: EmailMessage, key: str) -> None:
        raise ValueError("bad data")

    with monkeypatch.context() as patch:
        patch.setattr(mailer.Transport, "send", refuse)
        assert send_digest.apply((thread["id"], str(bob.id), 1)).get() is False

    post(client, ada, thread["id"], "second")
    _age_messages()
    assert send_unread_digests() == 1
    text = mailbox.wait_for(bob.email, "1 unread in Lunch").get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "second" in text


def test_a_mail_server_outage_is_retried_until_the_digest_is_sent(
    client: TestClient, register: Any, monkeypatch: pytest.MonkeyPatch, mailbox: Mailbox
) -> None:
    ada, bob = register("Ada Lovelace"), register("Bob Babbage")
    thread = start_thread(client, ada, bob, title="Lunch")
    post(client, ada, thread["id"], "Noon?")
    _age_messages()
    real_send, lock = mailer.Transport.send, threading.Lock()
    attempts: list[str] = []

    def flaky(transport: mailer.Transport, message: EmailMessage, key: str) -> None:
        with lock:
            attempts.append(key)
            if len(attempts) == 1:
                raise ConnectionRefusedError("the mail server is restarting")
        real_send(transport, message, key)

    monkeypatch.setattr(mailer.Transport, "send", flaky)
    assert send_unread_digests() == 1
    mailbox.wait_for(bob.email, "1 unread in Lunch")
    wait_until_recorded(1)
    assert len(attempts) == 2
    [(_, sent_at, failed_at, failure)] = _digest_rows()
    assert sent_at is not None
    assert (failed_at, failure) == (None, None)
    with sync_engine().connect() as connection:
        notified = connection.scalar(select(Participant.notified_seq).where(Participant.user_id == bob.id))
    assert notified == 1
