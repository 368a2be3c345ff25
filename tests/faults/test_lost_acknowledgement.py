"""The broker connection drops just as a task finishes: its acknowledgement is lost and RabbitMQ delivers it again.

Before, the second run sent a second identical mail. Now the mail's record says it was sent, so the second run
sends nothing.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from celery.signals import task_prerun
from fastapi.testclient import TestClient

from tests.faults.proxy import FaultProxy
from tests.people import PASSWORD
from tests.services import Proxies
from tests.smtp_sink import SmtpSink, smtp_sink


class CuttingInbox(SmtpSink):
    """Takes each mail, and cuts the broker's path the moment the first one arrives (healed a moment later)."""

    def __init__(self, broker: FaultProxy) -> None:
        super().__init__(stall=False)
        self.broker = broker
        self.recipients: list[str] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd's hook
        self.recipients.extend(envelope.rcpt_tos)
        if len(self.recipients) == 1:
            self.broker.cut()
            threading.Timer(1.0, self.broker.heal).start()
        return await super().handle_DATA(server, session, envelope)


@pytest.fixture
def cutting_inbox(faults: Proxies, monkeypatch: pytest.MonkeyPatch) -> Iterator[CuttingInbox]:
    with smtp_sink(monkeypatch, sink=CuttingInbox(faults.broker)) as sink:
        assert isinstance(sink, CuttingInbox)
        yield sink


def test_a_task_delivered_again_after_its_ack_was_lost_mails_once(
    client: TestClient, cutting_inbox: CuttingInbox
) -> None:
    runs: list[str] = []

    def count_run(task_id: str, task: Any, **_: Any) -> None:
        if task.name == "auth.send_verification_email":
            runs.append(task_id)

    task_prerun.connect(count_run, weak=False)
    try:
        body = {"email": "lost-ack@example.com", "password": PASSWORD, "display_name": "Lost Ack"}
        assert client.post("/auth/register", json=body).status_code == 201
        deadline = time.monotonic() + 30
        while len(runs) < 2 and time.monotonic() < deadline:  # the worker reconnects and takes it again
            time.sleep(0.05)
    finally:
        task_prerun.disconnect(count_run)
    assert len(runs) == 2, "the task was not delivered again: this test shows nothing"
    assert runs[0] == runs[1]
    time.sleep(1)
    assert cutting_inbox.recipients == ["lost-ack@example.com"]
