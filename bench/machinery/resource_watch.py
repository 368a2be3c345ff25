"""Resident memory of the processes under test, sampled all along a long load, and CPU use window by window
(where the machine's CPU went, and this process's own share: the load generator's)."""

from __future__ import annotations

import resource
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bench.machinery import procfs
from bench.machinery.cpu import CpuUse, CpuWatch

# The processes to watch, by a label that says what each is ("API pid 123"); asked again when one of them is gone
# (finding them walks /proc), so a process that was replaced shows as a new label.
LabelledPids = Callable[[], dict[str, int]]


@dataclass(frozen=True)
class CpuWindow:
    use: CpuUse
    client_seconds: float  # CPU time of this process (the load generator and the subscribers)

    def as_json(self) -> dict[str, Any]:
        figures: dict[str, Any] = self.use.as_json()
        figures["client_share"] = round(self.use.share(self.client_seconds), 3)
        wall = self.use.wall_seconds
        figures["client_core_share"] = round(self.client_seconds / wall, 3) if wall else 0.0
        return figures


def _own_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


class ResourceWatch:
    def __init__(self, watched: LabelledPids) -> None:
        self.watched = watched
        self._pids = watched()
        self.started = time.perf_counter()
        self.samples: list[tuple[float, dict[str, int]]] = []
        self._cpu: CpuWatch | None = None
        self._client_before = 0.0

    def read_memory(self) -> dict[str, int]:
        rss = {label: procfs.rss_bytes(pid) for label, pid in self._pids.items()}
        if not all(rss.values()):
            self._pids = self.watched()
            rss = {label: procfs.rss_bytes(pid) for label, pid in self._pids.items()}
        return rss

    def sample_memory(self) -> dict[str, int]:
        """Read and keep: the samples are what ``memory_json`` reports."""
        rss = self.read_memory()
        self.samples.append((time.perf_counter() - self.started, rss))
        return rss

    def start_cpu_window(self) -> None:
        self._cpu = CpuWatch(lambda: list(self._pids.values()))
        self._cpu.start()
        self._client_before = _own_cpu_seconds()

    def end_cpu_window(self) -> CpuWindow:
        assert self._cpu is not None, "start_cpu_window() first"
        return CpuWindow(self._cpu.stop(), _own_cpu_seconds() - self._client_before)

    def memory_json(self) -> dict[str, Any]:
        """Per process: resident memory at the first and last sample that saw it, and the most it held."""
        labels = dict.fromkeys(label for _, rss in self.samples for label in rss)
        per_process = {}
        for label in labels:
            seen = [rss[label] for _, rss in self.samples if rss.get(label)]
            if seen:
                per_process[label] = {"start_bytes": seen[0], "end_bytes": seen[-1], "max_bytes": max(seen)}
        return {
            "processes": per_process,
            "samples": [{"at_seconds": round(at, 1), "rss_bytes": rss} for at, rss in self.samples],
        }
