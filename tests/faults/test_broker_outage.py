"""RabbitMQ cut or partitioned while people register and the scheduler ticks: nothing is lost, nothing doubled.

Before the outbox, 30 of 31 people who registered during a 30 s cut got their 201 and never a verification mail.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from celery.beat import ScheduleEntry
from fastapi.testclient import TestClient
from sqlalchemy import select

from chorus.celery import OutboxScheduler
from chorus.celery import app as celery_app
from chorus.db import task_session
from chorus.models import OutboxTask
from tests.faults.proxy import FaultProxy
from tests.people import PASSWORD, Mailbox
from tests.services import Proxies
from tests.timing import until

VERIFY = "Verify your email address"
PEOPLE = 8
OUTAGE_SECONDS = 3


def _register_during(outage: Callable[[], None], broker: FaultProxy, client: TestClient) -> tuple[list[str], float]:
    """Register PEOPLE people while the broker is out; the slowest answer's seconds."""
    outage()
    emails, slowest = [], 0.0
    try:
        for _ in range(PEOPLE):
            email = f"outage-{uuid.uuid4().hex[:8]}@example.com"
            started = time.perf_counter()
            response = client.post(
                "/auth/register", json={"email": email, "password": PASSWORD, "display_name": "Out Age"}
            )
            slowest = max(slowest, time.perf_counter() - started)
            assert response.status_code == 201, response.text
            emails.append(email)
        time.sleep(OUTAGE_SECONDS)
    finally:
        broker.heal()
    return emails, slowest


def _each_mailed_once(mailbox: Mailbox, emails: list[str]) -> None:
    for email in emails:
        mailbox.wait_for(email, VERIFY, timeout=60)
    time.sleep(1.5)  # a second copy would come from the same relay round or the next
    assert [len(mailbox.to(email)) for email in emails] == [1] * len(emails)


@pytest.mark.parametrize("fault", ["cut", "partition"])
def test_registrations_during_a_broker_outage_are_each_mailed_once_after_it(
    client: TestClient, faults: Proxies, mailbox: Mailbox, fault: str
) -> None:
    started = time.monotonic()
    emails, slowest = _register_during(getattr(faults.broker, fault), faults.broker, client)
    healed = time.monotonic()
    _each_mailed_once(mailbox, emails)
    recovery = time.monotonic() - healed
    print(f"broker {fault}: slowest registration {slowest:.2f} s; every mail {recovery:.1f} s after heal")
    # Publishing happens after the response, off the event loop: the outage costs the request nothing
    # (each registration hashes a password, ~0.1-0.3 s here).
    assert slowest < 1.5
    assert healed - started < 30
    with task_session() as session:
        states = session.scalars(select(OutboxTask.state).where(OutboxTask.task == "auth.send_verification_email"))
        assert set(states) == {"done"}


def test_a_sweep_due_while_the_broker_is_down_runs_once_it_is_back(worker: Any, faults: Proxies, tmp_path: Any) -> None:
    scheduler = OutboxScheduler(app=celery_app, schedule_filename=str(tmp_path / "beat"), lazy=True)
    entry = ScheduleEntry(name="purge", task="thread.purge_old_events", schedule=timedelta(hours=1), app=celery_app)
    faults.broker.cut()
    try:
        task_id = uuid.UUID(scheduler.apply_async(entry, advance=False).id)
        time.sleep(OUTAGE_SECONDS)
        with task_session() as session:
            assert session.get_one(OutboxTask, task_id).state == "pending"  # kept, not skipped
    finally:
        faults.broker.heal()

    def done() -> bool:
        with task_session() as session:
            return session.get_one(OutboxTask, task_id).state == "done"

    until(done, 60, interval=0.1, what="the sweep ran after the broker came back")
