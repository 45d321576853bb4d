"""The restore drill (issue 23 §5), on SQLite and PostgreSQL, against the real processes: chat (a conversation
and a request for a person), a staff answer edit (answer history), the seeded records and mailing requests;
stop; `python -m backend.cli backup`; wipe the databases; `restore`; every row of every table is back (the
app's and Rasa's conversations), and the restarted backend serves them."""

from __future__ import annotations

import os
import subprocess
import sys

import httpx
import pytest
from sqlalchemy import create_engine, inspect, text

from system import System, dev_login, say
from tests.backend.helpers import ROOT, database_urls

STUDENT = "2025000006"  # seeded with a shipped mailing request


def snapshot(url: str) -> dict:
    """Every row of every table, as sorted text (comparable across a restore)."""
    engine = create_engine(url)
    try:
        with engine.connect() as c:
            return {
                t: sorted(repr(tuple(r)) for r in c.execute(text(f'SELECT * FROM "{t}"')))
                for t in inspect(c).get_table_names()
            }
    finally:
        engine.dispose()


def cli(system: System, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "backend.cli", *args],
        cwd=ROOT,
        env=system.child_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )


def wipe(system: System) -> None:
    env = system.child_env()
    if system.database_url.startswith("sqlite"):
        for url in (system.database_url, env["TRACKER_DB_URL"]):
            path = url[len("sqlite:///") :]
            for suffix in ("", "-wal", "-shm"):
                if os.path.exists(path + suffix):
                    os.remove(path + suffix)
    else:
        engine = create_engine(system.database_url)
        with engine.begin() as c:
            c.execute(text("DROP SCHEMA public CASCADE"))
            c.execute(text("CREATE SCHEMA public"))
        engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def drill(request, tmp_path):
    db_url, drop = database_urls(tmp_path, request.param)
    system = System(database_url=db_url, log_dir=tmp_path / "log")
    try:
        yield system, tmp_path
    finally:
        system.stop()
        drop()


def test_backup_wipe_restore_brings_everything_back(drill):
    system, tmp = drill
    system.start()
    token = dev_login(system.backend_url, STUDENT)
    sender = f"drill-{STUDENT}"
    assert say(system.rest_webhook, sender, "生源地是什么意思", token)
    assert "排队" in " ".join(m.get("text") or "" for m in say(system.rest_webhook, sender, "转人工", token))
    staff = httpx.post(f"{system.backend_url}/api/auth/dev-login", json={"staff_id": "school-admin"}).json()
    h = {"Authorization": f"Bearer {staff['access_token']}"}
    key = "utter_backend_unavailable"  # one variation (utter_greet has one more for signed-in students)
    cur = httpx.get(f"{system.backend_url}/api/staff/answers/{key}", headers=h).json()
    r = httpx.put(
        f"{system.backend_url}/api/staff/answers/{key}",
        headers=h,
        json={
            "base_version": cur["version"],
            "variations": [{"text": "服务暂时不可用（备份演练改过的措辞）。"}],
        },
    )
    assert r.status_code == 200, r.text
    system.stop()

    tracker_url = system.child_env()["TRACKER_DB_URL"].replace("postgresql+psycopg2", "postgresql+psycopg")
    before = snapshot(system.database_url)
    conversations = snapshot(tracker_url)
    for table in (
        "students",
        "destinations",
        "archives",
        "mailing_requests",
        "handoff_sessions",
        "answer_versions",
        "turn_log",
        "audit_log",
    ):
        assert before.get(table), f"nothing in {table} to back up"
    # a signed-in student's conversation is kept under student:<id> (bot/channels)
    assert any(f"student:{STUDENT}" in row for row in conversations["events"]), (
        "no conversation in the tracker"
    )
    assert any(key in row and "school-admin" in row for row in before["answer_versions"])  # the edit

    out = cli(system, "backup", str(tmp / "bk"))
    assert out.returncode == 0, out.stderr
    assert (tmp / "bk" / "manifest.json").exists()
    wipe(system)
    assert not snapshot(system.database_url).get("mailing_requests")

    refused = cli(system, "restore", str(tmp / "bk"))
    assert refused.returncode == 2 and "--yes" in refused.stderr
    out = cli(system, "restore", str(tmp / "bk"), "--yes")
    assert out.returncode == 0, out.stderr
    assert snapshot(system.database_url) == before
    assert snapshot(tracker_url) == conversations

    # the restored database serves: the student's mailing request and the counselor's queue are back
    system.start_backend()
    token = dev_login(system.backend_url, STUDENT)
    mine = httpx.get(
        f"{system.backend_url}/api/me/mailing", headers={"Authorization": f"Bearer {token}"}
    ).json()
    assert mine["request"] and mine["request"]["state"] == "shipped"


def test_restore_of_something_that_is_not_a_backup_is_refused(tmp_path):
    out = subprocess.run(
        [sys.executable, "-m", "backend.cli", "restore", str(tmp_path), "--yes"],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'app.db'}"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 1 and "not a backup" in out.stderr and "Traceback" not in out.stderr
