"""Celery workers as production starts them (``celery -A chorus.celery:app worker --concurrency=2``), under a
node name of the run's own, timed from the command to the moment the worker says it is ready to consume."""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from pathlib import Path

from bench.machinery import procfs
from bench.machinery.environment import RunEnvironment
from bench.machinery.processes import Process, Processes

CONCURRENCY = 2
READY_TIMEOUT_SECONDS = 90
READY = re.compile(r"@\S+ ready\.")


@dataclass
class Worker:
    process: Process
    ready_seconds: float

    def main_rss_bytes(self) -> int:
        return procfs.rss_bytes(self.process.pid)

    def pool_rss_bytes(self) -> list[int]:
        return [procfs.rss_bytes(child.pid) for child in self.process.children()]

    def pids(self) -> list[int]:
        return [member.pid for member in self.process.members()]


def start_worker(
    processes: Processes, run: RunEnvironment, name: str, app: str = "chorus.celery:app", queue: str | None = None
) -> Worker:
    celery = str(Path(sys.executable).parent / "celery")
    argv = [celery, "-A", app, "worker", "--loglevel=INFO", f"--concurrency={CONCURRENCY}"]
    argv += [f"--hostname={name}-{run.run_id}@%h"] + ([f"--queues={queue}"] if queue else [])
    process = processes.start(name, argv, run.process_env(), run.root)
    seconds = processes.wait_until(
        process, lambda: READY.search(process.log_text()) is not None, READY_TIMEOUT_SECONDS, "ready"
    )
    return Worker(process=process, ready_seconds=seconds)
