"""The log-in ceiling: one Argon2id verification with chorus's own hasher and parameters, timed in this process.

A log-in can go no faster than its password check, and the check is CPU work by design: N processes on N cores
verify at most N / (seconds per verification) passwords a second.
"""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass
from typing import Any

from bench.machinery.cpu import CORES

PASSWORD = "a password to verify"


@dataclass(frozen=True)
class PasswordCheck:
    verify_seconds: float

    def logins_per_second(self, processes: int) -> float:
        return min(processes, CORES) / self.verify_seconds

    def as_json(self) -> dict[str, Any]:
        return {"argon2_verify_ms": round(self.verify_seconds * 1000, 1), "cores": CORES}


def measure_password_check(repeats: int) -> PasswordCheck:
    from chorus.acts.auth.password_hashing import hash_password, verify_password

    stored = hash_password(PASSWORD)
    timings = []
    for _ in range(repeats):
        started = time.perf_counter()
        verify_password(PASSWORD, stored)
        timings.append(time.perf_counter() - started)
    return PasswordCheck(verify_seconds=statistics.median(timings))
