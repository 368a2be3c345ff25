"""Liveness, readiness and start-up: what an orchestrator asks of the API."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

import {{ package }}.api
from {{ package }}.config import get_settings


def test_health_answers(client: TestClient) -> None:
    response = client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_ready_when_the_database_and_the_broker_answer(client: TestClient) -> None:
    response = client.get("/ready")
    assert response.status_code == 200, response.text
    redis = {"redis": "ok"} if get_settings().redis_url else {}  # probed only when configured (services run)
    expected = {"status": "ready", "database": "ok", "broker": "ok"} | redis
    assert response.json() == expected


def test_not_ready_when_the_broker_is_down(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    def unreachable() -> None:
        raise ConnectionRefusedError("broker down")

    monkeypatch.setattr({{ package }}.api, "_broker", unreachable)
    response = client.get("/ready")
    assert response.status_code == 503
    assert response.json()["broker"] == "down"
    assert response.json()["status"] == "unavailable"


@pytest.mark.parametrize(
    "command",
    [
        [sys.executable, "-m", "uvicorn", "{{ package }}.api:app", "--port", "0"],
        [str(Path(sys.executable).parent / "{{ project }}"), "migrate"],
    ],
    ids=["api", "migrate"],
)
def test_a_bad_setting_stops_start_up_naming_the_variable(command: list[str]) -> None:
    environment = os.environ | {"{{ env_prefix }}_DATABASE_URL": "mysql://localhost/nope"}
    result = subprocess.run(command, env=environment, capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode != 0
    assert "{{ env_prefix }}_DATABASE_URL: unsupported database 'mysql'" in result.stderr
