"""``chorus run``: the Procfile's processes started together, stopped together, and never left running.

Each child gets a session of its own, so the terminal's Ctrl-C or hang-up reaches only this supervisor, which then
sends SIGTERM to each child's main process alone (a Celery worker then finishes its running tasks; a signal to its
whole group would kill them) and SIGKILLs only what outlives the grace period. On Linux the kernel sends SIGTERM to
the children when the supervisor dies, and to the supervisor when its own parent (make) dies. Standard library only.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import re
import selectors
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
PROCFILE_LINE = re.compile(r"^([A-Za-z0-9_-]+):\s*(\S.*)$")
# What is left of the children's output once they have all exited is read for at most this long.
FINAL_READ_SECONDS = 0.5
COLOURS = ("36", "33", "32", "35", "34", "31")


class ProcfileError(ValueError):
    """The Procfile is missing, empty or has a line that is not ``name: command``."""


@dataclass(frozen=True)
class ProcessType:
    name: str
    command: str


def read_procfile(path: Path) -> list[ProcessType]:
    """``name: command`` lines; blank lines and ``#`` comments are skipped."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise ProcfileError(f"{path}: {error.strerror}") from None
    processes: list[ProcessType] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        match = PROCFILE_LINE.match(line.strip())
        if match is None:
            raise ProcfileError(f"{path}:{number}: expected 'name: command', got {line.strip()!r}")
        if any(process.name == match[1] for process in processes):
            raise ProcfileError(f"{path}:{number}: {match[1]!r} is defined twice")
        processes.append(ProcessType(match[1], match[2].strip()))
    if not processes:
        raise ProcfileError(f"{path}: no processes")
    return processes


def _prctl() -> Callable[..., int] | None:
    """libc's prctl, looked up before any fork (a forked child should only call it); None off Linux."""
    if not sys.platform.startswith("linux"):
        return None
    prctl: Callable[..., int] = ctypes.CDLL(None, use_errno=True).prctl
    return prctl


def die_with_parent(signum: int) -> bool:
    """Have the kernel send ``signum`` to this process when its parent ends (Linux; elsewhere nothing); False if
    the parent has already gone, so the signal will never come."""
    parent = os.getppid()
    prctl = _prctl()
    if prctl is None or prctl(PR_SET_PDEATHSIG, signum, 0, 0, 0) != 0:
        return True
    return os.getppid() == parent


def _child_setup(prctl: Callable[..., int] | None, supervisor: int) -> Callable[[], None]:
    """Runs in each child between fork and exec: SIGTERM when the supervisor dies, even if it already has."""

    def setup() -> None:
        if prctl is not None:
            prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
            if os.getppid() != supervisor:
                os._exit(1)

    return setup


@dataclass
class Child:
    name: str
    process: subprocess.Popen[bytes]
    partial: bytes = b""
    killed: bool = False
    reported: bool = False


class Supervisor:
    """Runs ``processes`` until a stop signal arrives or one of them exits, then stops them all."""

    def __init__(
        self,
        processes: list[ProcessType],
        *,
        env: Mapping[str, str],
        grace_seconds: float,
        output: int = 1,
    ) -> None:
        self.processes = processes
        self.env = dict(env)
        self.grace_seconds = grace_seconds
        self.output: int | None = output
        self.children: list[Child] = []
        self._signals: list[int] = []
        self._width = max(len(name) for name in ["system", *(p.name for p in processes)])
        self._colours = os.isatty(output)
        self._deadline: float | None = None
        self._failed = False
        self._interrupted = False

    def run(self) -> int:
        """0 when every process stopped when asked; 1 when one exited by itself, or had to be killed."""
        wake_read, wake_write = os.pipe()
        os.set_blocking(wake_read, False)
        os.set_blocking(wake_write, False)
        previous_wakeup = signal.set_wakeup_fd(wake_write)
        handled = (*STOP_SIGNALS, signal.SIGCHLD)
        previous = {signum: signal.signal(signum, self._note_signal) for signum in handled}
        try:
            if not die_with_parent(signal.SIGTERM):
                self._say("system", "the parent process has already exited: not starting")
                return 1
            self._start()
            self._supervise(wake_read)
            return 1 if self._failed else 0
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)
            signal.set_wakeup_fd(previous_wakeup)
            os.close(wake_read)
            os.close(wake_write)

    def _note_signal(self, signum: int, _frame: FrameType | None) -> None:
        self._signals.append(signum)

    def _start(self) -> None:
        setup = _child_setup(_prctl(), os.getpid())
        for spec in self.processes:
            process = subprocess.Popen(  # noqa: S603 - the commands are the Procfile's, run as the shell would
                ["/bin/sh", "-c", f"exec {spec.command}"],  # exec: the command itself is the child's main process
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                env=self.env,
                start_new_session=True,
                preexec_fn=setup,  # only a prctl call; this process runs no other thread
            )
            assert process.stdout is not None
            os.set_blocking(process.stdout.fileno(), False)
            self.children.append(Child(spec.name, process))
            self._say("system", f"{spec.name} started (pid {process.pid})")

    def _supervise(self, wake: int) -> None:
        with selectors.DefaultSelector() as selector:
            selector.register(wake, selectors.EVENT_READ)
            for child in self.children:
                assert child.process.stdout is not None
                selector.register(child.process.stdout, selectors.EVENT_READ, child)
            while True:
                timeout = 1.0 if self._deadline is None else max(0.0, min(1.0, self._deadline - time.monotonic()))
                for key, _ in selector.select(timeout):
                    if key.data is None:
                        with contextlib.suppress(BlockingIOError):
                            os.read(wake, 4096)
                    else:
                        self._relay(key.data, selector)
                self._react()
                if not self._running():
                    break
            self._read_what_is_left(selector)
        for child in self.children:
            self._end_leftovers(child)
            if child.partial:
                self._say(child.name, child.partial.decode(errors="replace"))
            assert child.process.stdout is not None
            child.process.stdout.close()

    def _running(self) -> list[Child]:
        return [child for child in self.children if child.process.poll() is None]

    def _react(self) -> None:
        """Signals received, children that exited, and the grace period running out, in that order."""
        signals, self._signals = self._signals, []
        for signum in signals:
            if signum == signal.SIGCHLD:
                continue
            if signum == signal.SIGINT and self._interrupted:
                self._say("system", "SIGINT again: killing now")
                self._kill_remaining()
            self._interrupted = self._interrupted or signum == signal.SIGINT
            if self._deadline is None:
                again = "; Ctrl-C again kills them now" if signum == signal.SIGINT else ""
                self._stop(f"{signal.Signals(signum).name} received", again)
        for child in self.children:
            if child.process.poll() is None or child.reported:
                continue
            child.reported = True
            if self._deadline is None:
                self._failed = True
                self._stop(f"{child.name} exited by itself ({_ending(child.process.returncode)})")
            else:
                self._say("system", f"{child.name} stopped ({_ending(child.process.returncode)})")
        if self._deadline is not None and time.monotonic() >= self._deadline:
            self._say("system", f"still running after {self.grace_seconds:g} s: killing")
            self._kill_remaining()

    def _stop(self, reason: str, hint: str = "") -> None:
        running = self._running()
        names = ", ".join(child.name for child in running) or "nothing"
        self._say("system", f"{reason}: SIGTERM to {names} (up to {self.grace_seconds:g} s{hint})")
        self._deadline = time.monotonic() + self.grace_seconds
        for child in running:
            with contextlib.suppress(ProcessLookupError):
                os.kill(child.process.pid, signal.SIGTERM)  # the main process only, never its group

    def _kill_remaining(self) -> None:
        for child in self._running():
            child.killed = True
            self._failed = True
            with contextlib.suppress(ProcessLookupError):
                os.killpg(child.process.pid, signal.SIGKILL)
            child.process.wait()
            child.reported = True
            self._say("system", f"{child.name} killed")

    def _end_leftovers(self, child: Child) -> None:
        """A process the child started and left behind (its session outlives it) is killed with the session."""
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(child.process.pid, signal.SIGKILL)

    def _relay(self, child: Child, selector: selectors.BaseSelector) -> None:
        assert child.process.stdout is not None
        try:
            data = os.read(child.process.stdout.fileno(), 65536)
        except BlockingIOError:
            return
        if not data:
            selector.unregister(child.process.stdout)
            return
        *lines, child.partial = (child.partial + data).split(b"\n")
        for line in lines:
            self._say(child.name, line.decode(errors="replace").rstrip("\r"))

    def _read_what_is_left(self, selector: selectors.BaseSelector) -> None:
        deadline = time.monotonic() + FINAL_READ_SECONDS
        while len(selector.get_map()) > 1 and time.monotonic() < deadline:
            for key, _ in selector.select(max(0.0, deadline - time.monotonic())):
                if key.data is not None:
                    self._relay(key.data, selector)

    def _say(self, name: str, text: str) -> None:
        """One line to the terminal, prefixed with the time and the process's name; a terminal gone (hung up)
        silences the output but not the supervision."""
        if self.output is None:
            return
        prefix = f"{time.strftime('%H:%M:%S')} {name:<{self._width}} |"
        if self._colours:
            names = ["system", *(p.name for p in self.processes)]
            prefix = f"\033[{COLOURS[names.index(name) % len(COLOURS)]}m{prefix}\033[0m"
        data = f"{prefix} {text}\n".encode()
        try:
            while data:
                data = data[os.write(self.output, data) :]
        except OSError:
            self.output = None


def _ending(returncode: int) -> str:
    if returncode >= 0:
        return f"exit code {returncode}"
    try:
        return f"ended by {signal.Signals(-returncode).name}"
    except ValueError:
        return f"ended by signal {-returncode}"


def child_environment(port: int) -> dict[str, str]:
    """The supervisor's environment, with ``PORT`` for the Procfile and this interpreter's scripts first on PATH,
    so ``chorus run`` works from a virtual environment that is not activated."""
    scripts = str(Path(sys.executable).parent)
    path = os.environ.get("PATH", "")
    return os.environ | {"PORT": str(port), "PATH": f"{scripts}{os.pathsep}{path}", "PYTHONUNBUFFERED": "1"}


def run(procfile: Path, *, port: int, grace_seconds: float) -> int:
    """``chorus run``: the Procfile's processes until Ctrl-C, SIGTERM, a hang-up, or one of them ending."""
    supervisor = Supervisor(read_procfile(procfile), env=child_environment(port), grace_seconds=grace_seconds)
    return supervisor.run()
