"""ASGI apps under uvicorn, every one on the same settings: uvloop, httptools, N worker processes, no access log."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from bench.machinery import procfs
from bench.machinery.ports import LOOPBACK, accepts_connections, free_port
from bench.machinery.processes import Process, Processes

START_TIMEOUT_SECONDS = 60
STARTED = "Application startup complete."
SPAWNED_WORKER = "spawn_main"


def uvicorn_argv(app: str, port: int, workers: int) -> list[str]:
    return [
        sys.executable,
        "-m",
        "uvicorn",
        app,
        f"--host={LOOPBACK}",
        f"--port={port}",
        f"--workers={workers}",
        "--loop=uvloop",
        "--http=httptools",
        "--no-access-log",
        "--log-level=info",
    ]


@dataclass
class Server:
    name: str
    app: str
    port: int
    workers: int
    process: Process

    def pids(self) -> list[int]:
        """Every process of the server: with several workers, the supervisor and the workers it spawned."""
        return [member.pid for member in self.process.members()]

    def worker_processes(self) -> list[procfs.ProcessStat]:
        """The processes that serve requests (not the supervisor, nor multiprocessing's resource tracker)."""
        if self.workers == 1:
            return [member for member in self.process.members() if member.pid == self.process.pid]
        return [child for child in self.process.children() if SPAWNED_WORKER in procfs.command_line(child.pid)]

    def worker_rss_bytes(self) -> list[int]:
        return [procfs.rss_bytes(worker.pid) for worker in self.worker_processes()]


def start_server(processes: Processes, name: str, app: str, workers: int, env: Mapping[str, str], cwd: Path) -> Server:
    """Start ``app`` and wait until every worker process has finished its start-up."""
    port = free_port()
    process = processes.start(name, uvicorn_argv(app, port, workers), env, cwd)

    def ready() -> bool:
        return accepts_connections(port) and process.log_text().count(STARTED) >= workers

    processes.wait_until(process, ready, START_TIMEOUT_SECONDS, "serving")
    return Server(name=name, app=app, port=port, workers=workers, process=process)
