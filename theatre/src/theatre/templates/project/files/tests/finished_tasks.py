"""What the worker finished, recorded from Celery's ``task_postrun`` signal: tests wait on it instead of sleeping."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from celery.signals import task_postrun


class TaskLog:
    """Every task run the worker finished, in order, as ``(task name, task id, state)``; filled in the worker's
    thread."""

    def __init__(self) -> None:
        self.runs: list[tuple[str, str, str]] = []
        self.changed = threading.Condition()

    def record(self, sender: Any = None, task_id: str | None = None, state: str | None = None, **_: Any) -> None:
        with self.changed:
            self.runs.append((getattr(sender, "name", repr(sender)), task_id or "?", state or "UNKNOWN"))
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
        return self._first(lambda name, _: name == task_name, task_name, timeout)

    def wait_for_id(self, task_id: str, timeout: float = 30.0) -> str:
        """The state of the first run of the task with this id (an outbox row's) finished since the test started."""
        return self._first(lambda _, finished_id: finished_id == task_id, f"task {task_id}", timeout)

    def runs_of(self, task_id: str) -> int:
        """How many runs of the task with this id (every delivery of one outbox row shares it) have finished."""
        with self.log.changed:
            return sum(1 for _, finished_id, _ in self.log.runs[self.since :] if finished_id == task_id)

    def _first(self, matches: Callable[[str, str], bool], what: str, timeout: float) -> str:
        deadline = time.monotonic() + timeout
        with self.log.changed:
            while True:
                for name, task_id, state in self.log.runs[self.since :]:
                    if matches(name, task_id):
                        return state
                left = deadline - time.monotonic()
                if left <= 0:
                    seen = [name for name, _, _ in self.log.runs[self.since :]] or "nothing"
                    raise AssertionError(f"{what} did not finish within {timeout} s (finished: {seen})")
                self.log.changed.wait(left)
