"""One run, start to end: theatre's speed (no services needed), the data set, the run's threads, cold start,
every HTTP scenario beside its ceiling at each API process count, live updates, background work; everything
started is stopped, whatever happens."""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import uvloop

from bench.machinery.client import log_in
from bench.machinery.dataset import Dataset, ensure_dataset
from bench.machinery.environment import RunEnvironment, check_services, new_run, raise_open_file_limit
from bench.machinery.loadgen import LoadResult, ensure_wrk
from bench.machinery.processes import Processes
from bench.machinery.run_threads import RunThreads, create_run_threads, forget_sessions, remove_run_threads
from bench.machinery.servers import Server, start_server
from bench.machinery.workers import CONCURRENCY, Worker, start_worker
from bench.run.http_rounds import HttpResult, check_answer, measure_once
from bench.run.machine import describe_machine, load_now
from bench.run.plan import Plan
from bench.run.ratios import add_ratios
from bench.run.targets import check_targets
from bench.scenarios.argon2_ceiling import measure_password_check
from bench.scenarios.background import Throughput, measure_digests, measure_noop
from bench.scenarios.cold_start import measure_cold_start
from bench.scenarios.http import CHORUS, SQL, back_to_back, ceiling_scenarios, chorus_scenarios
from bench.scenarios.live import LiveResult, measure_live
from bench.scenarios.theatre_speed import measure_theatre_speed

Report = Callable[[str], None]
NOOP_WORKER_APP = "bench.apps.noop_worker:app"


class Run:
    def __init__(self, plan: Plan, report: Report) -> None:
        self.plan = plan
        self.report = report
        self.env: RunEnvironment = new_run()
        self.http: list[HttpResult] = []
        self.live: LiveResult | None = None
        self.api_rss: dict[str, list[int]] = {}

    def _serve(self, processes: Processes, app: str, workers: int, run_threads: RunThreads) -> Server:
        name = app.split(":")[0].rsplit(".", 1)[-1] if app != CHORUS else "chorus"
        env = self.env.process_env()
        if app == SQL:
            env["BENCH_AUTHOR_ID"] = str(run_threads.author.id)
            env["BENCH_CREATOR_ID"] = str(run_threads.creator.id)
        return start_server(processes, f"{name}-{workers}", app, workers, env, self.env.root)

    def _http_at(self, processes: Processes, workers: int, dataset: Dataset, run_threads: RunThreads) -> None:
        """Every server up at once (the idle ones cost nothing), then rounds of every scenario, back to back."""
        round_count = self.plan.rounds_at(workers)
        self.report(f"HTTP scenarios with {workers} API process(es), {round_count} rounds")
        ceilings = ceiling_scenarios(run_threads)
        servers = {
            app: self._serve(processes, app, workers, run_threads)
            for app in dict.fromkeys([*(c.app for c in ceilings), CHORUS])
        }
        chorus = servers[CHORUS]
        tokens = uvloop.run(self._log_in_everyone(chorus, dataset, run_threads))
        order = back_to_back(ceilings, chorus_scenarios(run_threads, dataset, tokens))
        for scenario in order:
            check_answer(servers[scenario.app], scenario)
        rounds: dict[str, list[LoadResult]] = {scenario.key: [] for scenario in order}
        for number in range(1, round_count + 1):
            for scenario in order:
                load = measure_once(servers[scenario.app], scenario, self.plan)
                rounds[scenario.key].append(load)
                self.report(
                    f"  [{workers} procs, round {number}] {scenario.title}: {load.requests_per_second:,.0f} req/s, "
                    f"p50 {load.p50_ms:.1f} ms, p99 {load.p99_ms:.1f} ms, errors {load.error_count}"
                )
        self.http += [HttpResult(scenario, workers, rounds[scenario.key]) for scenario in order]
        if workers == max(self.plan.api_processes):
            self._measure_live(chorus, run_threads, tokens)
        self.api_rss[str(workers)] = chorus.worker_rss_bytes()
        for server in servers.values():
            processes.stop(server.process)

    async def _log_in_everyone(self, server: Server, dataset: Dataset, run_threads: RunThreads) -> list[str]:
        return [await log_in(server.port, member.email, dataset.password) for member in run_threads.members]

    def _background(self, dataset: Dataset, processes: Processes, worker: Worker) -> tuple[Throughput, Throughput]:
        self.report(f"background: {self.plan.digests:,} digests")
        digests = measure_digests(self.plan.digests, dataset, worker.pids)
        noop_queue = f"{self.env.task_queue}.noop"
        noop_worker = start_worker(processes, self.env, "noop-worker", app=NOOP_WORKER_APP, queue=noop_queue)
        self.report(f"background: {self.plan.noop_tasks:,} no-op tasks")
        counter = f"bench:{self.env.run_id}:noop"
        noop = measure_noop(self.plan.noop_tasks, noop_queue, self.env.redis_url, counter, noop_worker.pids)
        processes.stop(noop_worker.process)
        return digests, noop

    def _measure_live(self, chorus: Server, run_threads: RunThreads, tokens: list[str]) -> None:
        self.report(f"live updates: {self.plan.live_subscribers} subscribers, {self.plan.live_posts} posts")
        self.live = uvloop.run(
            measure_live(
                chorus,
                run_threads,
                tokens,
                self.plan.live_subscribers,
                self.plan.live_posts,
                self.plan.live_posts_per_second,
            )
        )

    def _prepare(self) -> tuple[Dataset, float | None, RunThreads]:
        """The services checked, the data set there, the run's own threads made."""
        os.environ.update(self.env.chorus_variables())
        check_services(self.env)
        # The live subscribers' sockets here, and as many in the API processes (which inherit the limit).
        raise_open_file_limit(4 * self.plan.live_subscribers + 1024)
        forget_old_runs(self.env)
        dataset, seed_seconds = ensure_dataset(self.env, self.report)
        remove_run_threads()
        return dataset, seed_seconds, create_run_threads(self.env.run_id, dataset)

    def _clean_up(self) -> None:
        remove_run_threads()
        forget_sessions()
        delete_queues([self.env.task_queue, f"{self.env.task_queue}.noop"])
        shutil.rmtree(self.env.mail_dir, ignore_errors=True)

    def execute_live_only(self) -> dict[str, Any]:
        started, started_at, load_before = time.perf_counter(), datetime.now(UTC), load_now()
        dataset, _, run_threads = self._prepare()
        try:
            with Processes(self.env.log_dir) as processes:
                start_worker(processes, self.env, "worker")
                chorus = self._serve(processes, CHORUS, max(self.plan.api_processes), run_threads)
                self._measure_live(chorus, run_threads, uvloop.run(self._log_in_everyone(chorus, dataset, run_threads)))
        finally:
            self._clean_up()
        results: dict[str, Any] = {
            "schema": 1,
            "plan": self.plan.__dict__,
            "only": "live",
            "started_at": started_at.strftime("%Y-%m-%d %H:%M UTC"),
            "wall_seconds": round(time.perf_counter() - started, 1),
            "load_average": {"before": load_before, "after": load_now()},
            "live": self.live.as_json() if self.live else None,
        }
        results["targets"] = check_targets(results)
        return results

    def execute(self) -> dict[str, Any]:
        started, started_at, load_before = time.perf_counter(), datetime.now(UTC), load_now()
        self.report(f"theatre: check chorus, check and map on a large project ({self.plan.theatre_repeats} runs each)")
        theatre = measure_theatre_speed(self.plan.theatre_repeats, self.report)
        ensure_wrk(self.report)
        dataset, seed_seconds, run_threads = self._prepare()
        try:
            with Processes(self.env.log_dir) as processes:
                self.report("cold start; the log-in ceiling (Argon2id verify)")
                cold = measure_cold_start(processes, self.env, self.plan.cold_start_repeats)
                password = measure_password_check(self.plan.cold_start_repeats + 2)
                worker = start_worker(processes, self.env, "worker")
                for workers in self.plan.api_processes:
                    self._http_at(processes, workers, dataset, run_threads)
                digests, noop = self._background(dataset, processes, worker)
                worker_memory = {"main_rss_bytes": worker.main_rss_bytes(), "pool_rss_bytes": worker.pool_rss_bytes()}
        finally:
            self._clean_up()
        results: dict[str, Any] = {
            "schema": 1,
            "plan": self.plan.__dict__,
            "started_at": started_at.strftime("%Y-%m-%d %H:%M UTC"),
            "wall_seconds": round(time.perf_counter() - started, 1),
            "seed_seconds": None if seed_seconds is None else round(seed_seconds, 1),
            "machine": describe_machine(self.env.database_url, self.env.redis_url),
            "load_average": {"before": load_before, "after": load_now()},
            "http": [result.as_json() for result in self.http],
            "live": self.live.as_json() if self.live else None,
            "background": {
                "digests": digests.as_json(),
                "noop": noop.as_json(),
                "digest_share_of_noop": round(digests.per_second / noop.per_second, 3) if noop.per_second else 0,
                "worker_concurrency": CONCURRENCY,
            },
            "cold_start": cold.as_json(),
            "password_hashing": password.as_json(),
            "memory": {"api_process_rss_bytes": self.api_rss, "worker": worker_memory},
            "theatre": theatre,
        }
        add_ratios(results["http"], results["password_hashing"])
        results["targets"] = check_targets(results)
        return results


def forget_old_runs(env: RunEnvironment) -> None:
    """Keep the logs of the last few runs only."""
    folder = env.work_dir.parent
    runs = sorted(path for path in folder.glob("*") if path.is_dir()) if folder.exists() else []
    for old in runs[:-4]:
        shutil.rmtree(old, ignore_errors=True)


def delete_queues(names: list[str]) -> None:
    from chorus.celery import app

    try:
        with app.connection_for_write() as connection:
            channel: Any = connection.default_channel
            for name in names:
                channel.queue_delete(name)
    except Exception as error:  # a queue left on the broker is untidy, not a failed run
        print(f"bench: could not delete queues {names}: {error}")


def run_bench(plan: Plan, report: Report) -> dict[str, Any]:
    return Run(plan, report).execute()


def run_live_only(plan: Plan, report: Report) -> dict[str, Any]:
    """``python -m bench --only live``: the live scenario alone, on the run's most API processes (no ceilings)."""
    return Run(plan, report).execute_live_only()


def run_theatre_only(plan: Plan, report: Report) -> dict[str, Any]:
    """``python -m bench --only theatre``: theatre's speed alone, without the services or the data set."""
    started, started_at = time.perf_counter(), datetime.now(UTC)
    report(f"theatre: check chorus, check and map on a large project ({plan.theatre_repeats} runs each)")
    results: dict[str, Any] = {
        "schema": 1,
        "plan": plan.__dict__,
        "only": "theatre",
        "started_at": started_at.strftime("%Y-%m-%d %H:%M UTC"),
        "theatre": measure_theatre_speed(plan.theatre_repeats, report),
    }
    results["wall_seconds"] = round(time.perf_counter() - started, 1)
    results["targets"] = check_targets(results)
    return results
