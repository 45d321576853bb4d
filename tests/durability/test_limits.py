"""Rasa's resource limits (issue 9 §5) against the real processes: request bodies over 64 KiB are refused
before they are read (413), and anonymous conversations expire (TTL shortened here by environment)."""

from __future__ import annotations

import json
import socket
import sqlite3
import time

import pytest

from system import System, dev_login, say

pytestmark = pytest.mark.slow
TTL_S = 3


@pytest.fixture(scope="module")
def system(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("limits")
    s = System(
        database_url=f"sqlite:///{tmp / 'app.db'}",
        log_dir=tmp / "log",
        env={"TRACKER_ANON_TTL_SECONDS": str(TTL_S), "TRACKER_PURGE_INTERVAL_SECONDS": "1"},
    )
    s.start()
    yield s
    s.stop()


def raw_post(port: int, path: str, length: int, sent: bytes, timeout: float = 5.0) -> bytes:
    """POST announcing `length` bytes but sending only `sent`; returns what the server answers in
    `timeout`."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(
            f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            f"Content-Length: {length}\r\n\r\n".encode()
            + sent
        )
        data = b""
        try:
            while b"\r\n\r\n" not in data:
                chunk = s.recv(4096)
                if not chunk:
                    break
                data += chunk
        except TimeoutError:
            pass
        return data


@pytest.mark.parametrize("path", ["/webhooks/rest/webhook", "/webhooks/wechat/webhook"])
def test_oversized_body_is_refused_before_it_is_read(system, path):
    # 10 MB announced, 1 KiB sent: Sanic's 100 MB default would wait for the rest (and buffer it)
    head = raw_post(system.rasa_port, path, 10_000_000, b"{" + b" " * 1023)
    assert head.startswith(b"HTTP/1.1 413"), head[:200]


def test_body_just_over_64_kib_is_refused_and_a_normal_turn_still_works(system):
    body = json.dumps({"sender": "big", "message": "x" * (64 * 1024)}).encode()
    head = raw_post(system.rasa_port, "/webhooks/rest/webhook", len(body), body)
    assert head.startswith(b"HTTP/1.1 413"), head[:200]
    assert "工作日" in str(say(system.rest_webhook, "small", "两级审核通过后多久同步到国家平台"))


def _senders(system) -> set[str]:
    db = system.child_env()["TRACKER_DB_URL"][len("sqlite:///") :]
    with sqlite3.connect(db) as conn:
        return {r[0] for r in conn.execute("SELECT DISTINCT sender_id FROM events")}


def test_anonymous_conversations_expire_and_students_stay(system):
    token = dev_login(system.backend_url, "2025000002")
    say(system.rest_webhook, "idle-visitor", "两级审核通过后多久同步到国家平台")
    say(system.rest_webhook, "ignored", "帮我看看我的进度", token)
    assert {"anon:idle-visitor", "student:2025000002"} <= _senders(system)
    time.sleep(TTL_S + 1.5)
    say(system.rest_webhook, "new-visitor", "推荐表丢了能补吗")  # a save: the periodic purge runs
    deadline = time.monotonic() + 10
    while "anon:idle-visitor" in _senders(system) and time.monotonic() < deadline:
        time.sleep(0.3)
    left = _senders(system)
    assert "anon:idle-visitor" not in left
    assert {"anon:new-visitor", "student:2025000002"} <= left
