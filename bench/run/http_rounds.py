"""Running HTTP scenarios against their servers: check each answers as it should, then measure in rounds.

A shared machine's speed drifts by the second, so a scenario and its ceiling are measured back to back, several
rounds over; each figure is the median over the rounds, and each ratio the median of the rounds' ratios.
"""

from __future__ import annotations

import asyncio
import statistics
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bench.machinery.client import Connection
from bench.machinery.loadgen import Load, LoadResult, run_wrk, wait_until_idle
from bench.machinery.servers import Server
from bench.run.plan import Plan
from bench.scenarios.http import HttpScenario

UNBALANCED_SHARE = 0.75  # of the server's CPU in one of two processes
UNBALANCED_RETRIES = 2


class ScenarioBroken(RuntimeError):
    """The server does not answer the scenario's request as expected; measuring it would measure errors."""


@dataclass(frozen=True)
class HttpResult:
    scenario: HttpScenario
    api_processes: int
    rounds: list[LoadResult]

    def median(self, figure: str) -> float:
        return statistics.median(float(round_.as_json()[figure]) for round_ in self.rounds)  # type: ignore[arg-type]

    def as_json(self) -> dict[str, Any]:
        rounds = [round_.as_json() for round_ in self.rounds]
        figures = (
            "requests_per_second",
            "p50_ms",
            "p90_ms",
            "p99_ms",
            "app_cpu_ms_per_request",
            "generator_core_share",
        )
        return (
            {
                "key": self.scenario.key,
                "title": self.scenario.title,
                "api_processes": self.api_processes,
                "ceiling": self.scenario.ceiling,
            }
            | {figure: round(self.median(figure), 3) for figure in figures}
            | {
                "errors": sum(round_.error_count for round_ in self.rounds),
                "other_load_share": round(statistics.median(_other_load(round_) for round_ in rounds), 3),
                "rounds": rounds,
            }
        )


def _other_load(round_: Mapping[str, Any]) -> float:
    """The machine's share spent on neither the server, nor the database, nor wrk: other people's work."""
    cpu = round_["cpu"]
    ours = cpu["app_share"] + cpu["database_share"] + round_["generator_machine_share"]
    return float(max(0.0, cpu["machine_busy_share"] - ours))


async def _answer(server: Server, scenario: HttpScenario) -> tuple[int, bytes]:
    request = scenario.request
    headers = {"Content-Type": request.content_type} if request.content_type else {}
    headers |= {"Authorization": request.authorization} if request.authorization else {}
    body = request.body.encode() if request.body is not None else None
    connection = await Connection.open(server.port)
    try:
        response = await connection.request(request.method, request.path, headers=headers, body=body)
    finally:
        await connection.close()
    return response.status, response.body


def check_answer(server: Server, scenario: HttpScenario) -> None:
    status, body = asyncio.run(_answer(server, scenario))
    if status != scenario.expected_status:
        raise ScenarioBroken(
            f"{scenario.key}: {scenario.request.method} {scenario.request.path} answered {status}, "
            f"expected {scenario.expected_status}: {body[:300]!r}"
        )


def busiest_share(load: LoadResult) -> float:
    """The busiest server process's part of the server's CPU: 1/N when N processes shared the work evenly."""
    spent = load.cpu.app_process_seconds
    return max(spent) / sum(spent) if spent and sum(spent) > 0 else 1.0


def measure_once(server: Server, scenario: HttpScenario, plan: Plan) -> LoadResult:
    """Warm up, let the server drain, measure. With several processes, uvicorn's workers share one listening socket
    and wrk opens its 32 connections at once, so now and then one process accepts nearly all of them and the other
    idles; such a measurement is of one process, and is taken again (on new connections) a few times at most."""
    seconds = max(plan.measure_seconds, scenario.min_seconds)
    for attempt in range(1 + UNBALANCED_RETRIES):
        if plan.warmup_seconds and attempt == 0:
            run_wrk(server.port, scenario.request, Load(plan.connections, plan.warmup_seconds), server.pids)
        wait_until_idle(server.pids)
        load = run_wrk(server.port, scenario.request, Load(plan.connections, seconds), server.pids)
        if server.workers == 1 or busiest_share(load) <= UNBALANCED_SHARE:
            break
    return load
