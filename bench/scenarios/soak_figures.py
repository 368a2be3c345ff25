"""The soak's figures from what was recorded: rates, errors and latency per kind of request, minute by minute and
overall, events owed and received, and the checks the report states.

Latency is of 2xx answers, from the moment the schedule said to send (a request that waited for a connection, or
for a late driver, counts that wait); errors are counted apart and left out of it.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from bench.machinery.paced import Record
from bench.machinery.percentiles import percentile, summary_ms
from bench.scenarios.soak_streams import EventTally

MINUTE = 60.0
DRIVER_LAG_P99_MS = 10.0  # the driver kept to its schedule if it handed on 99% of requests within this
DRIVER_LAG_MAX_MS = 250.0  # and none later than this
RATE_SHARE = 0.99  # of the target: the rate achieved (2xx answers per second of the soak) is held


def minute_count(seconds: float) -> int:
    """Minutes of a soak, the last one possibly partial."""
    return max(1, math.ceil(seconds / MINUTE - 1e-9))


def minute_index(offset: float, seconds: float) -> int:
    """The minute of a soak of ``seconds`` that ``offset`` seconds after its start falls in."""
    return max(0, min(int(offset // MINUTE), minute_count(seconds) - 1))


@dataclass(frozen=True)
class Soaked:
    """Everything recorded in one soak."""

    start: float
    seconds: float
    targets: dict[str, float]  # kind -> requests per second
    records: dict[str, list[Record]]
    tally: EventTally
    owed: Callable[[int], int]  # a post's number -> streams owed its event
    abandoned: int  # requests still unanswered when the driver stopped waiting

    def minute_of(self, record: Record) -> int:
        return minute_index(record.intended - self.start, self.seconds)

    @property
    def minutes(self) -> int:
        return minute_count(self.seconds)

    def minute_seconds(self, minute: int) -> float:
        return min(MINUTE, self.seconds - minute * MINUTE)


def _ms(values: Iterable[float]) -> list[float]:
    return [value * 1000 for value in values]


def _p(values: list[float], p: float) -> float | None:
    return round(percentile(values, p), 1) if values else None


def _latencies(records: Iterable[Record]) -> list[float]:
    return _ms(record.done - record.intended for record in records if record.ok)


def _events(soaked: Soaked, numbers: Iterable[int]) -> tuple[int, int, int]:
    """Events owed for the posts ``numbers`` answered 201, received, and lost (owed but never received)."""
    posts = soaked.records["post"]
    owed = received = lost = 0
    for number in numbers:
        if posts[number].ok:
            expected, heard = soaked.owed(number), soaked.tally.heard[number]
            owed, received, lost = owed + expected, received + min(heard, expected), lost + max(0, expected - heard)
    return owed, received, lost


def minute_rows(soaked: Soaked, cpu: list[dict[str, Any]], memory: list[dict[str, int]]) -> list[dict[str, Any]]:
    """A row per minute of the schedule: what was sent in it, how it was answered, and the machine meanwhile."""
    by_minute: defaultdict[int, defaultdict[str, list[Record]]] = defaultdict(lambda: defaultdict(list))
    post_numbers: defaultdict[int, list[int]] = defaultdict(list)
    for kind, records in soaked.records.items():
        for number, record in enumerate(records):
            by_minute[soaked.minute_of(record)][kind].append(record)
            if kind == "post":
                post_numbers[soaked.minute_of(record)].append(number)
    rows = []
    for minute in range(soaked.minutes):
        kinds = by_minute[minute]
        everything = [record for records in kinds.values() for record in records]
        seconds = soaked.minute_seconds(minute)
        owed, received, lost = _events(soaked, post_numbers[minute])
        event_ms = _ms(soaked.tally.latency_by_minute.get(minute, []))
        all_ms, post_ms = _latencies(everything), _latencies(kinds["post"])
        rows.append(
            {
                "minute": minute + 1,
                "sent_per_second": {kind: round(len(kinds[kind]) / seconds, 1) for kind in soaked.records},
                "errors": sum(1 for record in everything if not record.ok),
                "p50_ms": _p(all_ms, 50),
                "p99_ms": _p(all_ms, 99),
                "post_p99_ms": _p(post_ms, 99),
                "service_p99_ms": _p(_ms(r.done - r.sent for r in everything if r.ok), 99),
                "driver_lag_p99_ms": _p(_ms(r.dispatched - r.intended for r in everything), 99),
                "events_owed": owed,
                "events_received": received,
                "events_lost": lost,
                "event_p99_ms": _p(event_ms, 99),
                "cpu": cpu[minute] if minute < len(cpu) else None,
                "rss_bytes": memory[minute] if minute < len(memory) else None,
            }
        )
    return rows


def totals(soaked: Soaked) -> dict[str, Any]:
    """The whole soak's figures, per kind of request, and for the live streams."""
    kinds: dict[str, Any] = {}
    for kind, records in soaked.records.items():
        failures = Counter(failure for record in records if (failure := record.failure) is not None)
        ok = sum(1 for record in records if record.ok)
        kinds[kind] = {
            "target_per_second": round(soaked.targets[kind], 1),
            "sent": len(records),
            "sent_per_second": round(len(records) / soaked.seconds, 1),
            "ok": ok,
            "ok_per_second": round(ok / soaked.seconds, 1),
            "errors": sum(failures.values()),
            "error_kinds": dict(failures),
            "latency": summary_ms([ms / 1000 for ms in _latencies(records)]),
            "service_latency": summary_ms([record.done - record.sent for record in records if record.ok]),
        }
    everything = [record for records in soaked.records.values() for record in records]
    lag = _ms(record.dispatched - record.intended for record in everything)
    wait = _ms(record.sent - record.dispatched for record in everything if record.sent)
    owed, received, lost = _events(soaked, range(len(soaked.records["post"])))
    event_seconds = [seconds for values in soaked.tally.latency_by_minute.values() for seconds in values]
    lag_p99, lag_max = percentile(lag, 99) if lag else 0.0, max(lag, default=0.0)
    return {
        "kinds": kinds,
        "errors": sum(kind["errors"] for kind in kinds.values()),
        "latency": summary_ms([ms / 1000 for ms in _latencies(everything)]),
        "driver": {
            "lag_p50_ms": _p(lag, 50),
            "lag_p99_ms": _p(lag, 99),
            "lag_max_ms": round(lag_max, 1),
            "connection_wait_p99_ms": _p(wait, 99),
            "abandoned": soaked.abandoned,
            "kept_to_schedule": lag_p99 <= DRIVER_LAG_P99_MS and lag_max <= DRIVER_LAG_MAX_MS,
        },
        "events": {
            "owed": owed,
            "received": received,
            "lost": lost,
            "duplicates": soaked.tally.duplicates,
            "for_posts_not_answered_201": sum(
                heard for number, heard in soaked.tally.heard.items() if not soaked.records["post"][number].ok
            ),
            "latency_from_post_request": summary_ms(event_seconds),
        },
    }


def _check(name: str, ok: bool, value: str) -> dict[str, Any]:
    return {"check": name, "ok": ok, "value": value}


def checks(figures: dict[str, Any], ends: Counter[str]) -> list[dict[str, Any]]:
    """What the soak asserts, each with the figure it rests on."""
    driver, events, kinds = figures["driver"], figures["events"], figures["kinds"]
    rates = [
        f"{kind} {row['ok_per_second']:.1f}/{row['target_per_second']:.1f}"
        for kind, row in kinds.items()
        if row["ok_per_second"] < RATE_SHARE * row["target_per_second"]
    ]
    errors = "; ".join(
        f"{kind}: " + ", ".join(f"{count} {name}" for name, count in row["error_kinds"].items())
        for kind, row in kinds.items()
        if row["errors"]
    )
    return [
        _check("no request failed (non-2xx or transport error)", figures["errors"] == 0, errors or "0 errors"),
        _check(
            f"each kind answered 2xx at its target rate (>= {RATE_SHARE:.0%} of it, over the soak)",
            not rates,
            ", ".join(f"{rate}/s" for rate in rates) or "all at target",
        ),
        _check(
            f"the driver kept to its schedule (lag p99 <= {DRIVER_LAG_P99_MS:.0f} ms, max <= {DRIVER_LAG_MAX_MS:.0f})",
            bool(driver["kept_to_schedule"]),
            f"lag p99 {driver['lag_p99_ms']} ms, max {driver['lag_max_ms']} ms",
        ),
        _check(
            "every request answered before the driver stopped waiting",
            driver["abandoned"] == 0,
            f"{driver['abandoned']} unanswered",
        ),
        _check(
            "no live event lost: each stream got every 201 post's event on its thread",
            events["lost"] == 0,
            f"{events['received']:,}/{events['owed']:,} received",
        ),
        _check("no live event twice", events["duplicates"] == 0, f"{events['duplicates']} duplicates"),
        _check(
            "no stream ended during the soak",
            not ends,
            ", ".join(f"{count} {reason}" for reason, count in ends.items()) or "none ended",
        ),
    ]
