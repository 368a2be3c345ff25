"""``python -m bench [--quick]``: run the benchmark, print the table, write ``bench/results/latest.json``.
``python -m bench --markdown [FILE]``: print a saved run as Markdown (for the README)."""

from __future__ import annotations

import argparse
import json
import signal
import sys
import time
from pathlib import Path
from types import FrameType

from bench.plan import FULL, QUICK
from bench.report import as_markdown, as_text

DEFAULT_OUTPUT = Path(__file__).parent / "results" / "latest.json"


def _stop_on_sigterm(signum: int, _: FrameType | None) -> None:
    raise KeyboardInterrupt(f"signal {signum}")  # unwinds through the cleanup of everything started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a short run (under 3 minutes)")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help=f"where to write ({DEFAULT_OUTPUT})")
    parser.add_argument("--markdown", nargs="?", const=DEFAULT_OUTPUT, type=Path, help="print a saved run as Markdown")
    arguments = parser.parse_args(argv)
    if arguments.markdown:
        print(as_markdown(json.loads(arguments.markdown.read_text())))
        return 0
    from bench.runner import run_bench

    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    started = time.perf_counter()

    def report(message: str) -> None:
        print(f"[{time.perf_counter() - started:6.1f} s] {message}", flush=True)

    try:
        results = run_bench(QUICK if arguments.quick else FULL, report)
    except KeyboardInterrupt:
        print("bench: interrupted; everything it started is stopped", file=sys.stderr)
        return 130
    arguments.output.parent.mkdir(parents=True, exist_ok=True)
    arguments.output.write_text(json.dumps(results, indent=2) + "\n")
    print()
    print(as_text(results))
    print(f"\nwritten to {arguments.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
