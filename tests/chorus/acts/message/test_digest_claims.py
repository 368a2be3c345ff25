"""A digest's claim is committed before its mail goes out: a stalled mail server holds no row of the recipient's,
the digest is still sent once, and a claim left by a worker that died mid-send is taken over once abandoned."""

from __future__ import annotations

import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from chorus.acts.message.tasks.digest import claims_abandoned_before, send_digest, send_unread_digests
from chorus.config import get_settings
from chorus.db import sync_engine
from chorus.models import Digest, Message, utcnow
from tests.conversations import post, start_thread
from tests.people import Mailbox, Person
from tests.smtp_sink import smtp_sink


def _age_messages() -> None:
    older = utcnow() - timedelta(minutes=get_settings().digest_delay_minutes + 1)
    with sync_engine().begin() as connection:
        connection.execute(update(Message).values(created_at=older))


def _digest_rows() -> list[Any]:
    with sync_engine().connect() as connection:
        return list(connection.execute(select(Digest.upto_seq, Digest.claimed_at, Digest.sent_at, Digest.failed_at)))


def _claim_left_behind(thread_id: str, person: Person, upto_seq: int, *, age: timedelta) -> None:
    """A claimed, unsent digest, as a worker that died mid-send leaves it."""
    with sync_engine().begin() as connection:
        connection.execute(
            Digest.__table__.insert().values(
                thread_id=uuid.UUID(thread_id),
                user_id=person.id,
                upto_seq=upto_seq,
                created_at=utcnow() - age,
                claimed_at=utcnow() - age,
            )
        )


def test_a_stalled_mail_server_holds_up_no_post_and_the_digest_is_sent_once(
    client: TestClient, register: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    ada, bob = register("Ada Lovelace"), register("Bob Babbage")
    thread = start_thread(client, ada, bob, title="Lunch")
    post(client, ada, thread["id"], "Noon?")
    _age_messages()
    args = (thread["id"], str(bob.id), 1)

    with smtp_sink(monkeypatch, stall=True) as sink, ThreadPoolExecutor(1) as background:
        sending = background.submit(lambda: send_digest.apply(args).get())
        assert sink.stalled.wait(15), "the digest never reached the mail server"

        # While the mail server sits on the digest: the recipient's own post (which moves his read marker, on the
        # participant row the digest was claimed under) answers at once, and a redelivered task sends nothing.
        started = time.monotonic()
        answer = client.post(f"/threads/{thread['id']}/messages", json={"body": "On my way"}, headers=bob.headers)
        took = time.monotonic() - started
        assert answer.status_code == 201, answer.text
        assert took < 1, f"Bob's post waited {took:.1f}s on the digest being sent"
        assert send_digest.apply(args).get() is False
        [(upto_seq, claimed_at, sent_at, _)] = _digest_rows()
        assert (upto_seq, sent_at) == (1, None)
        assert claimed_at is not None

        sink.release()
        assert sending.result(timeout=15) is True

    assert [(m["To"], m["Subject"]) for m in sink.messages] == [(bob.email, "1 unread in Lunch")]
    [(_, _, sent_at, failed_at)] = _digest_rows()
    assert sent_at is not None
    assert failed_at is None
    assert send_digest.apply(args).get() is False
    assert send_unread_digests() == 0


def test_a_claim_is_left_alone_while_its_run_may_be_sending_and_taken_over_once_abandoned(
    client: TestClient, register: Any, mailbox: Mailbox
) -> None:
    ada, bob = register("Ada Lovelace"), register("Bob Babbage")
    thread = start_thread(client, ada, bob, title="Lunch")
    post(client, ada, thread["id"], "Noon?")
    _age_messages()
    args = (thread["id"], str(bob.id), 1)
    abandoned = utcnow() - claims_abandoned_before(utcnow())
    _claim_left_behind(thread["id"], bob, 1, age=abandoned - timedelta(seconds=30))

    assert send_digest.apply(args).get() is False, "its run may still be sending it"
    assert not [m for m in mailbox.to(bob.email) if "unread" in m["Subject"]]

    with sync_engine().begin() as connection:
        connection.execute(update(Digest).values(claimed_at=utcnow() - abandoned - timedelta(seconds=1)))
    assert send_digest.apply(args).get() is True
    mailbox.wait_for(bob.email, "1 unread in Lunch")
    assert send_digest.apply(args).get() is False
    assert send_unread_digests() == 0
    assert len([m for m in mailbox.to(bob.email) if "unread" in m["Subject"]]) == 1


def test_a_digest_waits_while_an_earlier_one_to_the_same_person_is_being_sent(
    client: TestClient, register: Any, mailbox: Mailbox
) -> None:
    ada, bob = register("Ada Lovelace"), register("Bob Babbage")
    thread = start_thread(client, ada, bob, title="Lunch")
    post(client, ada, thread["id"], "Noon?")
    post(client, ada, thread["id"], "Or one?")
    _age_messages()
    _claim_left_behind(thread["id"], bob, 1, age=timedelta(seconds=5))

    # Sending up to message 2 now would mail message 1 a second time.
    assert send_digest.apply((thread["id"], str(bob.id), 2)).get() is False
    assert [row.upto_seq for row in _digest_rows()] == [1]
    assert not [m for m in mailbox.to(bob.email) if "unread" in m["Subject"]]
