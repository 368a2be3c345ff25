"""Settings read from the environment (``{{ env_prefix }}_*``), checked once at start-up.

The defaults are the embedded mode (SQLite files under ``var/``, no servers), so a fresh checkout runs as is;
containers point the URLs at PostgreSQL, RabbitMQ and Redis. Importing this module reads nothing.
"""

from __future__ import annotations

import functools
from typing import Annotated

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PREFIX = "{{ env_prefix }}_"
DATABASES = ("sqlite", "postgresql")


class Settings(BaseSettings):
    """Every setting; each field is one ``{{ env_prefix }}_<NAME>`` environment variable (listed in the README)."""

    model_config = SettingsConfigDict(env_prefix=PREFIX, extra="ignore", frozen=True)

    database_url: str = "sqlite:///var/{{ package }}.sqlite3"
    broker_url: str = "sqla+sqlite:///var/broker.sqlite3"
    task_queue: Annotated[str, Field(min_length=1, max_length=200, pattern=r"^[\w.:-]+$")] = "{{ package }}"
    redis_url: str | None = None
    # Runs of a task that meets passing outages (database, broker, Redis) before it is recorded as dead.
    task_max_attempts: Annotated[int, Field(ge=1, le=50)] = 10
    # How often each worker's outbox relay looks for tasks not yet published (most are published at their commit).
    outbox_poll_seconds: Annotated[float, Field(gt=0, le=60)] = 1

    @field_validator("database_url")
    @classmethod
    def _known_database(cls, url: str) -> str:
        backend = url.partition(":")[0].partition("+")[0]
        if backend not in DATABASES:
            raise ValueError(f"unsupported database {backend!r}: use sqlite:///path or postgresql://...")
        return url


class ConfigurationError(RuntimeError):
    """A bad setting; the message names each ``{{ env_prefix }}_*`` variable at fault."""


def describe(error: ValidationError) -> str:
    problems = []
    for issue in error.errors():
        name = PREFIX + "_".join(str(part) for part in issue["loc"]).upper()
        problems.append(f"{name}: {issue['msg'].removeprefix('Value error, ')}")
    return "invalid configuration: " + "; ".join(problems)


@functools.cache
def get_settings() -> Settings:
    """The settings, loaded once per process on first use."""
    try:
        return Settings()
    except ValidationError as error:
        raise ConfigurationError(describe(error)) from None
