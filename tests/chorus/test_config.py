"""Configuration: read from the environment, and a bad value stops start-up naming its variable."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from chorus.config import DEFAULT_SECRET_KEY, ConfigurationError, Environment, Settings, get_settings


@pytest.fixture
def fresh_settings(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """Settings read anew from a patched environment, and the suite's own restored afterwards."""
    get_settings.cache_clear()
    yield monkeypatch  # type: ignore[misc]
    monkeypatch.undo()
    get_settings.cache_clear()


def test_settings_come_from_chorus_variables(fresh_settings: pytest.MonkeyPatch) -> None:
    fresh_settings.setenv("CHORUS_ACCESS_TOKEN_MINUTES", "7")
    assert get_settings().access_token_minutes == 7


def test_a_bad_value_names_its_variable(fresh_settings: pytest.MonkeyPatch) -> None:
    fresh_settings.setenv("CHORUS_ACCESS_TOKEN_MINUTES", "soon")
    with pytest.raises(ConfigurationError, match="CHORUS_ACCESS_TOKEN_MINUTES"):
        get_settings()


def test_production_refuses_the_default_secret_key(fresh_settings: pytest.MonkeyPatch) -> None:
    fresh_settings.setenv("CHORUS_ENV", "production")
    fresh_settings.setenv("CHORUS_SECRET_KEY", DEFAULT_SECRET_KEY)
    with pytest.raises(ConfigurationError, match="CHORUS_SECRET_KEY"):
        get_settings()


def test_production_refuses_a_short_secret_key_and_accepts_a_strong_one() -> None:
    with pytest.raises(ValueError, match="CHORUS_SECRET_KEY"):
        Settings(env=Environment.PRODUCTION, secret_key="short")  # type: ignore[arg-type]
    strong = Settings(env=Environment.PRODUCTION, secret_key="k" * 48)  # type: ignore[arg-type]
    assert strong.env is Environment.PRODUCTION


def test_the_api_process_refuses_to_start_in_production_with_the_default_key() -> None:
    env = os.environ | {"CHORUS_ENV": "production", "CHORUS_SECRET_KEY": DEFAULT_SECRET_KEY}
    server = subprocess.run(
        [sys.executable, "-m", "uvicorn", "chorus.api:app", "--port", "0"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert server.returncode != 0
    assert "CHORUS_SECRET_KEY" in server.stderr
