"""Request bodies are capped at 1 MiB before they are buffered: a declared Content-Length above the cap is
answered 413 at once, without reading the body; a chunked body is counted while it streams and answered 413
as soon as it passes the cap. Raw sockets, so the test controls exactly what is sent and when."""

from __future__ import annotations

import socket
import threading
import time
from urllib.parse import urlparse

import pytest

from tests.backend.helpers import err

MIB = 1024 * 1024


def _connect(srv) -> socket.socket:
    u = urlparse(srv.base)
    sock = socket.create_connection((u.hostname, u.port), timeout=10)
    return sock


def _read_response(sock: socket.socket, timeout: float = 10) -> tuple[int, dict, bytes]:
    import json

    sock.settimeout(timeout)
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {k.strip().lower(): v.strip() for k, v in (ln.split(":", 1) for ln in lines[1:] if ":" in ln)}
    n = int(headers.get("content-length", "0"))
    while len(rest) < n:
        chunk = sock.recv(65536)
        if not chunk:
            break
        rest += chunk
    return status, headers, json.loads(rest[:n] or b"{}")


def _head(path: str, token: str, extra: str) -> bytes:
    return (
        f"PUT {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n"
        f"Content-Type: application/json\r\n{extra}\r\n"
    ).encode()


def _check_413(status: int, body: dict) -> None:
    assert status == 413, (status, body)
    assert body["code"] == "too_large" and "1 MiB" in body["message"] and "请" in body["message"], body


def test_declared_40_mb_body_is_refused_before_it_is_read(srv):
    token = srv.token(student_id="2025000001")
    with _connect(srv) as sock:
        sock.sendall(_head("/api/me/profile", token, f"Content-Length: {40 * MIB}\r\n") + b'{"mobile": "')
        t0 = time.monotonic()
        status, _, body = _read_response(sock, timeout=5)  # no more body sent: the old code waited for it
        _check_413(status, body)
        assert time.monotonic() - t0 < 3


def test_real_40_mb_body_gets_413(srv):
    token = srv.token(student_id="2025000001")
    payload = b'{"mobile": "' + b"1" * (40 * MIB) + b'"}'
    with _connect(srv) as sock:
        sent = {"n": 0}

        def send():
            try:
                sock.sendall(_head("/api/me/profile", token, f"Content-Length: {len(payload)}\r\n"))
                view = memoryview(payload)
                while sent["n"] < len(payload):
                    sent["n"] += sock.send(view[sent["n"] : sent["n"] + 65536])
            except OSError:
                pass  # the server closed the connection after its 413: the rest is never read

        t = threading.Thread(target=send, daemon=True)
        t.start()
        status, _, body = _read_response(sock, timeout=20)
        _check_413(status, body)
        t.join(20)
    srv.http.get("/api/health").raise_for_status()  # still serving


def test_chunked_body_is_counted_while_it_streams(srv):
    token = srv.token(student_id="2025000001")
    with _connect(srv) as sock:
        sock.sendall(_head("/api/me/profile", token, "Transfer-Encoding: chunked\r\n"))
        chunk = b"1" * 65536
        for _ in range(20):  # 1.25 MiB, and no terminating chunk: the old code waited for the end
            sock.sendall(b"%x\r\n" % len(chunk) + chunk + b"\r\n")
        status, _, body = _read_response(sock, timeout=5)
        _check_413(status, body)


@pytest.mark.parametrize("size", [MIB - 200])
def test_body_under_the_cap_is_read(srv, size):
    with srv.student("2025000001") as c:
        body = '{"class_name": "' + "1" * size + '"}'
        r = c.put("/api/me/profile", content=body.encode(), headers={"Content-Type": "application/json"})
        err(r, 422, "validation_error")  # read and validated, not refused for its size
        r = c.put(
            "/api/me/profile",
            content=b'{"x": "' + b"1" * (MIB + 10) + b'"}',
            headers={"Content-Type": "application/json"},
        )
        e = err(r, 413, "too_large")
        assert "1 MiB" in e["message"]
