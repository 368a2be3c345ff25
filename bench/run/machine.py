"""The machine a run measured on, and how busy it was with other work before and after."""

from __future__ import annotations

import os
import platform
import sys
from pathlib import Path
from typing import Any

from bench.machinery import procfs


def _cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def _memory_gib() -> float:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            return round(int(line.split()[1]) / 1024 / 1024, 1)
    return 0.0


def _versions(database_url: str, redis_url: str) -> dict[str, str]:
    import psycopg
    from redis import Redis
    from sqlalchemy.engine import make_url

    found = {"python": sys.version.split()[0]}
    url = make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(url) as connection:
        row = connection.execute("SHOW server_version").fetchone()
        found["postgresql"] = str(row[0]) if row else "?"
    redis = Redis.from_url(redis_url)
    try:
        found["redis"] = str(redis.info("server").get("redis_version", "?"))
    finally:
        redis.close()
    return found


def describe_machine(database_url: str, redis_url: str) -> dict[str, Any]:
    return {
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "memory_gib": _memory_gib(),
        "kernel": platform.release(),
        "versions": _versions(database_url, redis_url),
    }


def load_now() -> list[float]:
    return [round(value, 2) for value in procfs.load_average()]
