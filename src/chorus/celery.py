"""The Celery application: the API queues with it and the worker consumes with it.

It never imports an act: each act's ``tasks`` package is listed by module name and imported only when a worker
or beat starts (``app.loader.import_default_modules()``). Configuration is read on first use, not on import.
Tasks reach the broker through the outbox (``chorus.adapters.outbox``): scenes, tasks and the scheduler record them
with their data, and a relay in each worker's main process publishes what was not published at once.
"""

from __future__ import annotations

import logging
import random
import traceback
from datetime import timedelta
from pathlib import Path
from typing import Any

from celery import Celery, Task, bootsteps
from celery.beat import PersistentScheduler, ScheduleEntry
from celery.exceptions import TaskPredicate
from celery.result import AsyncResult
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
        # Remote control (ping, shutdown) per queue as well: two chorus deployments on one broker, each with a
        # worker on the same host name, would otherwise fight over one exclusive `<host>.celery.pidbox` queue.
        "control_exchange": settings.task_queue,
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
        # A task whose broker connection dropped cannot be acknowledged: cancel it, it comes back (and does its effect
        # once, by its id) instead of running on beside its redelivered twin.
        "worker_cancel_long_running_tasks_on_connection_loss": True,
        "worker_prefetch_multiplier": 1,
        # Well under RabbitMQ's 30-minute consumer acknowledgement timeout.
        "task_soft_time_limit": 240,
        "task_time_limit": 300,
        # A publish must not hang for long when the broker is down: the outbox keeps the task meanwhile.
        "task_publish_retry_policy": {
            "max_retries": 2,
            "interval_start": 0,
            "interval_step": 0.2,
            "interval_max": 0.5,
        },
        "beat_scheduler": "chorus.celery:OutboxScheduler",
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


# Retries of a passing outage wait 2, 4, 8 ... seconds (capped), each drawn at random below that (full jitter).
RETRY_BASE_SECONDS = 2
RETRY_CAP_SECONDS = 300


def retry_delay(attempt: int) -> timedelta:
    return timedelta(
        seconds=random.uniform(RETRY_BASE_SECONDS / 2, min(RETRY_CAP_SECONDS, RETRY_BASE_SECONDS**attempt))  # noqa: S311 (jitter)
    )


class ChorusTask(Task):  # type: ignore[type-arg]
    """Every chorus task: done once per outbox id, retried on passing outages, recorded as dead on anything else."""

    # CHORUS_TASK_MAX_ATTEMPTS caps the attempts (below); Celery's own cap (3, also when retry() is given
    # max_retries=None) would otherwise re-raise a fourth broker-carried retry and drop the task.
    max_retries = None

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        from chorus.adapters import outbox
        from chorus.adapters.transient_errors import is_transient

        task_id = self.request.id
        try:
            result = self.run(*args, **kwargs)
        except TaskPredicate:
            raise
        except Exception as error:
            attempt = self.request.retries + 1
            if is_transient(error) and attempt < get_settings().task_max_attempts:
                delay = retry_delay(attempt)
                logger.warning(
                    "%s[%s] attempt %d met %r: retrying in %.1f s",
                    self.name,
                    task_id,
                    attempt,
                    error,
                    delay.total_seconds(),
                )
                if outbox.reschedule(task_id, attempts=attempt, delay=delay, error=repr(error)):
                    return None
                # Not from the outbox, or the database is out too: the broker carries the retry.
                raise self.retry(exc=error, countdown=delay.total_seconds(), max_retries=None) from error
            logger.exception("%s[%s] failed for good on attempt %d: recorded as dead", self.name, task_id, attempt)
            outbox.bury(
                task_id,
                task=self.name,
                args=args,
                kwargs=kwargs,
                attempts=attempt,
                error="".join(traceback.format_exception(error)),
            )
            raise
        outbox.mark_done(task_id)
        return result


app = Celery("chorus", include=task_modules(), task_cls=ChorusTask)
app.add_defaults(celery_config)


class OutboxRelayStep(bootsteps.StartStopStep):
    """Runs the outbox relay in the worker's main process, beside consuming: wherever tasks are consumed, what
    waits in the outbox is published, and several workers share the work (their relays claim rows apart)."""

    requires = ("celery.worker.components:Pool",)

    def __init__(self, parent: Any, **kwargs: Any) -> None:
        super().__init__(parent, **kwargs)
        self.relay: Any = None

    def start(self, parent: Any) -> None:
        from chorus.adapters.outbox import OutboxRelay

        self.relay = OutboxRelay(get_settings().outbox_poll_seconds)
        self.relay.start()

    def stop(self, parent: Any) -> None:
        if self.relay is not None:
            self.relay.stop()


app.steps["worker"].add(OutboxRelayStep)


class OutboxScheduler(PersistentScheduler):
    """Beat that records each periodic task in the outbox instead of publishing it: a broker outage delays a sweep
    until the relay can publish it, instead of skipping it."""

    def apply_async(
        self, entry: ScheduleEntry, producer: Any = None, advance: bool = True, **_: Any
    ) -> AsyncResult[Any]:
        from chorus.adapters.outbox import queue_task
        from chorus.db import task_session

        due: Any = self.reserve(entry) if advance else entry
        with task_session() as session:
            task_id = queue_task(session, str(due.task), *(due.args or ()), **(due.kwargs or {}))
            session.commit()
        return AsyncResult(str(task_id), app=self.app)


@worker_process_init.connect
def _forget_inherited_engines(**_: Any) -> None:
    """A forked pool process must not share its parent's database connections."""
    from chorus.db import dispose_engines

    dispose_engines()
