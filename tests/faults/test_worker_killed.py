"""A worker killed mid-task, its pool process or its main process: the task is handed back to RabbitMQ and runs
again, and its effect (a mail) happens once.

Real ``celery worker --pool prefork --concurrency 1`` processes consume a queue of the test's own; the task is a
password-reset mail to an SMTP server that holds the conversation at DATA, so the kill provably lands mid-task.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from chorus.celery import app as celery_app
from tests.faults.holding_smtp_server import HoldingSmtpServer
from tests.people import make_person

pytestmark = pytest.mark.usefixtures("faults")

TASK = "auth.send_password_reset_email"
# Once the one mail has arrived, how long nothing more may: a second run would come within the redelivery's time.
QUIET_SECONDS = 3


def _children_of(parent: int) -> list[int]:
    """Live processes (zombies are not) whose parent is ``parent``."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if fields[0] != "Z" and int(fields[1]) == parent:
                found.append(int(entry.name))
    return found


def _wait_until_gone(pid: int, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            state = (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            return
        if state == "Z":
            return
        assert time.monotonic() < deadline, f"process {pid} still runs {timeout} s after SIGKILL"
        time.sleep(0.05)


class Worker:
    """``celery worker --pool prefork --concurrency 1`` on ``queue``, mailing through ``smtp_port``."""

    def __init__(self, queue: str, name: str, smtp_port: int, log: Path) -> None:
        self.log = log
        env = os.environ | {"CHORUS_SMTP_URL": f"smtp://127.0.0.1:{smtp_port}", "CHORUS_TASK_QUEUE": queue}
        command = [
            sys.executable, "-m", "celery", "-A", "chorus.celery:app", "worker", "--pool", "prefork",
            "--concurrency", "1", "-Q", queue, "-n", f"{name}@%h", "--loglevel", "INFO",
            "--without-gossip", "--without-mingle", "--without-heartbeat",
        ]  # fmt: skip
        with log.open("wb") as output:
            self.process = subprocess.Popen(command, env=env, stdout=output, stderr=subprocess.STDOUT)

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while b" ready." not in self.log.read_bytes():
            assert self.process.poll() is None, f"the worker exited:\n{self.log.read_text()}"
            assert time.monotonic() < deadline, f"the worker was not ready within {timeout} s:\n{self.log.read_text()}"
            time.sleep(0.1)

    def pool_process(self) -> int:
        (pool,) = _children_of(self.process.pid)
        return pool

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@pytest.fixture
def sink() -> Iterator[HoldingSmtpServer]:
    server = HoldingSmtpServer()
    yield server
    server.close()


class Workers:
    """The workers of one test, all on a queue of its own."""

    def __init__(self, smtp_port: int, folder: Path) -> None:
        self.queue = f"faults-worker-killed-{uuid.uuid4().hex[:12]}"
        self.smtp_port = smtp_port
        self.folder = folder
        self.started: list[Worker] = []

    def start(self, name: str) -> Worker:
        worker = Worker(self.queue, f"{self.queue}-{name}", self.smtp_port, self.folder / f"worker-{name}.log")
        self.started.append(worker)
        worker.wait_ready()
        return worker


@pytest.fixture
def workers(sink: HoldingSmtpServer, tmp_path: Path) -> Iterator[Workers]:
    """Stopped, and their queue deleted, after the test."""
    started = Workers(sink.port, tmp_path)
    yield started
    for worker in started.started:
        worker.stop()
    with celery_app.connection_for_write() as connection:
        channel: Any = connection.default_channel  # the stubs' channel type has no queue_delete
        channel.queue_delete(started.queue)


def _mail_held_mid_task(sink: HoldingSmtpServer, queue: str) -> str:
    """Queue a reset mail for a new person; return their address once its task is held at DATA."""
    person = make_person("Grace Hopper")
    sink.hold()
    celery_app.send_task(TASK, args=[person.email], queue=queue)
    sink.wait_until_held(timeout=30)
    return person.email


def _assert_mailed_once(sink: HoldingSmtpServer, address: str) -> None:
    sink.wait_for(address, 1, timeout=60)
    time.sleep(QUIET_SECONDS)
    assert sink.delivered_to(address) == 1, "the task's effect happened twice"


def test_a_pool_process_killed_mid_task_leads_to_one_mail(sink: HoldingSmtpServer, workers: Workers) -> None:
    worker = workers.start("a")
    address = _mail_held_mid_task(sink, workers.queue)
    pool = worker.pool_process()
    os.kill(pool, signal.SIGKILL)
    _wait_until_gone(pool)
    assert sink.delivered_to(address) == 0, "the killed run never finished its mail"
    sink.release()
    _assert_mailed_once(sink, address)
    assert worker.process.poll() is None, "the main process lives on and ran the task again in a new pool process"


def test_the_main_process_killed_mid_task_leads_to_one_mail_from_another_worker(
    sink: HoldingSmtpServer, workers: Workers
) -> None:
    first = workers.start("a")
    address = _mail_held_mid_task(sink, workers.queue)
    pool = first.pool_process()
    first.process.kill()
    first.process.wait()
    _wait_until_gone(pool)  # Celery's pool processes die with their parent (PR_SET_PDEATHSIG)
    assert sink.delivered_to(address) == 0, "the killed run never finished its mail"
    sink.release()
    workers.start("b")
    _assert_mailed_once(sink, address)
