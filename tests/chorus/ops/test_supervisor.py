"""``chorus run`` (``make run``): the Procfile's processes stop together on Ctrl-C, SIGTERM and a hang-up, a process
that ends brings the others down, and none outlives the supervisor, even when it or its parent is killed."""

from __future__ import annotations

import contextlib
import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterable, Iterator
from pathlib import Path

import pytest

from chorus.ops.supervisor import ProcfileError, read_procfile
from tests.servers import free_port

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc; PDEATHSIG is Linux's")

ROOT = Path(__file__).resolve().parents[3]
CHORUS = Path(sys.executable).with_name("chorus")
STARTED = re.compile(r"\| (\S+) started \(pid (\d+)\)$")


def python(code: str) -> str:
    """A Procfile command running ``code``."""
    return f"{shlex.quote(sys.executable)} -c {shlex.quote(code)}"


SLEEPER = python("import time; time.sleep(60)")
STUBBORN = python("import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); print('ready'); time.sleep(60)")


class Supervised:
    """``chorus run`` in a process of its own, on a database, broker and port of its own; its output read as it
    comes. ``parent`` runs it under another process (the tests' stand-in for make)."""

    def __init__(self, folder: Path, procfile: Path, *, grace: float = 30, parent: Iterable[str] = ()) -> None:
        self.port = free_port()
        (folder / "var").mkdir(exist_ok=True)  # as `chorus migrate` leaves it before `make run` starts beat
        env = {name: value for name, value in os.environ.items() if name not in {"CHORUS_REDIS_URL", "CHORUS_SMTP_URL"}}
        env |= {
            "CHORUS_DATABASE_URL": f"sqlite:///{folder / 'chorus.sqlite3'}",
            "CHORUS_BROKER_URL": f"sqla+sqlite:///{folder / 'broker.sqlite3'}",
            "CHORUS_MAIL_DIR": str(folder / "mail"),
            "CHORUS_RUN_GRACE_SECONDS": str(grace),
        }
        command = [*parent, str(CHORUS), "run", "--procfile", str(procfile), "--port", str(self.port)]
        self.process = subprocess.Popen(
            command, cwd=folder, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        self.lines: list[str] = []
        self._arrived = threading.Condition()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            with self._arrived:
                self.lines.append(line.rstrip("\n"))
                self._arrived.notify_all()

    def wait_for(self, pattern: str, timeout: float = 60) -> re.Match[str]:
        deadline = time.monotonic() + timeout
        with self._arrived:
            while True:
                for line in self.lines:
                    if found := re.search(pattern, line):
                        return found
                if time.monotonic() > deadline:
                    output = "\n".join(self.lines[-60:])
                    raise AssertionError(f"no line matching {pattern!r} within {timeout} s; the output ends:\n{output}")
                self._arrived.wait(0.5)

    def children(self, count: int, timeout: float = 30) -> dict[str, int]:
        """Name to pid of each process started, as the supervisor announced them."""
        deadline = time.monotonic() + timeout
        with self._arrived:
            while len(started := [found for line in self.lines if (found := STARTED.search(line))]) < count:
                assert time.monotonic() < deadline, f"fewer than {count} processes started:\n" + "\n".join(self.lines)
                self._arrived.wait(0.5)
        return {found[1]: int(found[2]) for found in started}

    def wait_ready(self) -> dict[str, int]:
        """The real Procfile's three processes, once the API listens, the worker consumes and beat schedules."""
        self.wait_for(r"worker\s+\|.* celery@\S+ ready\.")
        self.wait_for(rf"api\s+\|.*Uvicorn running on http://127\.0\.0\.1:{self.port}")
        self.wait_for(r"scheduler\s+\|.*beat: Starting")
        return self.children(3)

    def output(self) -> str:
        with self._arrived:
            return "\n".join(self.lines)

    def close(self) -> None:
        """Whatever the test left behind, killed."""
        with contextlib.suppress(ProcessLookupError):
            self.process.kill()
        for line in self.lines:
            if found := STARTED.search(line):
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(int(found[2]), signal.SIGKILL)
        self.process.wait()


def live_processes() -> Iterator[tuple[int, int, int, int]]:
    """pid, parent, process group and session of each process that runs (a zombie does not)."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # ended while we looked
        if fields[0] != "Z":
            yield int(entry.name), int(fields[1]), int(fields[2]), int(fields[3])


def running_in(groups: Iterable[int]) -> list[int]:
    """Processes running in these process groups: a child's own, and whatever it started."""
    wanted = set(groups)
    return [pid for pid, _, group, _ in live_processes() if group in wanted]


def session_of(pid: int) -> int:
    return next(session for process, _, _, session in live_processes() if process == pid)


def wait_until_gone(groups: Iterable[int], timeout: float) -> float:
    """Seconds until no process of these groups runs; fails after ``timeout``."""
    start = time.monotonic()
    while left := running_in(groups):
        assert time.monotonic() - start < timeout, f"still running after {timeout} s: {left}"
        time.sleep(0.1)
    return time.monotonic() - start


def port_is_free(port: int) -> bool:
    """A new server could listen on it (as uvicorn does, with SO_REUSEADDR)."""
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


# One batch of supervisors on the real Procfile, started together (the two cores start fifteen processes once,
# not five times over) and each then stopped its own way at the same moment.
STOP_SIGNALS = ("SIGINT", "SIGTERM", "SIGHUP")
SUPERVISOR_KILLED = "supervisor-killed"
WORKER_KILLED = "worker-killed"


@pytest.fixture(scope="module")
def stopped(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, tuple[Supervised, dict[str, int]]]]:
    procfile = ROOT / "Procfile"
    runs = {way: Supervised(tmp_path_factory.mktemp(way), procfile) for way in (*STOP_SIGNALS, SUPERVISOR_KILLED)}
    runs[WORKER_KILLED] = Supervised(tmp_path_factory.mktemp(WORKER_KILLED), procfile)
    try:
        children = {way: run.wait_ready() for way, run in runs.items()}
        for way in STOP_SIGNALS:
            runs[way].process.send_signal(signal.Signals[way])
        runs[SUPERVISOR_KILLED].process.kill()
        os.kill(children[WORKER_KILLED]["worker"], signal.SIGKILL)
        yield {way: (run, children[way]) for way, run in runs.items()}
    finally:
        for run in runs.values():
            run.close()


@pytest.mark.parametrize("way", STOP_SIGNALS)
def test_a_stop_signal_stops_every_process_gracefully_and_frees_the_port(
    stopped: dict[str, tuple[Supervised, dict[str, int]]], way: str
) -> None:
    run, children = stopped[way]
    assert run.process.wait(timeout=60) == 0, run.output()
    assert set(children) == {"api", "worker", "scheduler"}
    assert running_in(children.values()) == [], "the supervisor exited and left processes running"
    assert port_is_free(run.port)
    output = run.output()
    assert f"{way} received: SIGTERM to api, worker, scheduler" in output
    assert "Warm shutdown (MainProcess)" in output, "the worker's main process was asked to finish its tasks"
    assert "still running after" not in output


def test_the_processes_of_a_killed_supervisor_stop_within_seconds(
    stopped: dict[str, tuple[Supervised, dict[str, int]]],
) -> None:
    run, children = stopped[SUPERVISOR_KILLED]
    assert run.process.wait(timeout=5) == -signal.SIGKILL
    wait_until_gone(children.values(), timeout=20)
    assert port_is_free(run.port)


def test_a_process_that_ends_by_itself_stops_the_others(
    stopped: dict[str, tuple[Supervised, dict[str, int]]],
) -> None:
    run, children = stopped[WORKER_KILLED]
    assert run.process.wait(timeout=60) == 1
    assert running_in(children.values()) == []
    assert port_is_free(run.port)
    assert "worker exited by itself (ended by SIGKILL): SIGTERM to api, scheduler" in run.output()


def _procfile(folder: Path, text: str) -> Path:
    path = folder / "Procfile"
    path.write_text(text)
    return path


def test_output_is_prefixed_with_the_process_name_and_each_process_has_a_session_of_its_own(tmp_path: Path) -> None:
    hello = python("import time; print('hello'); time.sleep(60)")
    run = Supervised(tmp_path, _procfile(tmp_path, f"# a comment\n\ngreeter: {hello}\nsleeper: {SLEEPER}\n"))
    try:
        run.wait_for(r"^\d\d:\d\d:\d\d greeter \| hello$")
        children = run.children(2)
        for pid in children.values():
            assert session_of(pid) == pid != session_of(run.process.pid)
        run.process.send_signal(signal.SIGINT)
        assert run.process.wait(timeout=30) == 0
        assert running_in(children.values()) == []
    finally:
        run.close()


def test_a_process_that_ignores_sigterm_is_killed_after_the_grace_period(tmp_path: Path) -> None:
    run = Supervised(tmp_path, _procfile(tmp_path, f"stubborn: {STUBBORN}\nsleeper: {SLEEPER}\n"), grace=1)
    try:
        run.wait_for(r"stubborn \| ready")
        children = run.children(2)
        start = time.monotonic()
        run.process.send_signal(signal.SIGTERM)
        assert run.process.wait(timeout=30) == 1, "a process had to be killed: the run failed"
        assert 1 <= time.monotonic() - start < 10
        assert running_in(children.values()) == []
        output = run.output()
        assert "sleeper stopped (ended by SIGTERM)" in output
        assert "still running after 1 s: killing" in output
        assert "stubborn killed" in output
    finally:
        run.close()


def test_a_second_ctrl_c_kills_what_is_left_at_once(tmp_path: Path) -> None:
    run = Supervised(tmp_path, _procfile(tmp_path, f"stubborn: {STUBBORN}\n"), grace=60)
    try:
        run.wait_for(r"stubborn \| ready")
        children = run.children(1)
        run.process.send_signal(signal.SIGINT)
        run.wait_for(r"SIGINT received: SIGTERM to stubborn")
        run.process.send_signal(signal.SIGINT)
        assert run.process.wait(timeout=10) == 1
        assert running_in(children.values()) == []
        assert "SIGINT again: killing now" in run.output()
    finally:
        run.close()


def test_the_supervisor_and_its_processes_stop_when_its_parent_is_killed(tmp_path: Path) -> None:
    stand_in_for_make = [sys.executable, "-c", "import subprocess, sys; subprocess.run(sys.argv[1:])"]
    run = Supervised(tmp_path, _procfile(tmp_path, f"sleeper: {SLEEPER}\n"), parent=stand_in_for_make)
    try:
        children = run.children(1)
        supervisor = next(pid for pid, parent, _, _ in live_processes() if parent == run.process.pid)
        run.process.kill()
        run.wait_for(r"SIGTERM received: SIGTERM to sleeper", timeout=10)
        wait_until_gone([*children.values(), supervisor], timeout=10)
    finally:
        run.close()


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("", "no processes"),
        ("# only a comment\n", "no processes"),
        ("api uvicorn chorus.api:app\n", ":1: expected 'name: command'"),
        ("api: one\napi: two\n", ":2: 'api' is defined twice"),
    ],
)
def test_a_procfile_that_is_not_name_colon_command_is_refused(tmp_path: Path, text: str, error: str) -> None:
    with pytest.raises(ProcfileError, match=re.escape(error)):
        read_procfile(_procfile(tmp_path, text))


def test_the_procfile_lists_the_api_on_the_port_chosen_the_worker_and_the_scheduler() -> None:
    processes = {process.name: process.command for process in read_procfile(ROOT / "Procfile")}
    assert list(processes) == ["api", "worker", "scheduler"]
    assert "--port $PORT " in processes["api"]
