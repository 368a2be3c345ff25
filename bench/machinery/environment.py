"""The run's settings: where the services are, a dedicated database, a per-run task queue and secret key.

The services are this machine's PostgreSQL, RabbitMQ and Redis on 127.0.0.1; ``BENCH_DATABASE_URL``,
``BENCH_BROKER_URL`` and ``BENCH_REDIS_URL`` point elsewhere. The database is ``chorus_bench`` (never ``test``,
which the test suite drops); it is created when missing and kept, with its data set, between runs.
"""

from __future__ import annotations

import os
import secrets
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from sqlalchemy.engine import make_url

from bench.machinery.ports import accepts_connections

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/chorus_bench"
DEFAULT_BROKER_URL = "amqp://guest:guest@127.0.0.1:5672//"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
REFUSED_DATABASES = {"test", "postgres", "template0", "template1"}
STREAMS_PER_USER = 100


class ServiceUnavailable(RuntimeError):
    pass


@dataclass(frozen=True)
class RunEnvironment:
    run_id: str
    root: Path
    work_dir: Path
    database_url: str
    broker_url: str
    redis_url: str
    task_queue: str
    secret_key: str

    @property
    def seed_file(self) -> Path:
        return self.root / "var" / "bench" / "seed.json"

    @property
    def mail_dir(self) -> Path:
        return self.work_dir / "mail"

    @property
    def log_dir(self) -> Path:
        return self.work_dir / "logs"

    def chorus_variables(self) -> dict[str, str]:
        return {
            "CHORUS_ENV": "production",
            "CHORUS_SECRET_KEY": self.secret_key,
            "CHORUS_DATABASE_URL": self.database_url,
            "CHORUS_BROKER_URL": self.broker_url,
            "CHORUS_REDIS_URL": self.redis_url,
            "CHORUS_TASK_QUEUE": self.task_queue,
            "CHORUS_MAIL_DIR": str(self.mail_dir),
            "CHORUS_ACCESS_TOKEN_MINUTES": "180",
            "CHORUS_PUBLIC_URL": "http://127.0.0.1:8000",
            # Throughput, not the guards: the digest scenario mails a few people many times, and the log-in
            # scenario sends 32 attempts at once for one account from one address and keeps more hashes waiting
            # than the hashing bound lets through at once.
            "CHORUS_MAILS_PER_ADDRESS_PER_HOUR": "1000000",
            "CHORUS_LOGIN_FAILURES_PER_ACCOUNT": "1000000",
            "CHORUS_LOGIN_FAILURES_PER_ADDRESS": "1000000",
            "CHORUS_HASH_WAIT_SECONDS": "60",
            # POST /threads, 32 connections at once for one account: the per-account and per-address limits on
            # starting threads would answer 429 after the first few dozen.
            "CHORUS_THREADS_PER_ACCOUNT": "100000000/hour",
            "CHORUS_THREAD_WRITES_PER_ADDRESS": "100000000/hour",
            # 1,000 live subscribers are the run's ten members on 100 devices each (logging in 1,000 accounts would
            # cost minutes of Argon2id): the per-person cap is raised, the per-process one is not.
            "CHORUS_STREAMS_PER_USER": str(STREAMS_PER_USER),
        }

    def process_env(self) -> dict[str, str]:
        """What every process of the run gets: this environment, the run's settings, ``bench`` importable."""
        env = {name: value for name, value in os.environ.items() if not name.startswith("CHORUS_")}
        env |= self.chorus_variables()
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(self.root), env.get("PYTHONPATH")]))
        env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
        return env


def new_run() -> RunEnvironment:
    run_id = time.strftime("%Y%m%d-%H%M%S") + "-" + secrets.token_hex(3)
    database_url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_DATABASE_URL)
    name = make_url(database_url).database
    if name in REFUSED_DATABASES or not name:
        raise SystemExit(f"bench: refusing to use database {name!r}; the bench needs its own (e.g. chorus_bench)")
    return RunEnvironment(
        run_id=run_id,
        root=ROOT,
        work_dir=ROOT / "var" / "bench" / "runs" / run_id,
        database_url=database_url,
        broker_url=os.environ.get("BENCH_BROKER_URL", DEFAULT_BROKER_URL),
        redis_url=os.environ.get("BENCH_REDIS_URL", DEFAULT_REDIS_URL),
        task_queue=f"chorus-bench-{run_id}",
        secret_key=secrets.token_urlsafe(48),
    )


def _address(url: str, default_port: int) -> tuple[str, int]:
    parts = urlsplit(url)
    return parts.hostname or "127.0.0.1", parts.port or default_port


def check_services(run: RunEnvironment) -> None:
    """Fail early, naming the service, when one of them does not answer."""
    services = {
        "PostgreSQL": _address(run.database_url, 5432),
        "RabbitMQ": _address(run.broker_url, 5672),
        "Redis": _address(run.redis_url, 6379),
    }
    down = [f"{name} ({host}:{port})" for name, (host, port) in services.items() if not accepts_connections(port, host)]
    if down:
        raise ServiceUnavailable("not answering: " + ", ".join(down))


def raise_open_file_limit(wanted: int) -> int:
    """Lift this process's soft limit on open files towards ``wanted`` (at most the hard limit); the servers it
    starts inherit it. 1,000 live streams are 1,000 sockets here and about as many across the API processes."""
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft != resource.RLIM_INFINITY and soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        return target
    return soft


def ensure_database(run: RunEnvironment) -> None:
    """Create the bench's database if it does not exist yet (connecting to the server's ``postgres`` database)."""
    import psycopg

    url = make_url(run.database_url)
    admin = url.set(drivername="postgresql", database="postgres").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as connection:
        exists = connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", (url.database,)).fetchone()
        if not exists:
            connection.execute(f'CREATE DATABASE "{url.database}"')
