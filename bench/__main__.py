"""``python -m bench [--quick]``: run the benchmark, print the table, write ``bench/results/latest.json``.
``python -m bench --only theatre [--quick]``: theatre's speed alone (no services), written to ``theatre.json``.
``python -m bench --markdown [FILE]``: print a saved run as Markdown (for the README)."""

from __future__ import annotations

import argparse
import json
import signal
import sys
import time
from pathlib import Path
from types import FrameType

from bench.run.plan import FULL, QUICK
from bench.run.report import as_markdown, as_text

DEFAULT_OUTPUT = Path(__file__).parent / "results" / "latest.json"
THEATRE_OUTPUT = DEFAULT_OUTPUT.with_name("theatre.json")


def _stop_on_sigterm(signum: int, _: FrameType | None) -> None:
    raise KeyboardInterrupt(f"signal {signum}")  # unwinds through the cleanup of everything started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a short run (under 3 minutes)")
    parser.add_argument("--only", choices=["theatre"], help="run one scenario alone (theatre: no services needed)")
    parser.add_argument("--output", type=Path, help=f"where to write ({DEFAULT_OUTPUT}; {THEATRE_OUTPUT} with --only)")
    parser.add_argument("--markdown", nargs="?", const=DEFAULT_OUTPUT, type=Path, help="print a saved run as Markdown")
    arguments = parser.parse_args(argv)
    if arguments.markdown:
        print(as_markdown(json.loads(arguments.markdown.read_text())))
        return 0
    from bench.run.runner import run_bench, run_theatre_only

    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    started = time.perf_counter()

    def report(message: str) -> None:
        print(f"[{time.perf_counter() - started:6.1f} s] {message}", flush=True)

    try:
        plan = QUICK if arguments.quick else FULL
        results = run_theatre_only(plan, report) if arguments.only == "theatre" else run_bench(plan, report)
    except KeyboardInterrupt:
        print("bench: interrupted; everything it started is stopped", file=sys.stderr)
        return 130
    output: Path = arguments.output or (THEATRE_OUTPUT if arguments.only == "theatre" else DEFAULT_OUTPUT)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(results, indent=2) + "\n")
    print()
    print(as_text(results))
    print(f"\nwritten to {output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
