"""``python -m bench --only soak``: the stack as ``make bench`` runs it (PostgreSQL, RabbitMQ, Redis; 2 API
processes; a Celery worker), the peak post rate, then the soak (bench.scenarios.soak); everything started is
stopped and the soak's threads removed, whatever happens."""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import uvloop

from bench.machinery.client import log_in
from bench.machinery.dataset import ensure_dataset
from bench.machinery.environment import check_services, new_run
from bench.machinery.loadgen import ensure_wrk
from bench.machinery.processes import Processes
from bench.machinery.resource_watch import ResourceWatch
from bench.machinery.run_threads import SOAK_TITLE_PREFIX, create_soak_threads, forget_sessions, remove_run_threads
from bench.machinery.servers import Server, start_server
from bench.machinery.workers import Worker, start_worker
from bench.run.machine import describe_machine, load_now
from bench.run.plan import SoakPlan
from bench.run.runner import delete_queues, forget_old_runs
from bench.scenarios.http import CHORUS
from bench.scenarios.soak import measure_peak, soak

Report = Callable[[str], None]


def _watched(server: Server, worker: Worker) -> Callable[[], dict[str, int]]:
    """The API's serving processes and the worker's main and pool processes, each by what it is and its pid."""

    def labelled() -> dict[str, int]:
        found = {f"API pid {stat.pid}": stat.pid for stat in server.worker_processes()}
        found[f"worker main pid {worker.process.pid}"] = worker.process.pid
        found |= {f"worker pool pid {stat.pid}": stat.pid for stat in worker.process.children()}
        return found

    return labelled


def run_soak(plan: SoakPlan, report: Report) -> dict[str, Any]:
    started, started_at, load_before = time.perf_counter(), datetime.now(UTC), load_now()
    env = new_run()
    os.environ.update(env.chorus_variables())
    check_services(env)
    ensure_wrk(report)
    forget_old_runs(env)
    dataset, _ = ensure_dataset(env, report)
    remove_run_threads(SOAK_TITLE_PREFIX)  # a crashed soak's leftovers; ``make bench``'s threads are not touched
    threads = create_soak_threads(env.run_id, dataset, plan.threads)
    thread_ids = [str(thread_id) for thread_id in threads.thread_ids]
    try:
        with Processes(env.log_dir) as processes:
            worker = start_worker(processes, env, "worker")
            server = start_server(
                processes, f"chorus-{plan.api_processes}", CHORUS, plan.api_processes, env.process_env(), env.root
            )
            tokens = uvloop.run(_log_in(server.port, [member.email for member in threads.members], dataset.password))
            watch = ResourceWatch(_watched(server, worker))
            started_memory = watch.read_memory()
            peak = None
            post_rate = plan.post_rate
            if post_rate is None:
                report(f"peak post rate: wrk, {plan.peak_connections} connections, {plan.peak_seconds:g} s")
                peak = measure_peak(server, thread_ids, tokens[0], plan)
                post_rate = plan.load_share * peak.requests_per_second
                report(
                    f"  peak {peak.requests_per_second:,.1f} posts/s (p99 {peak.p99_ms:.1f} ms, errors "
                    f"{peak.error_count}); soaking at {plan.load_share:.0%}: {post_rate:,.1f} posts/s"
                )
            soaked = uvloop.run(soak(server, thread_ids, tokens, plan, post_rate, watch, report))
    finally:
        remove_run_threads(SOAK_TITLE_PREFIX + env.run_id)
        forget_sessions()
        delete_queues([env.task_queue])
        shutil.rmtree(env.mail_dir, ignore_errors=True)
    return {
        "schema": 1,
        "only": "soak",
        "plan": plan.__dict__,
        "started_at": started_at.strftime("%Y-%m-%d %H:%M UTC"),
        "wall_seconds": round(time.perf_counter() - started, 1),
        "machine": describe_machine(env.database_url, env.redis_url),
        "load_average": {"before": load_before, "after": load_now()},
        "api_processes": plan.api_processes,
        "rss_after_start_up_bytes": started_memory,
        "peak": None if peak is None else peak.as_json(),
        "post_rate": round(post_rate, 1),
        "soak": soaked,
        "logs": str(env.log_dir),
    }


async def _log_in(port: int, emails: list[str], password: str) -> list[str]:
    return [await log_in(port, email, password) for email in emails]
