"""Starts the probes: each side of the project in a fresh process of its own interpreter, side by side."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from theatre.facts.layout import Layout
from theatre.facts.project import ProbeSettings

INSIDE = Path(__file__).with_name("inside.py")  # run as a script: the project's interpreter needs no theatre
SIDE_ENTRY = {"api": "api", "worker": "celery"}  # the root module each side starts from
# Past its timeout a probe dumps its stack and exits by itself; it is killed only if it has not within this margin
# (an interpreter slow to start, a watchdog that could not run).
KILL_GRACE_SECONDS = 2.0
OUTPUT_LINES_SHOWN = 20  # of a probe's stderr, when it died without saying where

FRAME = re.compile(r'^\s*File "(?P<file>.*)", line (?P<line>\d+|\?\?\?) in (?P<function>.*)$')
THREAD = re.compile(r"^(Current thread|Thread|Stack)\b")
# what the probe writes first when it stops without answering (inside.py's watchdog, fatal signal, os._exit)
TIMED_OUT, FATAL, EXITED = "Timeout (", "Fatal Python error: ", "os._exit("


class ProbeError(Exception):
    """A probe died without answering (not an import error of the project, which it reports): `check` reports its
    side's rules as not run, `map` exits 2.

    ``reason`` is ``timeout`` (it did not finish in time), ``exit`` (the project ended the process: ``os._exit``, an
    exit status without an answer), ``crash`` (a fatal signal, e.g. a segfault in an extension) or ``start`` (the
    interpreter could not be started). ``file`` and ``line`` are the innermost frame of the project's own code it
    was running, as findings show it (relative to the project root), when known; ``chain`` the project's frames
    from the outermost in, which at import time is the import chain.
    """

    def __init__(
        self,
        side: str,
        reason: str,
        summary: str,
        file: str | None = None,
        line: int | None = None,
        chain: tuple[str, ...] = (),
        output: str = "",
    ) -> None:
        self.side, self.reason, self.summary = side, reason, summary
        self.file, self.line, self.chain, self.output = file, line, chain, output
        super().__init__(self._message())

    @property
    def where(self) -> str | None:
        """``file:line`` of the project's code the probe was in, or None when the dump did not reach it."""
        if self.file is None:
            return None
        return f"{self.file}:{self.line}" if self.line is not None else self.file

    def as_json(self) -> dict[str, Any]:
        """The fields a report of rules that could not run needs, for machines."""
        return {
            "side": self.side,
            "reason": self.reason,
            "message": str(self),
            "file": self.file,
            "line": self.line,
            "chain": list(self.chain),
        }

    def _message(self) -> str:
        message = f"the {self.side} probe {self.summary}"
        if self.where:
            message += f", at {self.where}"
            if len(self.chain) > 1:
                message += f" (via {' → '.join(self.chain[:-1])})"
        elif self.output:
            message += f":\n{self.output}"
        return message


@dataclass
class Probe:
    """One running probe; ``result`` waits for it (until its deadline) and reads what it found."""

    layout: Layout
    side: str
    process: subprocess.Popen[str]
    folder: Path
    timeout: float
    started: float

    @property
    def result_path(self) -> Path:
        return self.folder / f"{self.side}.json"

    @property
    def trace_path(self) -> Path:
        return self.folder / f"{self.side}.trace"

    def result(self) -> dict[str, Any]:
        remaining = self.started + self.timeout + KILL_GRACE_SECONDS - time.monotonic()
        try:
            _, stderr = self.process.communicate(timeout=max(remaining, 0.0))
        except subprocess.TimeoutExpired:
            self.stop()
            _, stderr = self.process.communicate()
            raise self._error("timeout", stderr) from None
        try:
            answer: dict[str, Any] = json.loads(self.result_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            raise self._error(None, stderr) from None
        return answer

    def stop(self) -> None:
        """Kill and reap the process if it still runs (a probe nobody waits for must not outlive the command)."""
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        if self.process.stderr is not None:
            self.process.stderr.close()

    def _error(self, reason: str | None, stderr: str) -> ProbeError:
        """What the probe's trace says: why it stopped, and the project's frames it was in."""
        try:
            trace = self.trace_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            trace = ""
        header = trace.lstrip().splitlines()[0] if trace.strip() else ""
        status = self.process.returncode
        if reason == "timeout" or header.startswith(TIMED_OUT):
            reason, summary = "timeout", f"did not finish in {self.timeout:g} s"
        elif header.startswith(EXITED):
            reason, summary = "exit", f"was ended by the project's {header.strip()}"
        elif header.startswith(FATAL):
            reason, summary = "crash", f"crashed ({header[len(FATAL) :].strip()})"
        elif status is not None and status < 0:
            reason, summary = "crash", f"was killed by signal {-status}"
        else:
            reason, summary = "exit", f"exited with status {status} without answering"
        chain = self._project_frames(trace)
        file, line = chain[-1] if chain else (None, None)
        tail = "\n".join(stderr.strip().splitlines()[-OUTPUT_LINES_SHOWN:])
        steps = tuple(f"{f}:{n}" if n is not None else f for f, n in chain)
        return ProbeError(self.side, reason, summary, file, line, steps, tail)

    def _project_frames(self, trace: str) -> list[tuple[str, int | None]]:
        """The project's frames of the thread that stopped (else of the first that ran its code), outermost first."""
        threads: list[tuple[bool, list[tuple[str, int | None]]]] = []
        for text in trace.splitlines():
            if THREAD.match(text):
                threads.append((not text.startswith("Thread"), []))
                continue
            frame = FRAME.match(text)
            if frame and threads and self._owns(frame["file"]):
                line = int(frame["line"]) if frame["line"].isdigit() else None
                threads[-1][1].append((self.layout.project.relative(frame["file"]), line))
        ranked = sorted((thread for thread in threads if thread[1]), key=lambda thread: not thread[0])
        return ranked[0][1][::-1] if ranked else []

    def _owns(self, filename: str) -> bool:
        package_dir = os.path.realpath(self.layout.project.package_dir) + os.sep
        return os.path.realpath(filename).startswith(package_dir)


def _request(layout: Layout, side: str, folder: Path, timeout: float) -> dict[str, Any]:
    settings = layout.project.settings
    return {
        "side": side,
        "package": layout.package,
        "package_dir": str(layout.project.package_dir),
        "worker_only": list(settings.worker_only),
        "web_framework": list(settings.web_framework),
        "acts": {act.module: list(act.scene_modules[1:]) for act in layout.acts},
        "trace": str(folder / f"{side}.trace"),
        "timeout": timeout,
    }


def has_side(layout: Layout, side: str) -> bool:
    """Whether the side's root module exists, as a module (``api.py``) or a package (``api/__init__.py``)."""
    return layout.module_file(f"{layout.package}.{SIDE_ENTRY[side]}") is not None


def start(layout: Layout, side: str, settings: ProbeSettings, folder: Path) -> Probe:
    """Start one side now, its answer and trace written in ``folder``; its result is read later, so both sides and
    the static rules run at once."""
    project = layout.project
    environment = {**os.environ, **settings.environment}
    environment["PYTHONPATH"] = os.pathsep.join(filter(None, (str(project.source_root), environment.get("PYTHONPATH"))))
    request = _request(layout, side, folder, settings.timeout)
    started = time.monotonic()
    try:
        process = subprocess.Popen(  # noqa: S603 (the interpreter the user chose, running our own script)
            [str(settings.python), str(INSIDE), json.dumps(request), str(folder / f"{side}.json")],
            cwd=project.root,
            env=environment,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            errors="replace",
        )
    except OSError as error:
        raise ProbeError(side, "start", f"could not start {settings.python}: {error}") from error
    return Probe(layout, side, process, folder, settings.timeout, started)


@contextmanager
def probing(layout: Layout, sides: Iterable[str], settings: ProbeSettings) -> Iterator[dict[str, Probe]]:
    """Start every wanted side the project has, all at once; on the way out, however it is left, kill and reap any
    still running and remove their files."""
    folder = Path(tempfile.mkdtemp(prefix="theatre-probes-"))
    probes: dict[str, Probe] = {}
    try:
        for side in sides:
            if has_side(layout, side):
                probes[side] = start(layout, side, settings, folder)
        yield probes
    finally:
        for probe in probes.values():
            probe.stop()
        shutil.rmtree(folder, ignore_errors=True)
