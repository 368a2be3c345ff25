"""Configuration: read from the environment, a bad value stops start-up naming its variable, and no secret key is
ever shared between installations."""

from __future__ import annotations

import os
import secrets
import stat
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from ipaddress import ip_network
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

import chorus.config
from chorus.api import app
from chorus.config import DEVELOPMENT_KEY_FILE, ConfigurationError, Environment, Settings, get_settings

PRINT_KEY = "from chorus.config import get_settings; print(get_settings().secret_key.get_secret_value())"
GUESSABLE_KEYS = {
    "32 identical characters": "k" * 32,
    "48 identical characters": "k" * 48,
    "two characters repeated": "ab" * 24,
    "a word repeated": "password" * 5,
    "one character with a few others": "a" * 30 + "bcdefghijk",
    "shorter than 32 characters": secrets.token_urlsafe(16)[:31],
    "the former public default": "insecure-development-key-change-me",
}


@pytest.fixture
def fresh_settings(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    """Settings read anew from a patched environment, and the suite's own restored afterwards."""
    get_settings.cache_clear()
    yield monkeypatch
    monkeypatch.undo()
    get_settings.cache_clear()


@pytest.fixture
def keyless(fresh_settings: pytest.MonkeyPatch, tmp_path: Path) -> pytest.MonkeyPatch:
    """No CHORUS_SECRET_KEY, started from an empty directory (a fresh installation)."""
    fresh_settings.delenv("CHORUS_SECRET_KEY")
    fresh_settings.chdir(tmp_path)
    return fresh_settings


def _key_in(directory: Path, env: str) -> subprocess.CompletedProcess[str]:
    """A new process's key, started in ``directory`` with no key set (what `make run` does on a fresh checkout)."""
    environment = {name: value for name, value in os.environ.items() if name != "CHORUS_SECRET_KEY"}
    environment |= {"CHORUS_ENV": env, "PYTHONPATH": os.pathsep.join(sys.path)}
    return subprocess.run(
        [sys.executable, "-c", PRINT_KEY], cwd=directory, env=environment, capture_output=True, text=True, check=False
    )


def test_settings_come_from_chorus_variables(fresh_settings: pytest.MonkeyPatch) -> None:
    fresh_settings.setenv("CHORUS_ACCESS_TOKEN_MINUTES", "7")
    assert get_settings().access_token_minutes == 7


def test_a_bad_value_names_its_variable(fresh_settings: pytest.MonkeyPatch) -> None:
    fresh_settings.setenv("CHORUS_ACCESS_TOKEN_MINUTES", "soon")
    with pytest.raises(ConfigurationError, match="CHORUS_ACCESS_TOKEN_MINUTES"):
        get_settings()


def test_there_is_no_public_default_key() -> None:
    assert not hasattr(chorus.config, "DEFAULT_SECRET_KEY")
    assert "insecure-development-key-change-me" in chorus.config.PUBLISHED_KEYS  # refused if someone copies it


def test_importing_the_settings_writes_no_key(tmp_path: Path) -> None:
    environment = {name: value for name, value in os.environ.items() if name != "CHORUS_SECRET_KEY"}
    environment |= {"CHORUS_ENV": "development", "PYTHONPATH": os.pathsep.join(sys.path)}
    subprocess.run([sys.executable, "-c", "import chorus.api"], cwd=tmp_path, env=environment, check=True)
    assert not (tmp_path / DEVELOPMENT_KEY_FILE).exists()


def test_development_makes_a_key_on_first_start_kept_private_and_reused(keyless: pytest.MonkeyPatch) -> None:
    keyless.setenv("CHORUS_ENV", "development")
    first = get_settings().secret_key.get_secret_value()
    kept = Path(DEVELOPMENT_KEY_FILE)
    assert kept.read_text().strip() == first
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600
    assert len(first) >= 32
    get_settings.cache_clear()
    assert get_settings().secret_key.get_secret_value() == first  # the next start reuses it


def test_two_development_installations_have_different_keys(tmp_path: Path) -> None:
    (tmp_path / "one").mkdir()
    (tmp_path / "two").mkdir()
    one, two = _key_in(tmp_path / "one", "development"), _key_in(tmp_path / "two", "development")
    assert one.returncode == two.returncode == 0, one.stderr + two.stderr
    assert one.stdout.strip() != two.stdout.strip()
    assert _key_in(tmp_path / "one", "development").stdout == one.stdout  # a restart keeps its installation's key


def test_concurrent_first_starts_in_development_agree_on_one_key(tmp_path: Path) -> None:
    path = tmp_path / "var" / "secret_key"
    with ThreadPoolExecutor(8) as pool:
        keys = set(pool.map(lambda _: chorus.config._development_key(path), range(16)))
    assert len(keys) == 1
    assert [entry.name for entry in path.parent.iterdir()] == ["secret_key"]  # no temporary file left behind


def test_test_mode_makes_a_random_key_per_process_and_writes_nothing(tmp_path: Path) -> None:
    one, two = _key_in(tmp_path, "test"), _key_in(tmp_path, "test")
    assert one.returncode == two.returncode == 0, one.stderr + two.stderr
    assert len(one.stdout.strip()) >= 32
    assert one.stdout != two.stdout
    assert list(tmp_path.iterdir()) == []


def test_production_refuses_to_start_without_a_key(keyless: pytest.MonkeyPatch, tmp_path: Path) -> None:
    keyless.setenv("CHORUS_ENV", "production")
    with pytest.raises(ConfigurationError, match="CHORUS_SECRET_KEY: must be set when CHORUS_ENV=production"):
        get_settings()
    assert list(tmp_path.iterdir()) == []  # nothing generated behind the operator's back


@pytest.mark.parametrize("env", list(Environment))
@pytest.mark.parametrize("key", GUESSABLE_KEYS.values(), ids=GUESSABLE_KEYS.keys())
def test_guessable_keys_are_refused_in_every_mode(fresh_settings: pytest.MonkeyPatch, env: str, key: str) -> None:
    fresh_settings.setenv("CHORUS_ENV", env)
    fresh_settings.setenv("CHORUS_SECRET_KEY", key)
    with pytest.raises(ConfigurationError, match="CHORUS_SECRET_KEY"):
        get_settings()


@pytest.mark.parametrize("key", [secrets.token_hex(16), secrets.token_urlsafe(24), secrets.token_urlsafe(48)])
def test_random_keys_are_accepted_in_production(key: str) -> None:
    settings = Settings(env=Environment.PRODUCTION, secret_key=key)  # type: ignore[arg-type]
    assert settings.secret_key.get_secret_value() == key


def test_a_kept_development_key_that_is_guessable_is_refused(keyless: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / "var").mkdir()
    (tmp_path / "var" / "secret_key").write_text("k" * 40)
    keyless.setenv("CHORUS_ENV", "development")
    with pytest.raises(ConfigurationError, match="CHORUS_SECRET_KEY"):
        get_settings()


def test_the_api_process_refuses_to_start_in_production_without_a_key(tmp_path: Path) -> None:
    env = {name: value for name, value in os.environ.items() if name != "CHORUS_SECRET_KEY"}
    server = subprocess.run(
        [sys.executable, "-m", "uvicorn", "chorus.api:app", "--port", "0"],
        env=env | {"CHORUS_ENV": "production", "PYTHONPATH": os.pathsep.join(sys.path)},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert server.returncode != 0
    assert "CHORUS_SECRET_KEY" in server.stderr


def test_trusted_proxies_are_none_by_default_and_read_comma_separated(fresh_settings: pytest.MonkeyPatch) -> None:
    assert get_settings().trusted_proxies == ()
    get_settings.cache_clear()
    fresh_settings.setenv("CHORUS_TRUSTED_PROXIES", "10.0.0.0/8, 192.0.2.7,::1")
    assert get_settings().trusted_proxies == (ip_network("10.0.0.0/8"), ip_network("192.0.2.7"), ip_network("::1"))


def test_a_malformed_trusted_proxy_names_its_variable(fresh_settings: pytest.MonkeyPatch) -> None:
    fresh_settings.setenv("CHORUS_TRUSTED_PROXIES", "10.0.0.0/8,proxy.example")
    with pytest.raises(ConfigurationError, match="CHORUS_TRUSTED_PROXIES"):
        get_settings()


DOCS = ["/docs", "/redoc", "/openapi.json", "/docs/oauth2-redirect"]


@pytest.mark.parametrize("path", DOCS)
def test_api_docs_are_served_by_default_in_test_mode(path: str) -> None:
    response = TestClient(app).get(path)
    assert response.status_code == 200
    if path == "/openapi.json":
        assert response.json() == app.openapi()


@pytest.mark.parametrize("path", DOCS)
def test_api_docs_are_off_by_default_in_production(fresh_settings: pytest.MonkeyPatch, path: str) -> None:
    fresh_settings.setenv("CHORUS_ENV", "production")
    response = TestClient(app).get(path)
    assert response.status_code == 404
    assert response.json() == {"detail": "Not Found", "code": "not_found"}


def test_api_docs_can_be_switched_on_in_production_and_off_elsewhere(fresh_settings: pytest.MonkeyPatch) -> None:
    fresh_settings.setenv("CHORUS_ENV", "production")
    fresh_settings.setenv("CHORUS_API_DOCS", "true")
    assert TestClient(app).get("/openapi.json").status_code == 200
    get_settings.cache_clear()
    fresh_settings.setenv("CHORUS_ENV", "development")
    fresh_settings.setenv("CHORUS_API_DOCS", "false")
    assert TestClient(app).get("/docs").status_code == 404
