"""theatre's own speed: ``theatre check chorus`` from the repository root, and ``theatre check`` and ``theatre map``
on a large generated project (``bench.scenarios.theatre_project``), each the wall time of the whole command in a fresh
process (interpreter start and both probes included), with ``PYTHONDONTWRITEBYTECODE=1`` as in the images.

Each command runs once unmeasured (to warm the file cache), then ``repeats`` times; figures are medians. No
services are needed.
"""

from __future__ import annotations

import os
import resource
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.machinery.environment import ROOT
from bench.scenarios.theatre_project import write_project

THEATRE = ROOT / ".venv" / "bin" / "theatre"
ACTS, SCENES_PER_ACT = 30, 20  # one route per scene, as bench.scenarios.theatre_project explains


@dataclass(frozen=True)
class Timing:
    key: str
    title: str
    seconds: list[float]
    cpu_seconds: list[float]  # user + system of the command and its probes

    def as_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "title": self.title,
            "median_seconds": round(statistics.median(self.seconds), 3),
            "min_seconds": round(min(self.seconds), 3),
            "max_seconds": round(max(self.seconds), 3),
            "median_cpu_seconds": round(statistics.median(self.cpu_seconds), 3),
            "samples": [round(value, 3) for value in self.seconds],
        }


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _run_once(argv: list[str], cwd: Path) -> tuple[float, float]:
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
    cpu, started = _children_cpu(), time.perf_counter()
    completed = subprocess.run(  # noqa: S603 (the repository's own theatre)
        argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, check=False
    )
    seconds = time.perf_counter() - started
    if completed.returncode != 0:
        raise RuntimeError(
            f"{' '.join(argv)} (in {cwd}) exited {completed.returncode}:\n{completed.stdout}{completed.stderr}"
        )
    return seconds, _children_cpu() - cpu


def _time(key: str, title: str, argv: list[str], cwd: Path, repeats: int, report: Callable[[str], None]) -> Timing:
    _run_once(argv, cwd)
    samples = [_run_once(argv, cwd) for _ in range(repeats)]
    timing = Timing(key, title, [wall for wall, _ in samples], [cpu for _, cpu in samples])
    row = timing.as_json()
    report(
        f"  {title}: median {row['median_seconds']:.2f} s (min {row['min_seconds']:.2f}, max {row['max_seconds']:.2f}; "
        f"CPU {row['median_cpu_seconds']:.2f} s; {repeats} runs)"
    )
    return timing


def measure_theatre_speed(repeats: int, report: Callable[[str], None]) -> dict[str, Any]:
    theatre, load_before = str(THEATRE), [round(value, 2) for value in os.getloadavg()]
    timings = [_time("check_chorus", "theatre check chorus", [theatre, "check", "chorus"], ROOT, repeats, report)]
    with tempfile.TemporaryDirectory(prefix="theatre-bench-") as folder:
        project = write_project(Path(folder), ACTS, SCENES_PER_ACT)
        size = f"{ACTS} acts x {SCENES_PER_ACT} scenes"
        for command in ("check", "map"):
            argv = [theatre, command, "--project", str(project)]
            timings.append(_time(f"{command}_large", f"theatre {command} ({size})", argv, ROOT, repeats, report))
    return {
        "repeats": repeats,
        "project": {"acts": ACTS, "scenes_per_act": SCENES_PER_ACT},
        "load_average": {"before": load_before, "after": [round(value, 2) for value in os.getloadavg()]},
        "timings": [timing.as_json() for timing in timings],
    }
