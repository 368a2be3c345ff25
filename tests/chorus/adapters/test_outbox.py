"""The outbox: tasks commit with their data, reach the worker once committed, are retried on passing outages, and
are recorded as dead (and listed, and revived) when they fail for good."""

from __future__ import annotations

import threading
import uuid
from collections import Counter
from datetime import timedelta
from typing import Any

import pytest
from celery.beat import ScheduleEntry
from celery.signals import task_postrun
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from chorus.acts.auth.tasks import mail as auth_mail
from chorus.adapters import outbox
from chorus.adapters.outbox import RELAY_BATCH, queue_task, relay_due
from chorus.celery import OutboxScheduler
from chorus.celery import app as celery_app
from chorus.db import task_session
from chorus.models import OutboxTask, utcnow
from chorus.ops.cli import main as chorus
from tests.people import Mailbox, make_person
from tests.services import SERVICES
from tests.timing import until

RESET = "Reset your password"


def _row(task_id: uuid.UUID) -> OutboxTask:
    with task_session() as session:
        return session.get_one(OutboxTask, task_id)


def _queue_reset(email: str) -> uuid.UUID:
    """A reset mail queued as a scene queues it: published once the transaction commits."""
    with task_session() as session:
        task_id = queue_task(session, auth_mail.send_password_reset_email, email)
        session.commit()
    return task_id


def _stranded_reset(email: str, **row: Any) -> uuid.UUID:
    """A reset mail in the outbox that its commit did not publish (the broker was down), or with ``row``'s state
    (published, but its message lost): only the relay can deliver it."""
    stranded = OutboxTask(task=auth_mail.send_password_reset_email.name, args=[email], **row)
    with task_session() as session:
        session.add(stranded)
        session.commit()
    return stranded.id


def test_a_committed_task_is_done_once_and_a_rolled_back_one_never_leaves(worker: Any, mailbox: Mailbox) -> None:
    person = make_person()
    with task_session() as session:
        queue_task(session, auth_mail.send_password_reset_email, person.email)
        session.rollback()
    task_id = _queue_reset(person.email)
    mailbox.wait_for(person.email, RESET)
    until(lambda: _row(task_id).state == "done", 15, what="the row is marked done")
    assert len(mailbox.to(person.email)) == 1
    with task_session() as session:
        assert session.scalars(select(OutboxTask.id)).all() == [task_id]


def test_the_relay_publishes_what_its_commit_could_not_and_again_what_was_lost(worker: Any, mailbox: Mailbox) -> None:
    """A row never published (the broker was down at commit), and one published whose message a broker or a
    killed worker lost: the relay in the worker's main process delivers both, each mail once."""
    never_published, lost = make_person("Never Published"), make_person("Lost Message")
    past = utcnow() - timedelta(seconds=1)
    first = _stranded_reset(never_published.email, due_at=past)
    second = _stranded_reset(lost.email, state="published", published_at=past, due_at=past)
    relay_due()  # as the relay's loop would within a second; it may have run already
    mailbox.wait_for(never_published.email, RESET)
    mailbox.wait_for(lost.email, RESET)
    until(lambda: {_row(first).state, _row(second).state} == {"done"}, 15, what="both rows done")
    assert len(mailbox.to(never_published.email)) == len(mailbox.to(lost.email)) == 1


def test_a_task_published_twice_mails_once(worker: Any, mailbox: Mailbox) -> None:
    person = make_person()
    task_id = _queue_reset(person.email)
    mailbox.wait_for(person.email, RESET)
    until(lambda: _row(task_id).state == "done", 15, what="the row is marked done")
    sent_at = mailbox.wait_for(person.email, RESET)["Date"]
    runs: list[str] = []

    def count_run(task_id: str, **_: Any) -> None:
        runs.append(task_id)

    task_postrun.connect(count_run, weak=False)
    try:
        celery_app.send_task(auth_mail.send_password_reset_email.name, args=[person.email], task_id=str(task_id))
        until(lambda: str(task_id) in runs, 15, what="the second delivery ran")
    finally:
        task_postrun.disconnect(count_run)
    assert len(mailbox.to(person.email)) == 1
    assert mailbox.wait_for(person.email, RESET)["Date"] == sent_at


def test_a_passing_outage_is_retried_and_bad_data_is_recorded_dead_and_can_be_revived(
    worker: Any, mailbox: Mailbox, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    person = make_person()
    real_mail_token = auth_mail._mail_token
    failures: list[str] = []

    def failing_once(*args: Any) -> None:
        if not failures:
            failures.append("outage")
            raise OperationalError("SELECT 1", {}, ConnectionResetError("the database went away"))
        real_mail_token(*args)

    monkeypatch.setattr(auth_mail, "_mail_token", failing_once)
    monkeypatch.setattr("chorus.celery.retry_delay", lambda attempt: timedelta(seconds=0.2))
    retried = _queue_reset(person.email)
    mailbox.wait_for(person.email, RESET)
    until(lambda: _row(retried).state == "done", 15, what="the retried row is done")
    assert _row(retried).attempts == 1
    assert failures == ["outage"]

    def bad_data(*args: Any) -> None:
        raise ValueError("a row no retry can fix")

    monkeypatch.setattr(auth_mail, "_mail_token", bad_data)
    dead = _queue_reset(person.email)
    until(lambda: _row(dead).state == "dead", 15, what="the failing row is dead")
    assert "ValueError: a row no retry can fix" in (_row(dead).error or "")
    chorus(["dead-letters"])
    listing = capsys.readouterr().out
    assert str(dead) in listing
    assert "ValueError: a row no retry can fix" in listing
    assert "1 dead task(s)" in listing

    monkeypatch.setattr(auth_mail, "_mail_token", real_mail_token)
    chorus(["dead-letters", "--revive", str(dead)])
    assert "queued again" in capsys.readouterr().out
    relay_due()
    until(lambda: _row(dead).state == "done", 15, what="the revived row is done")
    assert len(mailbox.to(person.email)) == 2


def test_the_scheduler_records_periodic_tasks_in_the_outbox(worker: Any, tmp_path: Any) -> None:
    """Beat never publishes itself: a sweep due while the broker is down waits in the outbox instead of being
    skipped (the fault suite cuts the broker to show it)."""
    scheduler = OutboxScheduler(app=celery_app, schedule_filename=str(tmp_path / "beat"), lazy=True)
    entry = ScheduleEntry(name="purge", task="thread.purge_old_events", schedule=timedelta(hours=1), app=celery_app)
    result = scheduler.apply_async(entry, advance=False)
    task_id = uuid.UUID(result.id)
    assert _row(task_id).task == "thread.purge_old_events"
    until(lambda: _row(task_id).state == "done", 15, what="the sweep ran")


def test_a_scene_queues_its_task_in_its_own_transaction(client: TestClient, mailbox: Mailbox) -> None:
    response = client.post(
        "/auth/register", json={"email": "outbox@example.com", "password": "a long enough pass", "display_name": "O"}
    )
    assert response.status_code == 201, response.text
    mailbox.wait_for("outbox@example.com", "Verify your email address", timeout=5)
    with task_session() as session:
        row = session.scalars(select(OutboxTask)).one()
    assert row.task == "auth.send_verification_email"
    assert row.args == [response.json()["id"]]
    until(lambda: _row(row.id).state == "done", 15, what="the row is marked done")


@pytest.mark.skipif(
    not SERVICES, reason="row-lock claims need PostgreSQL: make test-services runs it (embedded mode has one worker)"
)
def test_relays_of_several_workers_never_publish_one_row_together(worker: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    past = utcnow() - timedelta(seconds=1)
    rows = [OutboxTask(task="thread.purge_old_events", due_at=past) for _ in range(3 * RELAY_BATCH // 2)]
    with task_session() as session:  # as if their commits' publishes were lost
        session.add_all(rows)
        session.commit()
    ids = [row.id for row in rows]
    published: Counter[uuid.UUID] = Counter()
    guard = threading.Lock()
    real_publish = outbox._publish

    def counted(outgoing: outbox.Outgoing) -> None:
        with guard:
            published[outgoing.id] += 1
        real_publish(outgoing)

    monkeypatch.setattr(outbox, "_publish", counted)  # the worker's own relay counts too
    start = threading.Barrier(3)

    def relay() -> None:
        start.wait()
        while outbox.relay_due():
            pass

    relays = [threading.Thread(target=relay) for _ in range(3)]
    for thread in relays:
        thread.start()
    for thread in relays:
        thread.join()
    assert set(published) == set(ids)
    assert max(published.values()) == 1
