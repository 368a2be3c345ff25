"""The HTTP scenarios: chorus's endpoints, and the ceilings each is judged against.

Every scenario is one request that wrk repeats on 32 connections; a ceiling answers the same request (same path,
same body) with the least work possible, so the ratio is what chorus's own code costs.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from urllib.parse import urlencode

from bench.machinery.dataset import Dataset
from bench.machinery.loadgen import Request
from bench.machinery.run_threads import RunThreads

# What a person might write: a sentence and a bit, about the size of a chat message.
MESSAGE_BODY = "Looks good to me: the deploy went out this morning, can you check the numbers before lunch?"
JSON = "application/json"
FORM = "application/x-www-form-urlencoded"
PAGE_SIZE = 50
# A log-in costs an Argon2id verification (~0.1-0.2 s of CPU): 32 of them queue for seconds, so measure longer.
LOGIN_SECONDS = 8

# Which server answers a scenario.
STARLETTE = "bench.apps.bare_starlette:app"
FASTAPI = "bench.apps.bare_fastapi:app"
SQL = "bench.apps.sql:app"
CHORUS = "chorus.api:app"


@dataclass(frozen=True)
class HttpScenario:
    key: str
    title: str
    app: str
    request: Request
    ceiling: str | None = None  # the key of the scenario it is judged against
    expected_status: int = 200
    min_seconds: float = 0  # a slow endpoint needs a longer window for its figures to mean anything


def _messages_path(thread_id: object, before: str | None = None) -> str:
    return f"/threads/{thread_id}/messages?limit={PAGE_SIZE}" + (f"&before={before}" if before else "")


def ceiling_scenarios(run_threads: RunThreads) -> list[HttpScenario]:
    post = Request(
        "POST", f"/threads/{run_threads.ceiling_thread_id}/messages", json.dumps({"body": MESSAGE_BODY}), JSON
    )
    big = run_threads.big_thread_id
    return [
        HttpScenario("ceiling.starlette", "ceiling: bare Starlette JSON", STARLETTE, Request(path="/health")),
        HttpScenario("ceiling.fastapi", "ceiling: bare FastAPI JSON", FASTAPI, Request(path="/health")),
        HttpScenario("ceiling.insert", "ceiling: INSERT a message", SQL, post, expected_status=201),
        HttpScenario("ceiling.select", "ceiling: keyset SELECT 50, newest", SQL, Request(path=_messages_path(big))),
        HttpScenario(
            "ceiling.select_deep",
            "ceiling: keyset SELECT 50, 900k deep",
            SQL,
            Request(path=_messages_path(big, run_threads.deep_cursor)),
        ),
    ]


def chorus_scenarios(run_threads: RunThreads, dataset: Dataset, token: str) -> list[HttpScenario]:
    bearer = f"Bearer {token}"
    login = urlencode({"username": dataset.busy_user_email, "password": dataset.password})
    post_body = json.dumps({"body": MESSAGE_BODY})
    big = run_threads.big_thread_id
    return [
        HttpScenario("chorus.health", "GET /health", CHORUS, Request(path="/health"), ceiling="ceiling.fastapi"),
        HttpScenario(
            "chorus.login",
            "POST /auth/token (log in)",
            CHORUS,
            Request("POST", "/auth/token", login, FORM),
            ceiling="ceiling.argon2",
            min_seconds=LOGIN_SECONDS,
        ),
        HttpScenario(
            "chorus.post",
            "POST a message (10 participants)",
            CHORUS,
            Request("POST", f"/threads/{run_threads.post_thread_id}/messages", post_body, JSON, bearer),
            ceiling="ceiling.insert",
            expected_status=201,
        ),
        HttpScenario(
            "chorus.page",
            "GET 50 messages, newest (1M thread)",
            CHORUS,
            Request(path=_messages_path(big), authorization=bearer),
            ceiling="ceiling.select",
        ),
        HttpScenario(
            "chorus.page_deep",
            "GET 50 messages, 900k deep",
            CHORUS,
            Request(path=_messages_path(big, run_threads.deep_cursor), authorization=bearer),
            ceiling="ceiling.select_deep",
        ),
        HttpScenario(
            "chorus.threads",
            f"GET /threads (user in {dataset.busy_user_threads:,})",
            CHORUS,
            Request(path="/threads", authorization=bearer),
        ),
    ]


def back_to_back(ceilings: list[HttpScenario], scenarios: list[HttpScenario]) -> list[HttpScenario]:
    """The order of a round: each scenario right after its ceiling, then the ceilings nothing was paired with."""
    by_key = {ceiling.key: ceiling for ceiling in ceilings}
    order: list[HttpScenario] = []
    for scenario in scenarios:
        ceiling = by_key.get(scenario.ceiling or "")
        if ceiling is not None and ceiling not in order:
            order.append(ceiling)
        order.append(scenario)
    return order + [ceiling for ceiling in ceilings if ceiling not in order]
