"""The embedded mode's broker: kombu's SQLAlchemy transport over an SQLite file, made usable.

kombu's transport polls once a second, hands every transport option to ``create_engine`` and keeps consumed
messages forever. This one polls every 50 ms and waits at most 0.5 s per round (so a stopping worker stops soon),
opens SQLite in WAL mode with a busy timeout, and deletes a message as it hands it out. Limits: no ``celery
inspect`` or revoke, and a killed worker loses its task. Production uses RabbitMQ.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kombu.transport import sqlalchemy as sqla
from kombu.transport.virtual import Empty
from kombu.utils.json import loads
from sqlalchemy import Engine, create_engine, event, text

WAIT_LIMIT = 0.5


class Channel(sqla.Channel):
    def _engine_from_config(self) -> Engine:
        url = str(self.connection.client.hostname)  # type: ignore[union-attr]
        database = url.split(":///", 1)[-1]
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30})

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        return engine

    def _get(self, queue: str, timeout: float | None = None) -> Any:
        """Take the oldest message and delete it in one write transaction, so no two consumers get it."""
        queue_row = self._get_or_create(queue)  # type: ignore[attr-defined]
        self.session.execute(text("BEGIN IMMEDIATE TRANSACTION"))
        try:
            message = (
                self.session.query(self.message_cls)
                .filter(self.message_cls.queue_id == queue_row.id)
                .order_by(self.message_cls.sent_at, self.message_cls.id)
                .first()
            )
            if message is None:
                raise Empty()
            payload = message.payload
            self.session.delete(message)
            return loads(payload if isinstance(payload, str) else payload.decode())
        finally:
            self.session.commit()


class Transport(sqla.Transport):
    Channel = Channel
    polling_interval = 0.05

    def drain_events(self, connection: Any, timeout: float | None = None) -> None:  # type: ignore[override]
        """Wait at most half a second per round, so a stopping worker notices within that (Celery asks for 2 s)."""
        super().drain_events(connection, timeout=min(timeout or WAIT_LIMIT, WAIT_LIMIT))
