"""Cold start: seconds to ``import chorus.api`` in a fresh interpreter, and from the worker command
(``celery -A chorus.celery:app worker``) to a worker ready to consume (connected, mingled, consuming its queue).

Both with bytecode compiled, as a deployment runs: one unmeasured import first writes any ``.pyc`` missing."""

from __future__ import annotations

import statistics
import subprocess
import sys
from dataclasses import dataclass

from bench.machinery.environment import RunEnvironment
from bench.machinery.processes import Processes
from bench.machinery.workers import start_worker

IMPORT_PROBE = "import time; t = time.perf_counter(); import chorus.api; print(time.perf_counter() - t)"
WALL_PROBE = (
    "import time, subprocess, sys; t = time.perf_counter(); subprocess.run(sys.argv[1:], check=True); "
    "print(time.perf_counter() - t)"
)


@dataclass(frozen=True)
class ColdStart:
    import_api_seconds: float  # the import alone, in a fresh interpreter
    import_api_process_seconds: float  # the whole `python -c "import chorus.api"`, interpreter start included
    worker_ready_seconds: float
    samples: int

    def as_json(self) -> dict[str, float]:
        return {
            "import_chorus_api_seconds": round(self.import_api_seconds, 3),
            "python_c_import_chorus_api_seconds": round(self.import_api_process_seconds, 3),
            "worker_ready_seconds": round(self.worker_ready_seconds, 3),
            "samples": self.samples,
        }


def _python(run: RunEnvironment, *argv: str) -> str:
    completed = subprocess.run(  # noqa: S603
        [sys.executable, *argv], env=run.process_env(), cwd=run.root, check=True, capture_output=True, text=True
    )
    return completed.stdout.strip()


def measure_cold_start(processes: Processes, run: RunEnvironment, repeats: int) -> ColdStart:
    imports, whole, ready = [], [], []
    _python(run, "-c", "import chorus.api, chorus.celery")
    for attempt in range(repeats):
        imports.append(float(_python(run, "-c", IMPORT_PROBE)))
        whole.append(float(_python(run, "-c", WALL_PROBE, sys.executable, "-c", "import chorus.api")))
        worker = start_worker(processes, run, f"cold-worker-{attempt}")
        ready.append(worker.ready_seconds)
        processes.stop(worker.process)
    return ColdStart(
        import_api_seconds=statistics.median(imports),
        import_api_process_seconds=statistics.median(whole),
        worker_ready_seconds=statistics.median(ready),
        samples=repeats,
    )
