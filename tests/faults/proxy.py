"""A TCP proxy that injects faults between chorus and one of the machine's services.

``cut()`` resets every open connection and every new one, as a crashed server or a pulled cable would;
``partition()`` keeps connections open but moves no byte, and new ones are accepted and left hanging, as a network
that drops packets would; ``heal()`` lets bytes flow again (a partition's connections resume where they stopped).
The machine's services are never stopped: only the path to them is.
"""

from __future__ import annotations

import contextlib
import selectors
import socket
import struct
import threading
from typing import Literal

State = Literal["open", "cut", "partitioned"]
CHUNK = 65536


def _reset(sock: socket.socket) -> None:
    """Close with an RST rather than a FIN: the peer sees ``connection reset``, as when a server dies."""
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    with contextlib.suppress(OSError):
        sock.close()


class FaultProxy:
    """Listens on 127.0.0.1:``port`` and forwards to ``upstream``; one thread per connection."""

    def __init__(self, name: str, upstream_host: str, upstream_port: int) -> None:
        self.name = name
        self.upstream = (upstream_host, upstream_port)
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._listener.getsockname()[1]
        self.state: State = "open"
        self._flowing = threading.Event()
        self._flowing.set()
        self._lock = threading.Lock()
        self._sockets: set[socket.socket] = set()
        self._closed = False
        threading.Thread(target=self._accept, name=f"fault-proxy-{name}", daemon=True).start()

    def cut(self) -> None:
        with self._lock:
            self.state = "cut"
            doomed, self._sockets = self._sockets, set()
        self._flowing.set()  # threads waiting out a partition see the cut and end
        for sock in doomed:
            _reset(sock)

    def partition(self) -> None:
        with self._lock:
            self.state = "partitioned"
            self._flowing.clear()

    def heal(self) -> None:
        with self._lock:
            self.state = "open"
            self._flowing.set()

    def close(self) -> None:
        self._closed = True
        self.cut()
        with contextlib.suppress(OSError):
            self._listener.close()

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _track(self, sock: socket.socket) -> bool:
        with self._lock:
            if self.state == "cut":
                return False
            self._sockets.add(sock)
            return True

    def _serve(self, client: socket.socket) -> None:
        if not self._track(client):
            _reset(client)
            return
        self._flowing.wait()  # a connection made during a partition hangs until it heals (or is cut)
        try:
            upstream = socket.create_connection(self.upstream, timeout=5)
        except OSError:
            _reset(client)
            return
        if not self._track(upstream):
            _reset(client)
            _reset(upstream)
            return
        self._pump(client, upstream)

    def _pump(self, client: socket.socket, upstream: socket.socket) -> None:
        peer = {client: upstream, upstream: client}
        with selectors.DefaultSelector() as selector:
            for sock in peer:
                sock.setblocking(True)
                selector.register(sock, selectors.EVENT_READ)
            try:
                while True:
                    self._flowing.wait()
                    if self.state == "cut":
                        return
                    for key, _ in selector.select(timeout=0.1):
                        if not self._flowing.is_set():
                            break  # partitioned while selecting: the bytes wait in the kernel
                        source: socket.socket = key.fileobj  # type: ignore[assignment]
                        data = source.recv(CHUNK)
                        if not data:
                            return
                        peer[source].sendall(data)
            except OSError:
                return
            finally:
                with self._lock:
                    self._sockets.discard(client)
                    self._sockets.discard(upstream)
                for sock in peer:
                    with contextlib.suppress(OSError):
                        sock.close()
