"""Which services this run uses: the embedded defaults (`make test`, no servers), or the machine's PostgreSQL,
RabbitMQ and Redis (`make test-services`, CHORUS_TEST_SERVICES=1)."""

from __future__ import annotations

import os

import pytest

SERVICES = os.environ.get("CHORUS_TEST_SERVICES") == "1"
DATABASE_URL = os.environ.get("CHORUS_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
BROKER_URL = os.environ.get("CHORUS_TEST_BROKER_URL", "amqp://guest:guest@127.0.0.1:5672//")
REDIS_URL = os.environ.get("CHORUS_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")

needs_redis = pytest.mark.skipif(
    not SERVICES, reason="needs Redis: runs in the services run (make test-services); make test needs no server"
)
