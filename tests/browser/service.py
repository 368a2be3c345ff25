"""chorus started the way `make run` starts it (`chorus migrate`, then `chorus run`: the Procfile's api, worker and
scheduler under the supervisor), in subprocesses whose state lives in a folder of their own, for a browser to use.

Embedded by default (SQLite data and broker files, mail as .eml files, all in that folder); with
CHORUS_TEST_SERVICES=1 the machine's PostgreSQL (a database of this run's own, dropped at the end), RabbitMQ (a queue
of this run's own, deleted at the end) and Redis (database 14; the in-process suite uses 15).
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from tests.browser.mail import mails_to
from tests.services import BROKER_URL, DATABASE_URL, GENEROUS_LIMITS, REDIS_URL, SERVICES

REPOSITORY = Path(__file__).resolve().parents[2]
SCRIPTS = Path(sys.executable).parent  # the virtual environment's chorus, uvicorn and celery
START_TIMEOUT_SECONDS = 90.0
# The supervisor's grace for its processes after SIGTERM (the embedded worker needs ~5 s to drain); this fixture waits
# that long plus a margin before it kills what is left.
RUN_GRACE_SECONDS = 15.0
STOP_MARGIN_SECONDS = 10.0
REDIS_DATABASE = 14
STARTED_LINE = re.compile(r"system\s+\| (\w+) started \(pid (\d+)\)")
WORKER_READY_LINE = re.compile(r"worker\s+\|.* ready\.")
SCHEDULER_READY_LINE = re.compile(r"scheduler\s+\|.*beat: Starting")


class ServiceFailed(RuntimeError):
    """chorus did not start or stop as it should; the message ends with the tail of its output."""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def listening(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(1)
        return probe.connect_ex(("127.0.0.1", port)) == 0


@dataclass
class Backends:
    """Where the service keeps its data and tasks, and how to clean those up after the run."""

    settings: dict[str, str]
    database: str | None = None  # a PostgreSQL database made for this run
    queue: str | None = None  # a RabbitMQ queue of this run's own

    @classmethod
    def embedded(cls, folder: Path) -> Backends:
        return cls(
            {
                "CHORUS_DATABASE_URL": f"sqlite:///{folder / 'chorus.sqlite3'}",
                "CHORUS_BROKER_URL": f"sqla+sqlite:///{folder / 'broker.sqlite3'}",
            }
        )

    @classmethod
    def machine(cls) -> Backends:
        """A fresh database beside the suite's `test` (whose advisory lock and resets are the suite's own)."""
        import psycopg

        name = f"chorus_browser_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(_database_url(DATABASE_URL, "postgres"), autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{name}"')
        queue = f"chorus-browser-{uuid.uuid4().hex[:12]}"
        redis = urlsplit(REDIS_URL)._replace(path=f"/{REDIS_DATABASE}").geturl()
        settings = {
            "CHORUS_DATABASE_URL": _database_url(DATABASE_URL, name),
            "CHORUS_BROKER_URL": BROKER_URL,
            "CHORUS_TASK_QUEUE": queue,
            "CHORUS_REDIS_URL": redis,
        }
        return cls(settings, database=name, queue=queue)

    def clean_up(self) -> None:
        if self.queue is not None:
            from kombu import Connection

            with Connection(BROKER_URL, connect_timeout=5) as connection:
                channel: Any = connection.default_channel  # typed as the abstract channel, without queue_delete
                channel.queue_delete(self.queue)
        if self.database is not None:
            import psycopg

            with psycopg.connect(_database_url(DATABASE_URL, "postgres"), autocommit=True) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)')


def _database_url(url: str, database: str) -> str:
    return urlsplit(url)._replace(path=f"/{database}").geturl()


@dataclass
class ChorusService:
    """One `chorus run` on ``port``, working in ``folder`` (its var/, mail, logs and, embedded, its data)."""

    folder: Path
    port: int
    backends: Backends
    process: subprocess.Popen[bytes] | None = None
    started_in: float = 0.0
    stopped_in: float = 0.0
    children: dict[str, int] = field(default_factory=dict)
    settings: dict[str, str] = field(default_factory=dict)  # CHORUS_* settings of this test's own, over the rest

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def mail_dir(self) -> Path:
        return self.folder / "mail"

    @property
    def log_path(self) -> Path:
        return self.folder / "service.log"

    def environment(self) -> dict[str, str]:
        """The test runner's environment without its CHORUS_* settings (a developer's, or another suite's), and
        this service's own; there is no .env file in the folder the processes start in."""
        inherited = {name: value for name, value in os.environ.items() if not name.startswith("CHORUS_")}
        return inherited | {
            "PATH": f"{SCRIPTS}{os.pathsep}{os.environ.get('PATH', '')}",
            "PYTHONUNBUFFERED": "1",
            "CHORUS_ENV": "development",  # as `make run`
            "CHORUS_SECRET_KEY": secrets.token_urlsafe(48),  # shared by the three processes, new each run
            "CHORUS_MAIL_DIR": str(self.mail_dir),
            "CHORUS_PUBLIC_URL": self.url,
            "CHORUS_RUN_GRACE_SECONDS": f"{RUN_GRACE_SECONDS:g}",
            **GENEROUS_LIMITS,
            **self.backends.settings,
            **self.settings,
        }

    def start(self) -> None:
        """Migrate, start, and return once /ready answers 200 and the worker and the scheduler say they run."""
        started = time.monotonic()
        # The Procfile's relative paths (the scheduler's var/celerybeat-schedule) land in the folder.
        (self.folder / "var").mkdir(parents=True, exist_ok=True)
        environment = self.environment()
        with self.log_path.open("ab") as log:
            migration = subprocess.run(
                [SCRIPTS / "chorus", "migrate"],
                cwd=self.folder,
                env=environment,
                stdout=log,
                stderr=subprocess.STDOUT,
                timeout=START_TIMEOUT_SECONDS,
                check=False,
            )
            if migration.returncode != 0:
                raise ServiceFailed(f"chorus migrate exited with {migration.returncode}" + self.tail())
            self.process = subprocess.Popen(
                [SCRIPTS / "chorus", "run", "--procfile", REPOSITORY / "Procfile", "--port", str(self.port)],
                cwd=self.folder,
                env=environment,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # pytest's Ctrl-C is not theirs; stop() ends them (and they end with pytest)
            )
        self._await_readiness(started + START_TIMEOUT_SECONDS)
        self.started_in = time.monotonic() - started

    def _await_readiness(self, deadline: float) -> None:
        assert self.process is not None
        awaited = {"/ready answering 200": self._answers_ready, "the worker": self._said(WORKER_READY_LINE)}
        awaited["the scheduler"] = self._said(SCHEDULER_READY_LINE)
        while awaited:
            if self.process.poll() is not None:
                raise ServiceFailed(f"chorus run exited with {self.process.returncode} while starting" + self.tail())
            if time.monotonic() > deadline:
                raise ServiceFailed(f"not within {START_TIMEOUT_SECONDS:g} s: {', '.join(awaited)}" + self.tail())
            awaited = {what: check for what, check in awaited.items() if not check()}
            time.sleep(0.1)
        self.children = {name: int(pid) for name, pid in STARTED_LINE.findall(self.output())}

    def _answers_ready(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.url}/ready", timeout=5) as response:  # noqa: S310 - our own URL
                return bool(response.status == 200)
        except (urllib.error.URLError, ConnectionError, TimeoutError):  # HTTPError (a 503) is a URLError too
            return False

    def _said(self, line: re.Pattern[str]) -> Callable[[], bool]:
        return lambda: line.search(self.output()) is not None

    def running(self) -> bool:
        """Whether the supervisor still runs: it stops everything as soon as any of its processes exits."""
        return self.process is not None and self.process.poll() is None

    def stop(self) -> None:
        """SIGTERM to the supervisor (it passes it on and waits out its grace); killed if it outlives that. Fails if
        it had to be killed, or if anything still listens on the port."""
        try:
            problems = self._stop_processes()
        finally:
            self.backends.clean_up()
        if problems:
            raise ServiceFailed("; ".join(problems) + self.tail())

    def _stop_processes(self) -> list[str]:
        if self.process is None:
            return []
        started = time.monotonic()
        problems = []
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(RUN_GRACE_SECONDS + STOP_MARGIN_SECONDS)
            except subprocess.TimeoutExpired:
                problems.append("chorus run outlived its grace and was killed")
                self._kill_everything()
        if self.process.returncode != 0:
            problems.append(f"chorus run exited with {self.process.returncode}")
        self.stopped_in = time.monotonic() - started
        deadline = time.monotonic() + 5
        while listening(self.port) and time.monotonic() < deadline:
            time.sleep(0.1)
        if listening(self.port):
            problems.append(f"something still listens on port {self.port}")
            self._kill_everything()
        return problems

    def _kill_everything(self) -> None:
        """The supervisor's group, and each of its processes' own sessions (the worker's pool with it)."""
        assert self.process is not None
        for group in [self.process.pid, *self.children.values()]:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(group, signal.SIGKILL)
        self.process.wait()

    def output(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace") if self.log_path.exists() else ""

    def tail(self, lines: int = 60) -> str:
        return f"\n--- the last {lines} lines of {self.log_path} ---\n" + "\n".join(self.output().splitlines()[-lines:])

    def mails_to(
        self, address: str, *, subject_contains: str = "", count: int = 1, timeout: float = 20.0
    ) -> list[EmailMessage]:
        """The mails the worker wrote to ``address`` (oldest first), once at least ``count`` match."""
        return mails_to(self.mail_dir, address, subject_contains=subject_contains, count=count, timeout=timeout)


def start_service(folder: Path, **settings: str) -> ChorusService:
    """A running chorus on a free port, with ``settings`` (``CHORUS_*`` variables) over the defaults; its backends
    cleaned up again if it does not start."""
    backends = Backends.machine() if SERVICES else Backends.embedded(folder)
    service = ChorusService(folder, free_port(), backends, settings=settings)
    try:
        service.start()
    except BaseException:
        with contextlib.suppress(ServiceFailed):
            service.stop()
        raise
    return service
