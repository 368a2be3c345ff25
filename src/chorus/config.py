"""Settings read from the environment (``CHORUS_*`` variables or a ``.env`` file), validated at start-up."""

from __future__ import annotations

import contextlib
import functools
import math
import os
import secrets
import tempfile
from collections import Counter
from enum import StrEnum
from ipaddress import IPv4Network, IPv6Network, ip_network
from pathlib import Path
from typing import Annotated, Any, Self

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

# Where development mode keeps the key it generated on first start (relative to the directory the process starts in,
# like the other var/ defaults), so that the API, the worker and the scheduler of `make run` share it.
DEVELOPMENT_KEY_FILE = Path("var/secret_key")

# The rule a secret key must meet, in every mode (see the README's configuration table).
MIN_KEY_CHARACTERS = 32
MIN_KEY_DISTINCT_CHARACTERS = 10
MIN_KEY_ESTIMATED_BITS = 80
# Keys once published (the former default printed in the README): refused whatever their estimate.
PUBLISHED_KEYS = frozenset({"insecure-development-key-change-me"})

TrustedNetwork = IPv4Network | IPv6Network


class Environment(StrEnum):
    DEVELOPMENT = "development"
    TEST = "test"
    PRODUCTION = "production"


def key_weakness(key: str) -> str | None:
    """Why ``key`` is too guessable to sign tokens with, or None: a cheap check that catches placeholders and
    repeated characters, not a proof of randomness."""
    if key in PUBLISHED_KEYS:
        return "is a published example value; use a random one"
    if len(key) < MIN_KEY_CHARACTERS:
        return f"must be at least {MIN_KEY_CHARACTERS} characters long"
    counts = Counter(key)
    if len(counts) < MIN_KEY_DISTINCT_CHARACTERS:
        return f"must use at least {MIN_KEY_DISTINCT_CHARACTERS} distinct characters"
    estimate = -sum(count * math.log2(count / len(key)) for count in counts.values())
    if estimate < MIN_KEY_ESTIMATED_BITS:
        return f"has too little entropy (about {estimate:.0f} bits, at least {MIN_KEY_ESTIMATED_BITS} required)"
    return None


def generate_key() -> str:
    return secrets.token_urlsafe(48)


@functools.cache
def _process_key() -> str:
    """Test mode's key: random, one per process run, never written anywhere."""
    return generate_key()


def _development_key(path: Path = DEVELOPMENT_KEY_FILE) -> str:
    """The key kept in ``path``, made on first start (mode 0600); concurrent first starts agree on one key."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor, candidate = tempfile.mkstemp(dir=path.parent, prefix=".secret_key.")  # created 0600
        try:
            with os.fdopen(descriptor, "w", encoding="ascii") as file:
                file.write(generate_key() + "\n")
            with contextlib.suppress(FileExistsError):  # another process of `make run` made it first: use theirs
                os.link(candidate, path)
        finally:
            os.unlink(candidate)
    return path.read_text(encoding="ascii").strip()


def _default_secret_key(data: dict[str, Any]) -> SecretStr:
    """No key set: generated and kept in development, per process in test; production gets none (refused below)."""
    env = data.get("env")
    if env is Environment.DEVELOPMENT:
        return SecretStr(_development_key())
    if env is Environment.TEST:
        return SecretStr(_process_key())
    return SecretStr("")


# A rate in the `limits` notation: a count, a slash, optionally a multiple, and a unit ("30/hour", "5/15minutes").
RATE = r"^[1-9][0-9]{0,8}\s*/\s*([1-9][0-9]{0,5}\s*)?(second|minute|hour|day)s?$"


class Settings(BaseSettings):
    """Every setting of the service; each field is one ``CHORUS_<NAME>`` environment variable."""

    model_config = SettingsConfigDict(env_prefix="CHORUS_", env_file=".env", extra="ignore", frozen=True)

    env: Environment = Environment.DEVELOPMENT
    secret_key: SecretStr = Field(default_factory=_default_secret_key)
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
    # How stale a process's view of a session may be: an ended session's access tokens stop within this bound.
    session_check_seconds: Annotated[float, Field(ge=0, le=60)] = 5
    # A login's absolute lifetime: refreshing never carries a session past it.
    session_max_days: Annotated[int, Field(ge=1, le=3650)] = 90
    # A live stream re-checks its reader at least this often, and is refused over these caps.
    stream_recheck_seconds: Annotated[int, Field(ge=1, le=300)] = 5
    streams_per_user: Annotated[int, Field(ge=1)] = 10
    streams_per_process: Annotated[int, Field(ge=1)] = 1000

    # None: on in development and test, off in production (see `serves_api_docs`).
    api_docs: bool | None = None
    # Comma-separated addresses or networks whose X-Forwarded-For is believed; none by default.
    trusted_proxies: Annotated[tuple[TrustedNetwork, ...], NoDecode] = ()
    # Password hashes (64 MiB and ~0.1 s of CPU each) running at once per process, and how long a request waits for
    # a free slot before answering 503: a flood queues its hashing instead of starving the process.
    max_concurrent_hashes: Annotated[int, Field(ge=1, le=64, default_factory=lambda: min(4, os.cpu_count() or 1))]
    hash_wait_seconds: Annotated[float, Field(gt=0, le=60)] = 3

    # Rate limits ("N/second|minute|hour|day", the `limits` notation), counted in Redis when CHORUS_REDIS_URL is
    # set, in the database otherwise. Per client address each route counts on its own; per account where there is one.
    auth_requests_per_address: Annotated[str, Field(pattern=RATE)] = "30/hour"
    searches_per_address: Annotated[str, Field(pattern=RATE)] = "300/minute"
    searches_per_account: Annotated[str, Field(pattern=RATE)] = "60/minute"
    thread_writes_per_address: Annotated[str, Field(pattern=RATE)] = "600/hour"
    threads_per_account: Annotated[str, Field(pattern=RATE)] = "60/hour"
    participant_adds_per_account: Annotated[str, Field(pattern=RATE)] = "120/hour"
    # Failed logins for one account from all addresses together within an hour: a ceiling against guessing spread
    # over many addresses (CHORUS_LOGIN_FAILURES_PER_ACCOUNT counts one account from one address).
    login_failures_per_account_ceiling: Annotated[int, Field(ge=1)] = 100
    # Mails of any one kind but the password-changed notice that one address receives per hour, however caused.
    mails_per_address_per_hour: Annotated[int, Field(ge=1)] = 5
    # Someone who left a thread cannot be added back to it by others for this long.
    rejoin_block_hours: Annotated[int, Field(ge=0, le=24 * 365)] = 24
    # Runs of a task that meets passing outages (database, broker, Redis, mail server) before it is recorded as dead.
    task_max_attempts: Annotated[int, Field(ge=1, le=50)] = 10
    # How often each worker's outbox relay looks for tasks not yet published (most are published at their commit).
    outbox_poll_seconds: Annotated[float, Field(gt=0, le=60)] = 1
    # Time limits inside a request: connecting to PostgreSQL, waiting for a pooled connection, and each statement of
    # the API take at most this long, then the request answers 503 with Retry-After (see the README's Reliability).
    database_timeout_seconds: Annotated[float, Field(gt=0, le=300)] = 2
    # Each statement of a task or of the `chorus` command (the synchronous engine), which do longer work; 0: no limit.
    task_statement_timeout_seconds: Annotated[float, Field(ge=0, le=24 * 3600)] = 60
    # Connecting to Redis and each call to it; a live-updates subscription silent for longer than this after a ping
    # counts as lost.
    redis_timeout_seconds: Annotated[float, Field(gt=0, le=60)] = 1
    # `chorus run` (make run): how long its processes get to stop after SIGTERM before they are killed; above the
    # worker's own warm shutdown (it finishes the tasks it is running).
    run_grace_seconds: Annotated[float, Field(gt=0, le=3600)] = 30
    # How long a post's Idempotency-Key keeps its first answer: a retry within this time gets that answer again.
    idempotency_key_hours: Annotated[int, Field(ge=1, le=24 * 30)] = 24

    @field_validator("secret_key")
    @classmethod
    def _refuse_guessable_keys(cls, key: SecretStr) -> SecretStr:
        weakness = key.get_secret_value() and key_weakness(key.get_secret_value())  # unset: refused below
        if weakness:
            raise ValueError(f"{weakness} (for example: python3 -c 'import secrets; print(secrets.token_urlsafe(48))')")
        return key

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _split_networks(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = [part.strip() for part in value.split(",") if part.strip()]
        if isinstance(value, list | tuple):
            try:
                return tuple(ip_network(part, strict=False) if isinstance(part, str) else part for part in value)
            except ValueError as error:
                raise ValueError(f"expected IP addresses or networks separated by commas: {error}") from None
        return value

    @model_validator(mode="after")
    def _refuse_a_missing_key_outside_development_and_test(self) -> Self:
        if not self.secret_key.get_secret_value():
            raise ValueError(
                f"CHORUS_SECRET_KEY: must be set when CHORUS_ENV={self.env.value} (a random value of at least "
                f"{MIN_KEY_CHARACTERS} characters, e.g. python3 -c 'import secrets; print(secrets.token_urlsafe(48))')"
            )
        return self

    @property
    def serves_api_docs(self) -> bool:
        """Whether /docs, /redoc and /openapi.json answer: CHORUS_API_DOCS, else everywhere but production."""
        return self.env is not Environment.PRODUCTION if self.api_docs is None else self.api_docs


class ConfigurationError(RuntimeError):
    """Raised at start-up with a message naming each bad ``CHORUS_*`` variable."""


def describe(error: ValidationError) -> str:
    lines = []
    for issue in error.errors():
        field = ".".join(str(part) for part in issue["loc"][:1])
        message = issue["msg"].removeprefix("Value error, ")
        lines.append(f"CHORUS_{field.upper()}: {message}" if field else message)
    return "invalid configuration:\n  " + "\n  ".join(dict.fromkeys(lines))


@functools.cache
def get_settings() -> Settings:
    """The settings, loaded once per process on first use (importing this module reads nothing)."""
    try:
        return Settings()
    except ValidationError as error:
        raise ConfigurationError(describe(error)) from None
