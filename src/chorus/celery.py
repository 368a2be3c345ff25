"""The Celery application: the API queues with it and the worker consumes with it.

It never imports an act: each act's ``tasks`` package is listed by module name and imported only when a worker
or beat starts (``app.loader.import_default_modules()``). Configuration is read on first use, not on import.
"""

from __future__ import annotations

import functools
import logging
from datetime import timedelta
from pathlib import Path
from typing import Any

from celery import Celery, Task
from celery.signals import worker_process_init

from chorus.config import get_settings

ACTS_DIR = Path(__file__).parent / "acts"
EMBEDDED_BROKER_SCHEME = "sqla+"
logger = logging.getLogger(__name__)


def task_modules() -> list[str]:
    """``chorus.acts.<act>.tasks`` for every act folder that has a tasks package, found without importing."""
    return sorted(
        f"chorus.acts.{act.name}.tasks" for act in ACTS_DIR.iterdir() if (act / "tasks" / "__init__.py").is_file()
    )


def celery_config() -> dict[str, Any]:
    settings = get_settings()
    broker_url = settings.broker_url
    config: dict[str, Any] = {}
    if broker_url.startswith(EMBEDDED_BROKER_SCHEME):
        config["broker_transport"] = "chorus.adapters.embedded_broker:Transport"
        broker_url = broker_url.removeprefix(EMBEDDED_BROKER_SCHEME)
    elif broker_url.startswith(("amqp://", "amqps://", "pyamqp://")):
        # RabbitMQ confirms each publish, so a task sent on a connection that just died raises (and is retried)
        # instead of vanishing into a closed socket.
        config["broker_transport_options"] = {"confirm_publish": True}
    return config | {
        "broker_url": broker_url,
        "task_default_queue": settings.task_queue,
        "broker_connection_retry_on_startup": True,
        "broker_connection_timeout": 2,
        "task_serializer": "json",
        "accept_content": ["json"],
        "timezone": "UTC",
        "enable_utc": True,
        "task_ignore_result": True,
        # Tasks are idempotent, so a task whose worker died mid-run is redelivered rather than lost.
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        "worker_prefetch_multiplier": 1,
        # Well under RabbitMQ's 30-minute consumer acknowledgement timeout.
        "task_soft_time_limit": 240,
        "task_time_limit": 300,
        # A request must not hang for long when the broker is down.
        "task_publish_retry_policy": {
            "max_retries": 2,
            "interval_start": 0,
            "interval_step": 0.2,
            "interval_max": 0.5,
        },
        "beat_schedule": {
            "purge-expired-tokens": {"task": "auth.purge_expired_tokens", "schedule": timedelta(hours=1)},
            "send-unread-digests": {"task": "message.send_unread_digests", "schedule": timedelta(minutes=1)},
            "purge-old-thread-events": {"task": "thread.purge_old_events", "schedule": timedelta(hours=1)},
            "purge-idempotency-keys": {"task": "thread.purge_idempotency_keys", "schedule": timedelta(hours=1)},
            "erase-deleted-accounts": {
                "task": "accounts.erase_deleted_accounts",
                "schedule": timedelta(minutes=10),
            },
        },
    }


app = Celery("chorus", include=task_modules())
app.add_defaults(celery_config)


@worker_process_init.connect
def _forget_inherited_engines(**_: Any) -> None:
    """A forked pool process must not share its parent's database connections."""
    from chorus.db import dispose_engines

    dispose_engines()


async def enqueue(task: Task[Any, Any], *args: Any, **kwargs: Any) -> bool:
    """Publish a task from a scene, after its transaction committed, without blocking the event loop.

    A broker outage is logged, not raised: what the scene committed stands, and every task that matters is
    also reached by a periodic sweep or a retry the client can ask for.
    """
    from anyio import to_thread

    try:
        await to_thread.run_sync(functools.partial(task.apply_async, args, kwargs))
    except Exception:
        logger.exception("could not enqueue %s", task.name)
        return False
    return True
