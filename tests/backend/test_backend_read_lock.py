"""SQLite: read-only requests (GET) do not take the write lock; writes still do and queue behind each other.

A second connection holds SQLite's write lock (BEGIN IMMEDIATE) the whole time: a GET still answers at once
(before, every request began with BEGIN IMMEDIATE and waited for the lock), a POST waits until it is released.
"""

from __future__ import annotations

import sqlite3
import threading
import time

import pytest

from tests.backend.helpers import new_student, ok


@pytest.fixture
def write_lock(srv, db_kind):
    if db_kind != "sqlite":
        pytest.skip("SQLite locking only")
    conn = sqlite3.connect(srv.db_url.split("///", 1)[1], timeout=10, isolation_level=None)
    conn.execute("BEGIN IMMEDIATE")
    yield conn
    conn.execute("ROLLBACK")
    conn.close()


def test_reads_do_not_wait_for_a_writer_and_writes_do(srv, db_kind, request):
    if db_kind != "sqlite":
        pytest.skip("SQLite locking only")
    sid = new_student(srv)
    with srv.student(sid) as c:
        ok(c.get("/api/me/status"))  # token and connection warm
        lock = request.getfixturevalue("write_lock")
        t0 = time.monotonic()
        for path in ("/api/me/status", "/api/me", "/api/me/mailing", "/api/me/wechat"):
            ok(c.get(path, timeout=5))
        assert time.monotonic() - t0 < 3

        done: dict = {}

        def write():
            done["r"] = c.post("/api/me/wechat/bind-code", timeout=30)

        t = threading.Thread(target=write)
        t.start()
        time.sleep(1.0)
        assert "r" not in done, "a write went through while another connection held the write lock"
        lock.execute("COMMIT")
        lock.execute("BEGIN")  # the fixture's ROLLBACK needs an open transaction
        t.join(30)
        assert ok(done["r"])["code"]
