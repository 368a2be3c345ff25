"""The processes a run starts (servers, workers): each in its own process group, logged to a file, and all of
them stopped when the run ends, also when it fails or is interrupted."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from bench.machinery import procfs

STOP_TIMEOUT_SECONDS = 15


class StartFailed(RuntimeError):
    """A process exited or did not become ready in time; the message ends with the tail of its log."""


@dataclass
class Process:
    name: str
    popen: subprocess.Popen[bytes]
    log: Path
    started_at: float

    @property
    def pid(self) -> int:
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen.poll() is None

    def members(self) -> list[procfs.ProcessStat]:
        """This process and every process it forked (they share its process group)."""
        return procfs.group_members(self.pid)

    def children(self) -> list[procfs.ProcessStat]:
        return [member for member in self.members() if member.pid != self.pid]

    def log_text(self) -> str:
        try:
            return self.log.read_text(errors="replace")
        except OSError:
            return ""

    def log_tail(self, lines: int = 30) -> str:
        return "\n".join(self.log_text().splitlines()[-lines:])


class Processes:
    """Starts processes and guarantees they are stopped: use as a context manager around the whole run."""

    def __init__(self, log_dir: Path) -> None:
        self.log_dir = log_dir
        self.running: list[Process] = []

    def start(self, name: str, argv: Sequence[str], env: Mapping[str, str], cwd: Path) -> Process:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        log = self.log_dir / f"{name}.log"
        with log.open("wb") as output:
            popen = subprocess.Popen(  # noqa: S603 (our own commands, no shell)
                list(argv),
                env=dict(env),
                cwd=cwd,
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        process = Process(name=name, popen=popen, log=log, started_at=time.perf_counter())
        self.running.append(process)
        return process

    def wait_until(self, process: Process, ready: Callable[[], bool], timeout: float, what: str) -> float:
        """Poll ``ready`` until it holds; seconds since the process started. Raises if it exits or times out."""
        deadline = time.perf_counter() + timeout
        while not ready():
            if not process.alive():
                raise StartFailed(f"{process.name} exited ({process.popen.returncode}):\n{process.log_tail()}")
            if time.perf_counter() > deadline:
                raise StartFailed(f"{process.name}: not {what} after {timeout:.0f} s:\n{process.log_tail()}")
            time.sleep(0.01)
        return time.perf_counter() - process.started_at

    def stop(self, process: Process) -> None:
        """SIGTERM to the leader (it stops its own children), then SIGKILL to whatever of the group is left."""
        if process in self.running:
            self.running.remove(process)
        if process.alive():
            with contextlib.suppress(ProcessLookupError):
                process.popen.send_signal(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.popen.wait(STOP_TIMEOUT_SECONDS)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.popen.wait(5)

    def stop_all(self) -> None:
        for process in reversed(list(self.running)):
            self.stop(process)

    def __enter__(self) -> Processes:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.stop_all()
