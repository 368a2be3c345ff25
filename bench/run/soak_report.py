"""A soak's results as text (``make soak``) and Markdown (``python -m bench --markdown bench/results/soak.json``):
what was run, the rates, a line per minute, errors, live events, memory at start and end, and what was checked."""

from __future__ import annotations

from typing import Any

MIB = 1024 * 1024
MINUTE_HEADER = ["minute", "posts/s", "pages/s", "lists/s", "errors", "p50 ms", "p99 ms", "post p99", "service p99"]
MINUTE_HEADER += ["driver lag p99", "events recv/owed", "event p99 ms", "app CPU", "db CPU", "client", "others"]


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def _share(cpu: dict[str, Any] | None, key: str) -> str:
    """A share of the machine; below zero only when processes it sums over ended between the two readings."""
    return "-" if cpu is None else f"{max(0.0, cpu[key]):.0%}"


def _others(cpu: dict[str, Any] | None) -> str:
    """The machine's share spent on neither chorus, nor the database, nor this process (the driver)."""
    if cpu is None:
        return "-"
    ours = cpu["app_share"] + cpu["database_share"] + cpu["client_share"]
    return f"{max(0.0, cpu['machine_busy_share'] - ours):.0%}"


def _kinds(counts: dict[str, int]) -> str:
    return " (" + ", ".join(f"{count} {name}" for name, count in counts.items()) + ")" if counts else ""


def _others_during_peak(peak: dict[str, Any]) -> str:
    """As ``make bench``'s *others*: busy with neither chorus, PostgreSQL nor wrk (a noisy peak is a low one)."""
    cpu = peak["cpu"]
    ours = cpu["app_share"] + cpu["database_share"] + peak["generator_machine_share"]
    return f"{max(0.0, cpu['machine_busy_share'] - ours):.0%}"


def minute_table(soak: dict[str, Any]) -> list[list[str]]:
    rows = [MINUTE_HEADER]
    for row in soak["minutes"]:
        rates, cpu = row["sent_per_second"], row["cpu"]
        rows.append(
            [
                str(row["minute"]),
                f"{rates.get('post', 0):.1f}",
                f"{rates.get('page', 0):.1f}",
                f"{rates.get('thread_list', 0):.1f}",
                str(row["errors"]),
                _ms(row["p50_ms"]),
                _ms(row["p99_ms"]),
                _ms(row["post_p99_ms"]),
                _ms(row["service_p99_ms"]),
                _ms(row["driver_lag_p99_ms"]),
                f"{row['events_received']:,}/{row['events_owed']:,}",
                _ms(row["event_p99_ms"]),
                _share(cpu, "app_share"),
                _share(cpu, "database_share"),
                "-" if cpu is None else f"{cpu['client_core_share']:.0%} core",
                _others(cpu),
            ]
        )
    return rows


def _align(rows: list[list[str]]) -> list[str]:
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))]
    return ["  ".join(cell.rjust(width) for cell, width in zip(row, widths, strict=True)) for row in rows]


def summary_lines(results: dict[str, Any]) -> list[str]:
    soak, plan = results["soak"], results["plan"]
    peak = results["peak"]
    lines = [
        f"soak {results['started_at']}, {plan['minutes']:g} min ({results['wall_seconds']:.0f} s in all); "
        f"{results['machine']['cores']} cores ({results['machine']['cpu']}); {results['api_processes']} API processes, "
        f"a Celery worker; load average {results['load_average']['before'][0]} before, "
        f"{results['load_average']['after'][0]} after",
        (
            f"Peak post rate: {peak['requests_per_second']:,.1f}/s (wrk, {plan['peak_connections']} connections, "
            f"{peak['seconds']:.0f} s over {soak['threads']} threads; p99 {peak['p99_ms']:.1f} ms, "
            f"errors {peak['errors']}; chorus {peak['app_cpu_ms_per_request']:.2f} ms of CPU per post; the machine "
            f"{_others_during_peak(peak)} busy with other work meanwhile); soaked at {plan['load_share']:.0%} of it"
            if peak
            else f"Post rate fixed at {results['post_rate']:,.1f}/s (--post-rate; no peak measured)"
        ),
    ]
    rates = "; ".join(
        f"{kind} {row['target_per_second']:.1f}/s target, {row['sent_per_second']:.1f}/s sent, "
        f"{row['ok_per_second']:.1f}/s answered 2xx"
        for kind, row in soak["kinds"].items()
    )
    lines.append(f"Rates: {rates}")
    latency = "; ".join(
        f"{kind} p50 {row['latency']['p50_ms']:.1f} / p99 {row['latency']['p99_ms']:.1f} / "
        f"max {row['latency']['max_ms']:.1f}"
        for kind, row in soak["kinds"].items()
    )
    lines.append(f"Latency of 2xx answers from the scheduled send time (ms): {latency}")
    errors = "; ".join(f"{kind} {row['errors']}{_kinds(row['error_kinds'])}" for kind, row in soak["kinds"].items())
    lines.append(f"Errors (non-2xx or transport): {soak['errors']} in all; {errors}")
    driver = soak["driver"]
    lines.append(
        f"Driver (this process, asyncio, open loop): lag behind its schedule p50 {driver['lag_p50_ms']} ms, "
        f"p99 {driver['lag_p99_ms']} ms, max {driver['lag_max_ms']} ms; waited for a connection p99 "
        f"{driver['connection_wait_p99_ms']} ms; {soak['connections_opened']} connections opened; "
        f"{driver['abandoned']} unanswered at the end"
    )
    events = soak["events"]
    event_latency = events["latency_from_post_request"]
    lines.append(
        f"Live: {soak['subscribers']} SSE streams on {soak['threads']} threads: {events['received']:,}/"
        f"{events['owed']:,} events of 201 posts received, {events['lost']} lost, {events['duplicates']} duplicates, "
        f"{events['for_posts_not_answered_201']} for posts not answered 201; after the post was sent p50 "
        f"{event_latency['p50_ms']:.1f} ms, p99 {event_latency['p99_ms']:.1f} ms; streams resumed "
        f"{soak['stream_resumes']} times ({soak['stream_ends'] or 'none ended'})"
    )
    started_up = results["rss_after_start_up_bytes"]
    for label, memory in soak["memory"]["processes"].items():
        start, end, most = memory["start_bytes"], memory["end_bytes"], memory["max_bytes"]
        after_start_up = f"{started_up[label] / MIB:.1f} MiB after start-up, " if started_up.get(label) else ""
        lines.append(
            f"Memory {label}: {after_start_up}{start / MIB:.1f} MiB at the soak's start, {end / MIB:.1f} at its end "
            f"({(end - start) / MIB:+.1f}), max {most / MIB:.1f}"
        )
    return lines


def check_lines(results: dict[str, Any]) -> list[str]:
    return [
        f"[{'ok  ' if check['ok'] else 'FAIL'}] {check['check']}: {check['value']}"
        for check in results["soak"]["checks"]
    ]


def as_text(results: dict[str, Any]) -> str:
    lines = [*summary_lines(results), "", "Per minute (by scheduled send time):"]
    lines += _align(minute_table(results["soak"]))
    return "\n".join([*lines, "", "Checked:", *check_lines(results)])


def as_markdown(results: dict[str, Any]) -> str:
    table = minute_table(results["soak"])
    lines = [*(f"- {line}" for line in summary_lines(results)), ""]
    lines.append("| " + " | ".join(table[0]) + " |")
    lines.append("|" + "|".join("---:" for _ in table[0]) + "|")
    lines += ["| " + " | ".join(row) + " |" for row in table[1:]]
    return "\n".join([*lines, "", "Checked:", "", *(f"- {line}" for line in check_lines(results))])
