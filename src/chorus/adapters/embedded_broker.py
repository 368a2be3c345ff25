"""The broker of the embedded mode: kombu's SQLAlchemy transport over an SQLite file, made usable.

kombu's transport polls once a second, passes every transport option (``polling_interval`` included) on to
``create_engine`` and keeps consumed messages forever. This one polls often, opens SQLite in WAL mode with a
busy timeout, and deletes a message as it hands it to a worker. Production uses RabbitMQ instead.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kombu.transport import sqlalchemy as sqla
from kombu.transport.virtual import Empty
from kombu.utils.json import loads
from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Engine

POLLING_INTERVAL = 0.05


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
        queue_row = self._get_or_create(queue)  # type: ignore[attr-defined]
        self.session.execute(text("BEGIN IMMEDIATE TRANSACTION"))
        try:
            message = (
                self.session.query(self.message_cls)
                .filter(self.message_cls.queue_id == queue_row.id)
                .order_by(self.message_cls.sent_at, self.message_cls.id)
                .limit(1)
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
    polling_interval = POLLING_INTERVAL
