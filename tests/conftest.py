"""The test stack: a real database, a real Celery worker consuming from a real broker, requests through the app.

Embedded (default): SQLite in a temporary folder and the SQLite-backed broker, as `make run` uses.
Services (CHORUS_TEST_SERVICES=1): PostgreSQL database `test`, RabbitMQ and Redis on 127.0.0.1.
"""

from __future__ import annotations

import os
import tempfile
import uuid
from pathlib import Path

SERVICES = os.environ.get("CHORUS_TEST_SERVICES") == "1"
_scratch = Path(tempfile.mkdtemp(prefix="chorus-tests-"))

# Set before chorus reads its settings (on first use), and never from a developer's .env file.
os.environ.update(
    {
        "CHORUS_ENV": "test",
        "CHORUS_SECRET_KEY": "test-secret-key-that-is-long-enough-0123456789",
        "CHORUS_MAIL_DIR": str(_scratch / "mail"),
        # A queue of this run's own, so two runs against one RabbitMQ never consume each other's tasks.
        "CHORUS_TASK_QUEUE": f"chorus-tests-{uuid.uuid4().hex[:12]}",
    }
)
if SERVICES:
    os.environ.update(
        {
            "CHORUS_DATABASE_URL": os.environ.get(
                "CHORUS_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test"
            ),
            "CHORUS_BROKER_URL": os.environ.get("CHORUS_TEST_BROKER_URL", "amqp://guest:guest@127.0.0.1:5672//"),
            "CHORUS_REDIS_URL": os.environ.get("CHORUS_TEST_REDIS_URL", "redis://127.0.0.1:6379/15"),
        }
    )
else:
    os.environ.update(
        {
            "CHORUS_DATABASE_URL": f"sqlite:///{_scratch / 'chorus.sqlite3'}",
            "CHORUS_BROKER_URL": f"sqla+sqlite:///{_scratch / 'broker.sqlite3'}",
        }
    )
    os.environ.pop("CHORUS_REDIS_URL", None)
os.environ.pop("CHORUS_SMTP_URL", None)

pytest_plugins = ["tests.stack"]
