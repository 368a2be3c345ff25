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


def _new_thread_body(run_threads: RunThreads) -> str:
    """A thread started with two other people, as most are."""
    others = [str(member.id) for member in run_threads.members[2:4]]
    return json.dumps({"title": run_threads.new_thread_title, "participant_ids": others})


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
        HttpScenario("ceiling.threads", "ceiling: my threads' SELECT", SQL, Request(path="/threads")),
        HttpScenario(
            "ceiling.create_thread",
            "ceiling: INSERT a thread + 3 participants",
            SQL,
            Request("POST", "/threads", _new_thread_body(run_threads), JSON),
            expected_status=201,
        ),
    ]


def chorus_scenarios(run_threads: RunThreads, dataset: Dataset, tokens: list[str]) -> list[HttpScenario]:
    """``tokens``: the run's members', in their order (the busy user's first)."""
    bearer = f"Bearer {tokens[0]}"
    spread = tuple(f"/threads/{thread_id}/messages" for thread_id in run_threads.spread_thread_ids)
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
            "POST a message, hot: 1 thread (10 participants)",
            CHORUS,
            Request("POST", f"/threads/{run_threads.post_thread_id}/messages", post_body, JSON, bearer),
            ceiling="ceiling.insert",
            expected_status=201,
        ),
        HttpScenario(
            "chorus.post_spread",
            f"POST a message, spread: {len(spread)} threads",
            CHORUS,
            Request("POST", spread[0], post_body, JSON, bearer, rotate_paths=spread),
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
            ceiling="ceiling.threads",
        ),
        HttpScenario(
            "chorus.create_thread",
            "POST /threads (me + 2 people)",
            CHORUS,
            Request("POST", "/threads", _new_thread_body(run_threads), JSON, f"Bearer {tokens[1]}"),
            ceiling="ceiling.create_thread",
            expected_status=201,
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
