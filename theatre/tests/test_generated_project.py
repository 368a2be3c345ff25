"""A project theatre new makes, installed and run for real: its make test, its make run serving the example act
while its worker consumes the task the scene queues, an added act, and its tests against the machine's services.

The project is made from the template before the outbox (0.2.0), edited, then brought up to date by theatre update,
and shown to be file for file what theatre new writes today but for the edits: one install covers both a new
project and an updated one.

Minutes, not seconds: each step is what a person would type, in the order they would type it.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.earlier_template import (
    OUTBOX_FILES,
    TEMPLATE_0_2_0,
    assert_made_today_but_for_the_local_edits,
    edit_locally,
)

SERVICES = os.environ.get("THEATRE_TEST_SERVICES") == "1"
# The generated project's own test run must not inherit this run's settings.
CLEAN_ENVIRONMENT = {key: value for key, value in os.environ.items() if not key.startswith(("CHORUS_", "PYTEST_"))}


def _run(command: list[str], cwd: Path, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command, cwd=cwd, env=CLEAN_ENVIRONMENT, capture_output=True, text=True, timeout=timeout, check=False
    )


def _passes(command: list[str], cwd: Path) -> str:
    done = _run(command, cwd)
    assert done.returncode == 0, f"{' '.join(command)} failed:\n{done.stdout[-6000:]}\n{done.stderr[-3000:]}"
    return done.stdout


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """theatre new shop --no-input from template 0.2.0, with its lock file and virtual environment made as a
    person's would be; edited; then theatre update: today's template, outbox and retry policy included."""
    project = tmp_path_factory.mktemp("new") / "shop"
    new = [sys.executable, "-m", "theatre", "new", str(project), "--no-input", "--template", str(TEMPLATE_0_2_0)]
    made = _run(new, project.parent)
    assert made.returncode == 0, made.stdout[-4000:] + made.stderr[-4000:]
    assert (project / "uv.lock").is_file()
    assert (project / ".venv/bin/python").is_file()
    edit_locally(project)
    updated = _passes([sys.executable, "-m", "theatre", "update"], project)
    assert all(f"added: {relative}" in updated for relative in OUTBOX_FILES), updated
    assert_made_today_but_for_the_local_edits(project)
    return project


@pytest.mark.skipif(SERVICES, reason="the services run checks the generated project against the services only")
def test_the_updated_project_passes_its_own_make_test(shop: Path) -> None:
    output = _passes(["make", "test"], shop)
    assert "shop is clean" in output
    # Its tools leave theatre's record alone: an update right after finds nothing to bring in.
    assert "nothing to bring in" in _passes([sys.executable, "-m", "theatre", "update"], shop)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _request(url: str, body: dict[str, str] | None = None) -> tuple[int, dict[str, object]]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, headers={"content-type": "application/json"})  # noqa: S310
    with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310
        return response.status, json.loads(response.read())


@pytest.mark.skipif(SERVICES, reason="make run is the embedded defaults")
def test_make_run_serves_the_example_act_and_its_worker_counts_the_words(shop: Path) -> None:
    port = _free_port()
    running = subprocess.Popen(
        ["make", "run", f"PORT={port}"],
        cwd=shop,
        env=CLEAN_ENVIRONMENT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                status, _ = _request(f"{base}/health")
                break
            except OSError:
                assert time.monotonic() < deadline, "make run never answered /health"
                time.sleep(0.25)
        status, note = _request(f"{base}/notes", {"body": "three little words"})
        assert status == 201
        deadline = time.monotonic() + 30
        while True:
            _, seen = _request(f"{base}/notes/{note['id']}")
            if seen["word_count"] is not None:
                break
            assert time.monotonic() < deadline, "the worker never counted the words"
            time.sleep(0.2)
        assert seen["word_count"] == 3
    finally:
        os.killpg(running.pid, signal.SIGINT)
        try:
            running.wait(timeout=30)
        finally:
            if running.poll() is None:
                os.killpg(running.pid, signal.SIGKILL)
    leftovers = _run(["pgrep", "-s", str(running.pid)], shop)
    assert leftovers.stdout.strip() == "", "make run left processes behind"


@pytest.mark.skipif(SERVICES, reason="the services run checks the generated project against the services only")
def test_an_added_act_passes_make_test_and_is_on_the_map(shop: Path) -> None:
    _passes([sys.executable, "-m", "theatre", "act", "add", "billing"], shop)
    _passes(["make", "test"], shop)
    drawn = json.loads(_passes([sys.executable, "-m", "theatre", "map", "--format", "json"], shop))
    billing = next(act for act in drawn["acts"] if act["name"] == "billing")
    assert [scene["route"] for scene in billing["scenes"]] == ["GET /billing/overview"]
    assert [task["name"] for task in billing["tasks"]] == ["billing.tidy"]


@pytest.mark.skipif(not SERVICES, reason="the services run (make test-services) sets THEATRE_TEST_SERVICES=1")
def test_a_new_project_passes_its_tests_against_postgresql_rabbitmq_and_redis(shop: Path) -> None:
    _passes(["make", "test-services"], shop)
