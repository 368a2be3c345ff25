"""What the worker finished, recorded from Celery's ``task_postrun`` signal: tests wait on it instead of sleeping."""

from __future__ import annotations

import threading
import time
from typing import Any

from celery.signals import task_postrun


class TaskLog:
    """Every task run the worker finished, in order, as ``(task name, state)``; filled in the worker's thread."""

    def __init__(self) -> None:
        self.runs: list[tuple[str, str]] = []
        self.changed = threading.Condition()

    def record(self, sender: Any = None, state: str | None = None, **_: Any) -> None:
        with self.changed:
            self.runs.append((getattr(sender, "name", repr(sender)), state or "UNKNOWN"))
            self.changed.notify_all()

    def connect(self) -> None:
        task_postrun.connect(self.record, weak=False)

    def disconnect(self) -> None:
        task_postrun.disconnect(self.record)


class FinishedTasks:
    """The task runs a test caused: those the worker finished since the test started."""

    def __init__(self, log: TaskLog) -> None:
        self.log = log
        with log.changed:
            self.since = len(log.runs)

    def wait_for(self, task_name: str, timeout: float = 30.0) -> str:
        """The state (``"SUCCESS"``, ``"FAILURE"``, ``"RETRY"``...) of the first run of ``task_name`` finished since
        the test started, waiting up to ``timeout`` seconds for it."""
        deadline = time.monotonic() + timeout
        with self.log.changed:
            while True:
                for name, state in self.log.runs[self.since :]:
                    if name == task_name:
                        return state
                left = deadline - time.monotonic()
                if left <= 0:
                    seen = [name for name, _ in self.log.runs[self.since :]] or "nothing"
                    raise AssertionError(f"{task_name} did not finish within {timeout} s (finished: {seen})")
                self.log.changed.wait(left)
