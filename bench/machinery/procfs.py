"""What the kernel knows about processes and the machine: CPU time, resident memory, process groups (Linux)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

PROC = Path("/proc")
TICKS = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class ProcessStat:
    pid: int
    name: str
    parent: int
    group: int
    cpu_seconds: float


def stat(pid: int) -> ProcessStat | None:
    """The process's line of ``/proc/<pid>/stat``; None when it is gone."""
    try:
        raw = (PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    name = raw[raw.index("(") + 1 : raw.rindex(")")]
    fields = raw[raw.rindex(")") + 2 :].split()
    # fields[0] is the state (field 3 of proc(5)); utime and stime are fields 14 and 15.
    return ProcessStat(
        pid=pid,
        name=name,
        parent=int(fields[1]),
        group=int(fields[2]),
        cpu_seconds=(int(fields[11]) + int(fields[12])) / TICKS,
    )


def all_processes() -> list[ProcessStat]:
    found = []
    for entry in PROC.iterdir():
        if entry.name.isdigit() and (process := stat(int(entry.name))) is not None:
            found.append(process)
    return found


def group_members(group: int) -> list[ProcessStat]:
    """The processes of one process group (a server and the workers it forked)."""
    return [process for process in all_processes() if process.group == group]


def named(name: str) -> list[ProcessStat]:
    return [process for process in all_processes() if process.name == name]


def cpu_seconds(pids: list[int]) -> float:
    return sum(process.cpu_seconds for pid in pids if (process := stat(pid)) is not None)


def command_line(pid: int) -> str:
    try:
        return (PROC / str(pid) / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def rss_bytes(pid: int) -> int:
    """Resident memory of one process (0 when it is gone)."""
    try:
        for line in (PROC / str(pid) / "status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


@dataclass(frozen=True)
class MachineCpu:
    busy_seconds: float
    total_seconds: float


def machine_cpu() -> MachineCpu:
    """CPU time of the whole machine since boot, summed over cores, from the first line of ``/proc/stat``."""
    fields = [int(value) for value in (PROC / "stat").read_text().splitlines()[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    total = sum(fields[:8])  # guest time is already counted in user
    return MachineCpu(busy_seconds=(total - idle) / TICKS, total_seconds=total / TICKS)


def load_average() -> tuple[float, float, float]:
    one, five, fifteen = os.getloadavg()
    return one, five, fifteen
