"""Which services this run uses: the embedded defaults (`make test`, no servers), the machine's PostgreSQL,
RabbitMQ and Redis (`make test-services`, CHORUS_TEST_SERVICES=1), or those reached through fault-injecting proxies
(`make faults`, CHORUS_TEST_FAULTS=1, which runs tests/faults)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from urllib.parse import urlsplit

import pytest

from tests.faults.proxy import FaultProxy

FAULTS = os.environ.get("CHORUS_TEST_FAULTS") == "1"
SERVICES = FAULTS or os.environ.get("CHORUS_TEST_SERVICES") == "1"
DATABASE_URL = os.environ.get("CHORUS_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
BROKER_URL = os.environ.get("CHORUS_TEST_BROKER_URL", "amqp://guest:guest@127.0.0.1:5672//")
REDIS_URL = os.environ.get("CHORUS_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")

# The suites make many requests from 127.0.0.1 (schemathesis above all; the browser tests register many people): the
# per-address and per-account limits are raised for chorus under test, and the tests of the limits lower them again.
# Login throttling keeps its defaults.
GENEROUS_LIMITS = {
    "CHORUS_AUTH_REQUESTS_PER_ADDRESS": "100000/minute",
    "CHORUS_SEARCHES_PER_ADDRESS": "100000/minute",
    "CHORUS_SEARCHES_PER_ACCOUNT": "100000/minute",
    "CHORUS_THREAD_WRITES_PER_ADDRESS": "100000/minute",
    "CHORUS_THREADS_PER_ACCOUNT": "100000/minute",
    "CHORUS_PARTICIPANT_ADDS_PER_ACCOUNT": "100000/minute",
    "CHORUS_MAILS_PER_ADDRESS_PER_HOUR": "1000",
}

needs_redis = pytest.mark.skipif(
    not SERVICES, reason="needs Redis: runs in the services run (make test-services); make test needs no server"
)


@dataclass(frozen=True)
class Proxies:
    """One fault proxy in front of each service chorus talks to (the suite's own ``make faults`` run)."""

    database: FaultProxy
    broker: FaultProxy
    redis: FaultProxy

    @classmethod
    def start(cls) -> Proxies:
        return cls(*(FaultProxy(name, *_host_and_port(url)) for name, url in _UPSTREAMS))

    def urls(self) -> dict[str, str]:
        """The settings that send chorus through the proxies."""
        return {
            "CHORUS_DATABASE_URL": _through(DATABASE_URL, self.database),
            "CHORUS_BROKER_URL": _through(BROKER_URL, self.broker),
            "CHORUS_REDIS_URL": _through(REDIS_URL, self.redis),
        }

    def heal_all(self) -> None:
        for proxy in (self.database, self.broker, self.redis):
            proxy.heal()


_UPSTREAMS = (("database", DATABASE_URL), ("broker", BROKER_URL), ("redis", REDIS_URL))


def _host_and_port(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    if parts.hostname is None or parts.port is None:
        raise ValueError(f"{url}: a fault proxy needs an explicit host and port")
    return parts.hostname, parts.port


def _through(url: str, proxy: FaultProxy) -> str:
    host, port = _host_and_port(url)
    return url.replace(f"{host}:{port}", f"127.0.0.1:{proxy.port}", 1)
