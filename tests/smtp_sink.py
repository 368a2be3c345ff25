"""An SMTP server for tests that keeps what it receives and can stall before accepting a mail, as a slow mail server
does, until the test releases it: aiosmtpd (a dev dependency) in a thread of its own."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Iterator
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from chorus.config import get_settings
from tests.servers import free_port

STALL_LIMIT = 20  # seconds: below smtplib's 30 s timeout in the mailer, so a forgotten release fails a test, not hangs


class SmtpSink:
    """The server's handler: ``messages`` it accepted; with ``stall``, each mail waits at the end of DATA (the sender
    waiting for the 250) until ``release()``, and ``stalled`` is set while one waits."""

    def __init__(self, *, stall: bool) -> None:
        self.messages: list[EmailMessage] = []
        self.stalled = threading.Event()
        self._released = threading.Event()
        if not stall:
            self._released.set()

    def release(self) -> None:
        self._released.set()

    async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd's hook
        self.stalled.set()
        released = await asyncio.to_thread(self._released.wait, STALL_LIMIT)
        if not released:
            return "451 the test never released this mail"
        message = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(message, EmailMessage)
        self.messages.append(message)
        return "250 OK"


@contextlib.contextmanager
def smtp_sink(
    monkeypatch: pytest.MonkeyPatch, *, stall: bool = False, sink: SmtpSink | None = None
) -> Iterator[SmtpSink]:
    """Run a sink (``sink``, a subclass with its own answers, or a plain one) and point CHORUS_SMTP_URL at it for the
    block (the app, the worker thread and tasks applied in the test all read it); the mail is released when the block
    ends, so no sender is left waiting."""
    sink = sink or SmtpSink(stall=stall)
    server = Controller(sink, hostname="127.0.0.1", port=free_port())
    server.start()
    with monkeypatch.context() as patch:
        patch.setenv("CHORUS_SMTP_URL", f"smtp://127.0.0.1:{server.port}")
        get_settings.cache_clear()
        try:
            yield sink
        finally:
            sink.release()
            server.stop()
    get_settings.cache_clear()
