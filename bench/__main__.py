"""``python -m bench [--quick]``: run the benchmark, print the table, write ``bench/results/latest.json``.
``python -m bench --only theatre [--quick]``: theatre's speed alone (no services), written to ``theatre.json``.
``python -m bench --only live [--quick]``: the live scenario alone (1,000 subscribers), written to ``live.json``.
``python -m bench --only soak [--minutes N] [--post-rate R]``: the soak (``make soak``), written to ``soak.json``.
``python -m bench --markdown [FILE]``: print a saved run as Markdown (for the README)."""

from __future__ import annotations

import argparse
import json
import signal
import sys
import time
from pathlib import Path
from types import FrameType

from bench.run.plan import FULL, QUICK, SoakPlan
from bench.run.report import as_markdown, as_text

DEFAULT_OUTPUT = Path(__file__).parent / "results" / "latest.json"
MAX_SOAK_MINUTES = 150  # the streams would outlive the run's access tokens (CHORUS_ACCESS_TOKEN_MINUTES=180)
ONLY_OUTPUT = {name: DEFAULT_OUTPUT.with_name(f"{name}.json") for name in ("theatre", "live", "soak")}


def _stop_on_sigterm(signum: int, _: FrameType | None) -> None:
    raise KeyboardInterrupt(f"signal {signum}")  # unwinds through the cleanup of everything started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a short run (under 3 minutes)")
    parser.add_argument(
        "--only",
        choices=list(ONLY_OUTPUT),
        help="run one part alone (theatre: no services needed; live: 1,000 subscribers; soak: not in the default run)",
    )
    parser.add_argument("--minutes", type=float, default=SoakPlan.minutes, help="the soak's length (--only soak)")
    parser.add_argument("--post-rate", type=float, help="soak at this many posts/s instead of 80%% of the peak")
    parser.add_argument("--output", type=Path, help=f"where to write ({DEFAULT_OUTPUT}; with --only: {ONLY_OUTPUT})")
    parser.add_argument("--markdown", nargs="?", const=DEFAULT_OUTPUT, type=Path, help="print a saved run as Markdown")
    arguments = parser.parse_args(argv)
    if arguments.markdown:
        print(as_markdown(json.loads(arguments.markdown.read_text())))
        return 0
    if arguments.only != "soak" and (arguments.minutes != SoakPlan.minutes or arguments.post_rate is not None):
        parser.error("--minutes and --post-rate are the soak's: use them with --only soak")
    if not 0 < arguments.minutes <= MAX_SOAK_MINUTES or (arguments.post_rate is not None and arguments.post_rate <= 0):
        parser.error(
            f"--minutes: above 0, at most {MAX_SOAK_MINUTES} (the run's access tokens last 180); --post-rate > 0"
        )
    from bench.run.runner import run_bench, run_live_only, run_theatre_only
    from bench.run.soak_run import run_soak

    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    started = time.perf_counter()

    def report(message: str) -> None:
        print(f"[{time.perf_counter() - started:6.1f} s] {message}", flush=True)

    try:
        plan = QUICK if arguments.quick else FULL
        if arguments.only == "soak":
            results = run_soak(SoakPlan(minutes=arguments.minutes, post_rate=arguments.post_rate), report)
        elif arguments.only == "live":
            results = run_live_only(plan, report)
        elif arguments.only == "theatre":
            results = run_theatre_only(plan, report)
        else:
            results = run_bench(plan, report)
    except KeyboardInterrupt:
        print("bench: interrupted; everything it started is stopped", file=sys.stderr)
        return 130
    output: Path = arguments.output or ONLY_OUTPUT.get(arguments.only, DEFAULT_OUTPUT)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(results, indent=2) + "\n")
    print()
    print(as_text(results))
    print(f"\nwritten to {output}")
    elapsed = time.perf_counter() - started
    print(f"total wall time: {elapsed:.0f} s ({elapsed / 60:.1f} min)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
