"""The load generator: wrk with a Lua script, one request repeated on N connections for a fixed time.

wrk is C and event-driven, so one of its threads keeps 32 connections busy at a small fraction of a core; the CPU
it used is measured (``os.wait4``) and reported beside each result, so a run where it was the bottleneck shows.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bench.machinery import procfs
from bench.machinery.cpu import CORES, CpuUse, CpuWatch
from bench.machinery.ports import LOOPBACK

LUA_SCRIPT = Path(__file__).parent / "lua" / "request.lua"
WRK_TIMEOUT = "10s"
IDLE_TIMEOUT_SECONDS = 30
IDLE_WINDOW_SECONDS = 0.2
IDLE_CORE_SHARE = 0.1


class LoadGeneratorMissing(RuntimeError):
    pass


@dataclass(frozen=True)
class Request:
    method: str = "GET"
    path: str = "/"
    body: str | None = None
    content_type: str | None = None
    authorization: str | None = None
    rotate_paths: tuple[str, ...] = ()  # when given, each request goes to the next of these in turn (not ``path``)


@dataclass(frozen=True)
class Load:
    connections: int
    seconds: float
    threads: int = 1


@dataclass(frozen=True)
class LoadResult:
    requests: int
    seconds: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    errors: dict[str, int]
    generator_core_share: float  # CPU time of wrk / wall time: 1.0 is one core flat out
    cpu: CpuUse

    @property
    def requests_per_second(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def error_count(self) -> int:
        return sum(self.errors.values())

    @property
    def app_cpu_ms_per_request(self) -> float:
        return 1000 * self.cpu.app_seconds / self.requests if self.requests else 0.0

    def as_json(self) -> dict[str, object]:
        return {
            "requests": self.requests,
            "seconds": round(self.seconds, 3),
            "requests_per_second": round(self.requests_per_second, 1),
            "p50_ms": self.p50_ms,
            "p90_ms": self.p90_ms,
            "p99_ms": self.p99_ms,
            "max_ms": self.max_ms,
            "errors": self.error_count,
            "error_kinds": self.errors,
            "app_cpu_ms_per_request": round(self.app_cpu_ms_per_request, 3),
            "generator_core_share": round(self.generator_core_share, 3),
            "generator_machine_share": round(self.generator_core_share / CORES, 3),
            "busiest_process_share": round(max(self.cpu.app_process_seconds) / self.cpu.app_seconds, 3)
            if self.cpu.app_seconds > 0 and self.cpu.app_process_seconds
            else None,
            "cpu": self.cpu.as_json(),
        }


def wrk_path() -> str:
    found = shutil.which("wrk")
    if found is None:
        raise LoadGeneratorMissing("wrk is not installed: apt-get install -y wrk (Debian), or put it on PATH")
    return found


def ensure_wrk(report: Callable[[str], None]) -> str:
    """wrk's path; installed from Debian's packages first when missing and this process may (root, apt-get)."""
    if shutil.which("wrk") is None and os.geteuid() == 0 and shutil.which("apt-get"):
        report("wrk is missing: apt-get install -y wrk")
        quiet = os.environ | {"DEBIAN_FRONTEND": "noninteractive"}
        for argv in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", "wrk"]):
            subprocess.run(argv, check=False, stdout=subprocess.DEVNULL, env=quiet)  # noqa: S603
    return wrk_path()


def wait_until_idle(pids: Callable[[], list[int]], timeout: float = IDLE_TIMEOUT_SECONDS) -> None:
    """Let the server finish what a previous load left queued (a slow endpoint keeps working after wrk closed its
    connections), so it does not count against the next measurement."""
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        before = procfs.cpu_seconds(pids())
        time.sleep(IDLE_WINDOW_SECONDS)
        if procfs.cpu_seconds(pids()) - before < IDLE_CORE_SHARE * IDLE_WINDOW_SECONDS:
            return


def run_wrk(port: int, request: Request, load: Load, app_pids: Callable[[], list[int]]) -> LoadResult:
    """Drive ``request`` at ``127.0.0.1:port`` for ``load.seconds``; CPU of ``app_pids`` is measured alongside."""
    with tempfile.TemporaryDirectory(prefix="bench-wrk-") as scratch:
        result_path = Path(scratch) / "result.json"
        env = {name: value for name, value in os.environ.items() if not name.startswith("BENCH_")}
        env |= {"BENCH_METHOD": request.method, "BENCH_RESULT": str(result_path)}
        optional = {
            "BENCH_BODY": request.body,
            "BENCH_CONTENT_TYPE": request.content_type,
            "BENCH_AUTHORIZATION": request.authorization,
            "BENCH_PATHS": " ".join(request.rotate_paths) or None,
        }
        env |= {name: value for name, value in optional.items() if value is not None}
        argv = [
            wrk_path(),
            f"--threads={load.threads}",
            f"--connections={load.connections}",
            f"--duration={max(1, round(load.seconds))}s",
            f"--timeout={WRK_TIMEOUT}",
            f"--script={LUA_SCRIPT}",
            f"http://{LOOPBACK}:{port}{request.path}",
        ]
        watch = CpuWatch(app_pids)
        watch.start()
        started = time.perf_counter()
        output_path = Path(scratch) / "output.txt"
        with output_path.open("wb") as output:
            wrk = subprocess.Popen(argv, env=env, stdout=output, stderr=subprocess.STDOUT)  # noqa: S603
            _, status, usage = os.wait4(wrk.pid, 0)
        wall = time.perf_counter() - started
        cpu = watch.stop()
        code = wrk.returncode = os.waitstatus_to_exitcode(status)
        if code != 0 or not result_path.exists():
            raise RuntimeError(f"wrk failed ({code}):\n{output_path.read_text(errors='replace')}")
        summary = json.loads(result_path.read_text())
    latency = summary["latency_us"]
    return LoadResult(
        requests=summary["requests"],
        seconds=summary["duration_us"] / 1e6,
        p50_ms=latency["p50"] / 1000,
        p90_ms=latency["p90"] / 1000,
        p99_ms=latency["p99"] / 1000,
        max_ms=latency["max"] / 1000,
        errors=summary["errors"],
        generator_core_share=(usage.ru_utime + usage.ru_stime) / wall,
        cpu=cpu,
    )
