"""PostgreSQL cut while tasks run: each is retried until the database is back, then does its effect once.

Before, all 10 reset mails accepted during a 20 s database cut failed once (``OperationalError``) and were never
retried.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

from chorus.acts.auth.tasks.mail import send_password_reset_email
from chorus.celery import app as celery_app
from chorus.db import task_session
from chorus.models import OutboxTask
from tests.people import Mailbox, make_person
from tests.services import Proxies

RESET = "Reset your password"
OUTAGE_SECONDS = 4


def test_tasks_running_during_a_database_cut_are_retried_and_mail_once(
    worker: Any, faults: Proxies, mailbox: Mailbox
) -> None:
    people = [make_person(f"Person{n} Cut") for n in range(5)]
    task_ids = [str(uuid.uuid4()) for _ in people]
    faults.database.cut()
    try:
        for person, task_id in zip(people, task_ids, strict=True):
            celery_app.send_task(send_password_reset_email.name, args=[person.email], task_id=task_id)
        time.sleep(OUTAGE_SECONDS)
        assert all(mailbox.to(person.email) == [] for person in people), "nothing can be mailed without the database"
    finally:
        faults.database.heal()
    healed = time.monotonic()
    for person in people:
        mailbox.wait_for(person.email, RESET, timeout=60)
    print(f"database cut: every mail {time.monotonic() - healed:.1f} s after heal")
    time.sleep(1)
    assert [len(mailbox.to(person.email)) for person in people] == [1] * len(people)
    with task_session() as session:  # sent by hand, not through the outbox: no row was needed to retry them
        assert session.query(OutboxTask).filter(OutboxTask.state == "dead").count() == 0
