"""The fault proxy itself: what the other fault tests rely on it to do."""

from __future__ import annotations

import socket
import time

import pytest

from tests.faults.proxy import FaultProxy


def _echo_server() -> socket.socket:
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(5)
    return server


def _exchange(port: int, payload: bytes, server: socket.socket) -> tuple[socket.socket, socket.socket]:
    client = socket.create_connection(("127.0.0.1", port), timeout=2)
    client.sendall(payload)
    accepted, _ = server.accept()
    accepted.settimeout(2)
    assert accepted.recv(100) == payload
    return client, accepted


def _ended(sock: socket.socket) -> bool:
    """The connection was closed or reset from the other side (never an answer)."""
    try:
        return sock.recv(100) == b""
    except ConnectionResetError:
        return True


def test_bytes_flow_both_ways_until_cut_then_new_connections_are_reset() -> None:
    server = _echo_server()
    proxy = FaultProxy("echo", *server.getsockname())
    try:
        client, accepted = _exchange(proxy.port, b"ping", server)
        accepted.sendall(b"pong")
        assert client.recv(100) == b"pong"
        proxy.cut()
        assert _ended(client)
        try:
            refused = socket.create_connection(("127.0.0.1", proxy.port), timeout=2)
        except ConnectionResetError:
            pass  # reset before the connection was even handed over: ended all the same
        else:
            assert _ended(refused)
        proxy.heal()
        _exchange(proxy.port, b"again", server)
    finally:
        proxy.close()
        server.close()


def test_a_partition_holds_bytes_until_it_heals() -> None:
    server = _echo_server()
    proxy = FaultProxy("echo", *server.getsockname())
    try:
        client, accepted = _exchange(proxy.port, b"ping", server)
        proxy.partition()
        time.sleep(0.3)
        client.sendall(b"held")
        accepted.settimeout(0.5)
        with pytest.raises(TimeoutError):
            accepted.recv(100)
        proxy.heal()
        accepted.settimeout(2)
        assert accepted.recv(100) == b"held"
    finally:
        proxy.close()
        server.close()
