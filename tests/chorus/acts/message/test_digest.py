"""Mail digests of unread messages: one per thread and window, never one per message, never twice."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select, update

from chorus.acts.message.tasks.digest import send_digest, send_unread_digests
from chorus.config import get_settings
from chorus.db import sync_engine
from chorus.models import Digest, Message, utcnow
from tests.conversations import post, start_thread
from tests.digests import wait_until_recorded
from tests.people import Mailbox


def _age_messages() -> None:
    """Make every message older than the digest delay, as if the recipients had been away that long."""
    older = utcnow() - timedelta(minutes=get_settings().digest_delay_minutes + 1)
    with sync_engine().begin() as connection:
        connection.execute(update(Message).values(created_at=older))


def _digests() -> int:
    with sync_engine().connect() as connection:
        return int(connection.scalar(select(func.count()).select_from(Digest)) or 0)


def test_an_away_participant_gets_one_digest_of_everything_unread(
    client: TestClient, register: Any, mailbox: Mailbox
) -> None:
    ada, bob = register("Ada Lovelace"), register("Bob Babbage")
    thread = start_thread(client, ada, bob, title="Lunch")
    for body in ("Noon?", "At the usual place", "Bring Cy"):
        post(client, ada, thread["id"], body)
    _age_messages()

    assert send_unread_digests() == 1  # Bob only: Ada wrote them, so she has read them
    digest = mailbox.wait_for(bob.email, "3 unread in Lunch")
    text = digest.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "Ada Lovelace: Noon?" in text
    assert text.index("Noon?") < text.index("Bring Cy")
    assert not [m for m in mailbox.to(ada.email) if "unread" in m["Subject"]]


def test_the_digest_is_sent_once_however_often_it_is_delivered(
    client: TestClient, register: Any, mailbox: Mailbox
) -> None:
    ada, bob = register("Ada Lovelace"), register("Bob Babbage")
    thread = start_thread(client, ada, bob, title="Lunch")
    last = post(client, ada, thread["id"], "Noon?")
    _age_messages()
    args = (thread["id"], str(bob.id), 1)

    assert send_digest.apply(args).get() is True
    # A redelivered task and a second sweep find nothing owed.
    assert send_digest.apply(args).get() is False
    assert send_unread_digests() == 0
    assert _digests() == 1
    mailbox.wait_for(bob.email, "1 unread in Lunch")
    assert last["body"] == "Noon?"


def test_recent_or_read_messages_wait_or_send_nothing(client: TestClient, register: Any) -> None:
    ada, bob = register("Ada Lovelace"), register("Bob Babbage")
    thread = start_thread(client, ada, bob)
    message = post(client, ada, thread["id"], "fresh")
    assert send_unread_digests() == 0, "younger than the delay"
    client.post(f"/threads/{thread['id']}/read", json={"message_id": message["id"]}, headers=bob.headers)
    _age_messages()
    assert send_unread_digests() == 0, "Bob has read it"


def test_a_later_window_mails_only_what_came_after_the_last_digest(
    client: TestClient, register: Any, mailbox: Mailbox
) -> None:
    ada, bob = register("Ada Lovelace"), register("Bob Babbage")
    thread = start_thread(client, ada, bob, title="Lunch")
    post(client, ada, thread["id"], "first window")
    _age_messages()
    assert send_unread_digests() == 1
    mailbox.wait_for(bob.email, "1 unread in Lunch")
    wait_until_recorded(1)

    post(client, ada, thread["id"], "second window")
    assert send_unread_digests() == 0, "the new message is younger than the delay"
    _age_messages()
    assert send_unread_digests() == 1
    second = mailbox.wait_for(bob.email, "1 unread in Lunch", count=2)
    text = second.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "second window" in text
    assert "first window" not in text
