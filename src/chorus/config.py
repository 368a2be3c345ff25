"""Settings read from the environment (``CHORUS_*`` variables or a ``.env`` file), validated at start-up."""

from __future__ import annotations

import functools
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Self

from pydantic import Field, SecretStr, ValidationError, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_SECRET_KEY = "insecure-development-key-change-me"


class Environment(StrEnum):
    DEVELOPMENT = "development"
    TEST = "test"
    PRODUCTION = "production"


class Settings(BaseSettings):
    """Every setting of the service; each field is one ``CHORUS_<NAME>`` environment variable."""

    model_config = SettingsConfigDict(env_prefix="CHORUS_", env_file=".env", extra="ignore", frozen=True)

    env: Environment = Environment.DEVELOPMENT
    secret_key: SecretStr = SecretStr(DEFAULT_SECRET_KEY)
    database_url: str = "sqlite:///var/chorus.sqlite3"
    broker_url: str = "sqla+sqlite:///var/broker.sqlite3"
    task_queue: Annotated[str, Field(min_length=1, max_length=200, pattern=r"^[\w.:-]+$")] = "chorus"
    redis_url: str | None = None
    smtp_url: str | None = None
    mail_dir: Path = Path("var/mail")
    mail_from: str = "chorus <no-reply@chorus.localhost>"
    public_url: str = "http://127.0.0.1:8000"

    access_token_minutes: Annotated[int, Field(ge=1, le=24 * 60)] = 15
    refresh_token_days: Annotated[int, Field(ge=1, le=365)] = 30
    verification_token_hours: Annotated[int, Field(ge=1, le=24 * 30)] = 48
    reset_token_minutes: Annotated[int, Field(ge=5, le=24 * 60)] = 30
    login_failures_per_account: Annotated[int, Field(ge=1)] = 5
    login_failures_per_address: Annotated[int, Field(ge=1)] = 20
    login_throttle_minutes: Annotated[int, Field(ge=1)] = 15
    digest_delay_minutes: Annotated[int, Field(ge=0, le=7 * 24 * 60)] = 10
    event_retention_hours: Annotated[int, Field(ge=1)] = 72
    stream_recheck_seconds: Annotated[int, Field(ge=1, le=300)] = 5
    streams_per_user: Annotated[int, Field(ge=1)] = 10
    streams_per_process: Annotated[int, Field(ge=1)] = 1000

    @model_validator(mode="after")
    def _refuse_default_secret_in_production(self) -> Self:
        if self.env is Environment.PRODUCTION:
            key = self.secret_key.get_secret_value()
            if key == DEFAULT_SECRET_KEY or len(key) < 32:
                raise ValueError(
                    "CHORUS_SECRET_KEY: must be set to a random value of at least 32 characters "
                    "when CHORUS_ENV=production"
                )
        return self


class ConfigurationError(RuntimeError):
    """Raised at start-up with a message naming each bad ``CHORUS_*`` variable."""


def describe(error: ValidationError) -> str:
    lines = []
    for issue in error.errors():
        field = ".".join(str(part) for part in issue["loc"])
        message = issue["msg"].removeprefix("Value error, ")
        lines.append(f"CHORUS_{field.upper()}: {message}" if field else message)
    return "invalid configuration:\n  " + "\n  ".join(lines)


@functools.cache
def get_settings() -> Settings:
    """The settings, loaded once per process on first use (importing this module reads nothing)."""
    try:
        return Settings()
    except ValidationError as error:
        raise ConfigurationError(describe(error)) from None
