"""The Celery application: the API queues with it, the worker and the scheduler run it.

It never imports an act: each act's ``tasks`` package is listed by name and imported only when a worker or beat
starts. Its configuration is read on first use, not on import.
"""

from __future__ import annotations

import functools
import logging
from datetime import timedelta
from pathlib import Path
from typing import Any

from celery import Celery, Task
from celery.signals import worker_process_init

from {{ package }}.config import get_settings

ACTS = Path(__file__).parent / "acts"
EMBEDDED_BROKER = "sqla+"
logger = logging.getLogger(__name__)


def task_modules() -> list[str]:
    """The tasks package of every act, found on disk without importing anything."""
    acts = sorted(init.parent.parent.name for init in ACTS.glob("*/tasks/__init__.py"))
    return [f"{{ package }}.acts.{act}.tasks" for act in acts]


def celery_config() -> dict[str, Any]:
    settings = get_settings()
    broker_url = settings.broker_url
    config: dict[str, Any] = {}
    if broker_url.startswith(EMBEDDED_BROKER):
        config["broker_transport"] = "{{ package }}.adapters.embedded_broker:Transport"
        broker_url = broker_url.removeprefix(EMBEDDED_BROKER)
    elif broker_url.startswith(("amqp://", "amqps://", "pyamqp://")):
        # RabbitMQ confirms each publish: a task sent on a connection that just died raises instead of vanishing.
        config["broker_transport_options"] = {"confirm_publish": True}
    return config | {
        "broker_url": broker_url,
        "broker_connection_retry_on_startup": True,
        "broker_connection_timeout": 2,
        "task_default_queue": settings.task_queue,
        "task_serializer": "json",
        "accept_content": ["json"],
        "task_ignore_result": True,  # no result backend: tasks write their results to the database
        # Tasks are idempotent, so one whose worker died mid-run is delivered again rather than lost.
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        "worker_prefetch_multiplier": 1,
        "task_soft_time_limit": 240,  # well under RabbitMQ's 30-minute acknowledgement timeout
        "task_time_limit": 300,
        # A request must not hang long when the broker is down.
        "task_publish_retry_policy": {"max_retries": 2, "interval_start": 0, "interval_step": 0.2},
        "timezone": "UTC",
        "beat_schedule": {
            "count-missed-words": {"task": "notes.count_missed_words", "schedule": timedelta(minutes=1)},
        },
    }


app = Celery("{{ package }}", include=task_modules())
app.add_defaults(celery_config)


@worker_process_init.connect
def _forget_inherited_engines(**_: Any) -> None:
    """A forked pool process must not share its parent's database connections."""
    from {{ package }}.db import dispose_engines

    dispose_engines()


async def enqueue(task: Task[Any, Any], *args: Any) -> bool:
    """Queue ``task`` from a scene, once its transaction has committed, without blocking the event loop.

    A broker outage is logged, not raised: what the scene committed stands, and a periodic sweep finds the work.
    """
    from anyio import to_thread

    try:
        await to_thread.run_sync(functools.partial(task.apply_async, args))
    except Exception:
        logger.exception("could not queue %s", task.name)
        return False
    return True
