"""Liveness and readiness, as an orchestrator sees them."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from fastapi.testclient import TestClient

from chorus.config import get_settings

READY_PROBE = """
import json
from fastapi.testclient import TestClient

from chorus.config import get_settings
from chorus.api import app
with TestClient(app) as client:
    response = client.get("/ready")
    print(json.dumps({"status": response.status_code, "body": response.json()}))
"""


def test_health_answers_ok(client: TestClient) -> None:
    response = client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_ready_when_the_database_and_broker_answer(client: TestClient) -> None:
    response = client.get("/ready")
    assert response.status_code == 200
    expected = {"status": "ready", "database": "ok", "broker": "ok"}
    if get_settings().redis_url:
        expected["redis"] = "ok"
    assert response.json() == expected


def _ready_with(**overrides: str) -> dict[str, object]:
    env = {k: v for k, v in os.environ.items() if k != "CHORUS_REDIS_URL"} | overrides
    result = subprocess.run(
        [sys.executable, "-c", READY_PROBE], env=env, capture_output=True, text=True, timeout=60, check=True
    )
    return dict(json.loads(result.stdout))


def test_ready_is_503_when_the_broker_is_down() -> None:
    probe = _ready_with(CHORUS_BROKER_URL="amqp://guest:guest@127.0.0.1:1//")
    assert probe["status"] == 503
    assert probe["body"] == {"status": "unavailable", "database": "ok", "broker": "down"}


def test_ready_is_503_when_the_database_is_down() -> None:
    probe = _ready_with(CHORUS_DATABASE_URL="postgresql://postgres@127.0.0.1:1/test")
    assert probe["status"] == 503
    assert probe["body"] == {"status": "unavailable", "database": "down", "broker": "ok"}


def test_ready_is_503_when_the_configured_redis_is_down() -> None:
    probe = _ready_with(CHORUS_REDIS_URL="redis://127.0.0.1:1/0")
    assert probe["status"] == 503
    assert probe["body"] == {"status": "unavailable", "database": "ok", "broker": "ok", "redis": "down"}
