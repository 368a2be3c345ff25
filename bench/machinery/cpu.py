"""Where the machine's CPU went during a measurement: the processes under test, the database, everything else."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass

from bench.machinery import procfs

CORES = os.cpu_count() or 1


@dataclass(frozen=True)
class CpuUse:
    """CPU seconds spent during ``wall_seconds``; shares are of the whole machine (1.0 = every core busy)."""

    wall_seconds: float
    app_seconds: float
    database_seconds: float
    machine_busy_seconds: float
    app_process_seconds: tuple[float, ...] = ()  # each app process's part, largest first

    def share(self, seconds: float) -> float:
        return seconds / (self.wall_seconds * CORES) if self.wall_seconds else 0.0

    def as_json(self) -> dict[str, float | list[float]]:
        return {
            "wall_seconds": round(self.wall_seconds, 3),
            "app_share": round(self.share(self.app_seconds), 3),
            "database_share": round(self.share(self.database_seconds), 3),
            "machine_busy_share": round(self.share(self.machine_busy_seconds), 3),
            "app_process_core_shares": [round(seconds / self.wall_seconds, 3) for seconds in self.app_process_seconds],
        }


class CpuWatch:
    """Snapshot CPU counters at ``start()`` and ``stop()``; the app's processes are looked up at each snapshot."""

    def __init__(self, app_pids: Callable[[], list[int]]) -> None:
        self.app_pids = app_pids
        self._start: _Snapshot | None = None

    def _snapshot(self) -> _Snapshot:
        return _Snapshot(
            at=time.perf_counter(),
            app={pid: procfs.cpu_seconds([pid]) for pid in self.app_pids()},
            database=sum(process.cpu_seconds for process in procfs.named("postgres")),
            machine_busy=procfs.machine_cpu().busy_seconds,
        )

    def start(self) -> None:
        self._start = self._snapshot()

    def stop(self) -> CpuUse:
        assert self._start is not None, "start() first"
        before, after = self._start, self._snapshot()
        per_process = sorted((seconds - before.app.get(pid, 0.0) for pid, seconds in after.app.items()), reverse=True)
        return CpuUse(
            wall_seconds=after.at - before.at,
            app_seconds=sum(per_process),
            database_seconds=after.database - before.database,
            machine_busy_seconds=after.machine_busy - before.machine_busy,
            app_process_seconds=tuple(per_process),
        )


@dataclass(frozen=True)
class _Snapshot:
    at: float
    app: dict[int, float]
    database: float
    machine_busy: float
