"""The run's results as a table: for the terminal, and as Markdown for the README (``python -m bench --markdown``)."""

from __future__ import annotations

from typing import Any

from bench.run import soak_report

MIB = 1024 * 1024


def http_rows(results: dict[str, Any]) -> list[list[str]]:
    table = []
    for row in results["http"]:
        ratio = row.get("ratio")
        table.append(
            [
                row["title"],
                str(row["api_processes"]),
                f"{row['requests_per_second']:,.0f}",
                f"{row['p50_ms']:.1f}",
                f"{row['p99_ms']:.1f}",
                str(row["errors"]),
                "" if ratio is None else f"{ratio:.2f}",
                "" if row.get("p99_ratio") is None else f"{row['p99_ratio']:.2f}",
                row.get("versus", ""),
                f"{row['app_cpu_ms_per_request']:.2f}",
                f"{row['generator_core_share']:.0%}",
                f"{row['other_load_share']:.0%}",
            ]
        )
    return table


HTTP_HEADER = ["scenario (32 connections)", "procs", "req/s", "p50 ms", "p99 ms", "errors", "ratio", "p99 x", "vs"]
LEFT_ALIGNED = (0, 8)  # the scenario and its ceiling's names
HTTP_HEADER += ["app CPU ms/req", "wrk core", "others"]


def _mib(values: list[int]) -> str:
    return ", ".join(f"{value / MIB:.0f}" for value in values) + " MiB"


def summary_lines(results: dict[str, Any]) -> list[str]:
    lines = []
    live = results.get("live")
    if live:
        response, request = live["latency_from_post_response"], live["latency_from_post_request"]
        lines.append(
            f"Live updates: {live['subscribers']:,} SSE subscribers on one thread, {live['posts']} posts "
            f"({live.get('posts_refused', 0)} refused): event after "
            f"the post's response p50 {response['p50_ms']:.1f} ms, p99 {response['p99_ms']:.1f} ms (after the "
            f"request: p50 {request['p50_ms']:.1f}, p99 {request['p99_ms']:.1f}); "
            f"{live['events_received']:,}/{live['events_expected']:,} events, {live['missing_events']:,} lost "
            "(not heard 5 s after the last post); "
            f"API CPU {live.get('app_cpu_ms_per_post', 0):.1f} ms per post (fan-out and the streams' checks); "
            f"client {live['client_core_share']:.0%} of a core"
            + (
                f"; {retries:,} stream openings refused and asked again"
                if (retries := live.get("stream_open_retries"))
                else ""
            )
            + (
                "; streams the server ended, resumed with Last-Event-ID: "
                + ", ".join(f"{count:,} {reason}" for reason, count in endings.items())
                if (endings := live.get("streams_ended_and_resumed"))
                else ""
            )
        )
    background = results.get("background")
    if background:
        digests, noop = background["digests"], background["noop"]
        lines.append(
            f"Background: {digests['per_second']:,.0f} digests/s end to end ({digests['completed']:,} of "
            f"{digests['tasks']:,} in {digests['seconds']:.2f} s) vs {noop['per_second']:,.0f} no-op tasks/s "
            f"({noop['completed']:,} of {noop['tasks']:,}): {background['digest_share_of_noop']:.2f}"
        )
    cold = results.get("cold_start")
    if cold:
        lines.append(
            f"Cold start: import chorus.api {cold['import_chorus_api_seconds']:.2f} s (python -c, interpreter "
            f"included: {cold['python_c_import_chorus_api_seconds']:.2f} s); worker ready to consume "
            f"{cold['worker_ready_seconds']:.2f} s"
        )
    password = results.get("password_hashing")
    if password:
        lines.append(
            f"Log-in ceiling: one Argon2id verification (chorus's hasher) takes {password['argon2_verify_ms']:.0f} ms "
            f"of CPU: at most {1000 / password['argon2_verify_ms']:.1f} log-ins/s per core"
        )
    theatre = results.get("theatre")
    if theatre:
        timings = "; ".join(
            f"{row['title']} {row['median_seconds']:.2f} s ({row['min_seconds']:.2f}-{row['max_seconds']:.2f}, "
            f"CPU {row['median_cpu_seconds']:.2f} s)"
            for row in theatre["timings"]
        )
        lines.append(f"theatre (median of {theatre['repeats']}): {timings}")
    memory = results.get("memory")
    if memory:
        api = "; ".join(
            f"{procs} proc{'s' if procs != '1' else ''}: {_mib(rss)}"
            for procs, rss in memory["api_process_rss_bytes"].items()
        )
        worker = memory["worker"]
        lines.append(
            f"Resident memory after the load: API process ({api}); worker main {_mib([worker['main_rss_bytes']])}, "
            f"pool processes {_mib(worker['pool_rss_bytes'])}"
        )
    return lines


def target_lines(results: dict[str, Any]) -> list[str]:
    marks = {True: "met ", False: "MISS", None: "n/a "}
    return [
        f"[{marks[target['met']]}] {target['target']}: {target['value']} (goal {target['goal']})"
        for target in results.get("targets", [])
    ]


def context_line(results: dict[str, Any]) -> str:
    machine = results["machine"]
    load = results["load_average"]
    return (
        f"{results['plan']['name']} run {results['started_at']}, {results['wall_seconds']:.0f} s "
        f"({results['wall_seconds'] / 60:.1f} min); "
        f"{machine['cores']} cores ({machine['cpu']}), {machine['memory_gib']} GiB; "
        f"load average {load['before'][0]} before, {load['after'][0]} after"
    )


def _align(rows: list[list[str]]) -> list[str]:
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))]
    lines = []
    for row in rows:
        cells = [
            cell.ljust(width) if column in LEFT_ALIGNED else cell.rjust(width)
            for column, (cell, width) in enumerate(zip(row, widths, strict=True))
        ]
        lines.append("  ".join(cells).rstrip())
    return lines


def as_text(results: dict[str, Any]) -> str:
    if results.get("only") == "soak":
        return soak_report.as_text(results)
    if results.get("only") in ("theatre", "live"):
        return "\n".join([*summary_lines(results), "", "Targets:", *target_lines(results)])
    lines = [context_line(results), ""]
    lines += _align([HTTP_HEADER, *http_rows(results)])
    lines += ["", *summary_lines(results), "", "Targets:", *target_lines(results)]
    return "\n".join(lines)


def as_markdown(results: dict[str, Any]) -> str:
    if results.get("only") == "soak":
        return soak_report.as_markdown(results)
    if results.get("only") in ("theatre", "live"):
        lines = [*(f"- {line}" for line in summary_lines(results)), "", "Targets:", ""]
        return "\n".join([*lines, *(f"- {line}" for line in target_lines(results))])
    table = [HTTP_HEADER, *http_rows(results)]
    lines = [f"_{context_line(results)}_", ""]
    lines.append("| " + " | ".join(table[0]) + " |")
    lines.append("|" + "|".join("---" if column in LEFT_ALIGNED else "---:" for column in range(len(table[0]))) + "|")
    lines += ["| " + " | ".join(row) + " |" for row in table[1:]]
    lines += ["", *(f"- {line}" for line in summary_lines(results)), "", "Targets:", ""]
    lines += [f"- {line}" for line in target_lines(results)]
    return "\n".join(lines)
