"""Digests go in batches: one task per batch, one SMTP connection per batch, and a digest that fails (on its data, or
on an outage) neither stops the others nor makes the batch's retry mail again what already left."""

from __future__ import annotations

import smtplib
from datetime import timedelta
from email.message import EmailMessage
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from chorus.acts.message.tasks import digest
from chorus.acts.message.tasks.digest import send_digests, send_unread_digests
from chorus.adapters import mailer
from chorus.config import get_settings
from chorus.db import sync_engine
from chorus.models import Digest, Message, OutboxTask, utcnow
from tests.conversations import post, start_thread
from tests.people import Mailbox, Person
from tests.smtp_sink import smtp_sink


def _age_messages() -> None:
    older = utcnow() - timedelta(minutes=get_settings().digest_delay_minutes + 1)
    with sync_engine().begin() as connection:
        connection.execute(update(Message).values(created_at=older))


def _three_away(client: TestClient, register: Any) -> tuple[str, list[Person]]:
    """A thread where Ada wrote one message that three others have not read: three digests owed."""
    ada, *away = register("Ada Lovelace"), register("Bob Babbage"), register("Cy Young"), register("Dee Dee")
    thread = start_thread(client, ada, *away, title="Lunch")
    post(client, ada, thread["id"], "Noon?")
    _age_messages()
    return thread["id"], away


def _batch(thread_id: str, people: list[Person]) -> list[list[Any]]:
    return [[thread_id, str(person.id), 1] for person in people]


def _states() -> dict[str, tuple[bool, bool, bool]]:
    """Each digest's recipient: (claimed, sent, failed)."""
    with sync_engine().connect() as connection:
        rows = connection.execute(select(Digest.user_id, Digest.claimed_at, Digest.sent_at, Digest.failed_at))
        return {
            str(user): (claimed is not None, sent is not None, failed is not None)
            for user, claimed, sent, failed in rows
        }


def _digest_mails(mailbox: Mailbox, person: Person) -> list[EmailMessage]:
    return [m for m in mailbox.to(person.email) if "unread" in m["Subject"]]


def test_the_sweep_queues_one_task_per_batch(
    client: TestClient, register: Any, monkeypatch: pytest.MonkeyPatch, mailbox: Mailbox
) -> None:
    monkeypatch.setattr(digest, "DIGEST_BATCH", 2)
    _, away = _three_away(client, register)

    assert send_unread_digests() == 3
    with sync_engine().connect() as connection:
        batches = connection.scalars(select(OutboxTask.args).where(OutboxTask.task == "message.send_digests")).all()
    assert sorted(len(args[0]) for args in batches) == [1, 2]
    for person in away:
        mailbox.wait_for(person.email, "1 unread in Lunch")


def test_a_batch_goes_out_on_one_smtp_connection(
    client: TestClient, register: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    thread_id, away = _three_away(client, register)
    connections: list[str] = []
    real_connect = mailer._connect

    def counted(smtp_url: str) -> smtplib.SMTP:
        connections.append(smtp_url)
        return real_connect(smtp_url)

    monkeypatch.setattr(mailer, "_connect", counted)
    with smtp_sink(monkeypatch) as sink:
        assert send_digests.apply((_batch(thread_id, away),)).get() == 3
    assert len(connections) == 1
    assert sorted(m["To"] for m in sink.messages) == sorted(p.email for p in away)
    assert len({m["Message-ID"] for m in sink.messages}) == 3


def test_a_digest_failing_on_its_data_fails_alone(
    client: TestClient, register: Any, monkeypatch: pytest.MonkeyPatch, mailbox: Mailbox
) -> None:
    thread_id, away = _three_away(client, register)
    bob, cy, dee = away
    real_send = mailer.Transport.send

    def refuse_cy(transport: mailer.Transport, message: EmailMessage, key: str) -> None:
        if message["To"] == cy.email:
            raise ValueError("bad data")
        real_send(transport, message, key)

    monkeypatch.setattr(mailer.Transport, "send", refuse_cy)
    assert send_digests.apply((_batch(thread_id, away),)).get() == 2
    assert _states() == {
        str(bob.id): (True, True, False),
        str(cy.id): (True, False, True),
        str(dee.id): (True, True, False),
    }

    # Redelivered, the batch sends nothing again; nor does a sweep queue anything.
    assert send_digests.apply((_batch(thread_id, away),)).get() == 0
    assert send_unread_digests() == 0
    assert [len(_digest_mails(mailbox, p)) for p in away] == [1, 0, 1]


def test_an_outage_mid_batch_is_retried_and_mails_only_what_did_not_leave(
    client: TestClient, register: Any, monkeypatch: pytest.MonkeyPatch, mailbox: Mailbox
) -> None:
    thread_id, away = _three_away(client, register)
    real_send, sent = mailer.Transport.send, []

    def down_after_one(transport: mailer.Transport, message: EmailMessage, key: str) -> None:
        if len(sent) == 1:
            raise ConnectionRefusedError("the mail server went away")
        real_send(transport, message, key)
        sent.append(message["To"])

    with monkeypatch.context() as patch:
        patch.setattr(mailer.Transport, "send", down_after_one)
        with pytest.raises(ConnectionRefusedError):
            send_digests.run(_batch(thread_id, away))  # the task's body: the retry is the test's next call
    states = _states()
    assert sorted(states.values()) == [(False, False, False), (False, False, False), (True, True, False)]

    assert send_digests.run(_batch(thread_id, away)) == 2
    assert all(sent for _, sent, _ in _states().values())
    assert [len(_digest_mails(mailbox, p)) for p in away] == [1, 1, 1]
