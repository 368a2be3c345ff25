"""A minimal SMTP server for fault tests (standard library only): it records each completed transaction and can hold
every conversation that reaches DATA until released, so a test knows its task is mid-send when it strikes.

A transaction counts once the server has answered the final ``250`` to its message; one cut before that (a killed
client) is not counted. No TLS and no authentication are offered, so chorus's mailer sends in the clear.
"""

from __future__ import annotations

import contextlib
import io
import socket
import threading
import time
from dataclasses import dataclass


@dataclass(frozen=True)
class Transaction:
    sender: str
    recipients: tuple[str, ...]
    data: bytes


def _address(argument: str) -> str:
    """``TO:<a@b>`` or ``FROM:<a@b> BODY=8BITMIME`` → ``a@b``."""
    return argument.partition(":")[2].strip().split(" ", 1)[0].strip("<>")


class HoldingSmtpServer:
    """Listens on 127.0.0.1:``port``, one thread per conversation."""

    def __init__(self) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._listener.getsockname()[1]
        self.transactions: list[Transaction] = []
        self.held = 0  # conversations waiting at DATA right now
        self._changed = threading.Condition()
        self._holding = False
        self._closed = False
        threading.Thread(target=self._accept, name="smtp-sink", daemon=True).start()

    def hold(self) -> None:
        """From now on, a conversation that sends DATA waits there (no ``354``) until ``release()``."""
        with self._changed:
            self._holding = True

    def release(self) -> None:
        with self._changed:
            self._holding = False
            self._changed.notify_all()

    def wait_until_held(self, timeout: float) -> None:
        with self._changed:
            if not self._changed.wait_for(lambda: self.held > 0, timeout):
                raise AssertionError(f"no SMTP conversation reached DATA within {timeout} s")

    def delivered_to(self, address: str) -> int:
        with self._changed:
            return sum(address in transaction.recipients for transaction in self.transactions)

    def wait_for(self, address: str, count: int, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        with self._changed:
            while (delivered := self.delivered_to(address)) < count:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"{delivered} mails to {address} within {timeout} s, expected {count}")
                self._changed.wait(remaining)

    def close(self) -> None:
        with self._changed:
            self._closed = True
            self._holding = False
            self._changed.notify_all()
        with contextlib.suppress(OSError):
            self._listener.close()

    def _accept(self) -> None:
        while not self._closed:
            try:
                connection, _ = self._listener.accept()
            except OSError:
                return
            threading.Thread(target=self._converse, args=(connection,), daemon=True).start()

    def _converse(self, connection: socket.socket) -> None:
        connection.settimeout(60)
        with connection, connection.makefile("rb") as lines:
            try:
                connection.sendall(b"220 smtp-sink ESMTP\r\n")
                self._commands(connection, lines)
            except OSError:
                return  # the client went away mid-conversation: nothing it sent is counted

    def _commands(self, connection: socket.socket, lines: io.BufferedReader) -> None:
        sender = ""
        recipients: list[str] = []
        for raw in lines:
            verb, _, argument = raw.decode("ascii", "replace").rstrip("\r\n").partition(" ")
            verb = verb.upper()
            if verb in {"EHLO", "HELO"}:
                connection.sendall(b"250-smtp-sink\r\n250 8BITMIME\r\n" if verb == "EHLO" else b"250 smtp-sink\r\n")
            elif verb == "MAIL":
                sender, recipients = _address(argument), []
                connection.sendall(b"250 OK\r\n")
            elif verb == "RCPT":
                recipients.append(_address(argument))
                connection.sendall(b"250 OK\r\n")
            elif verb == "DATA":
                self._wait_while_held()
                connection.sendall(b"354 end with <CRLF>.<CRLF>\r\n")
                data = self._message(lines)
                connection.sendall(b"250 OK queued\r\n")
                with self._changed:
                    self.transactions.append(Transaction(sender, tuple(recipients), data))
                    self._changed.notify_all()
                sender, recipients = "", []
            elif verb in {"RSET", "NOOP"}:
                connection.sendall(b"250 OK\r\n")
            elif verb == "QUIT":
                connection.sendall(b"221 bye\r\n")
                return
            else:
                connection.sendall(b"502 not implemented\r\n")

    def _wait_while_held(self) -> None:
        with self._changed:
            if not self._holding:
                return
            self.held += 1
            self._changed.notify_all()
            self._changed.wait_for(lambda: not self._holding)
            self.held -= 1

    @staticmethod
    def _message(lines: io.BufferedReader) -> bytes:
        """The message up to the lone ``.``, dot-stuffing undone; EOF first means the client died mid-message."""
        body: list[bytes] = []
        for raw in lines:
            if raw in {b".\r\n", b".\n"}:
                return b"".join(body)
            body.append(raw[1:] if raw.startswith(b"..") else raw)
        raise ConnectionAbortedError("the message ended before its final '.'")
