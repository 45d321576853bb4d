"""Handoff sessions keep what students wrote: closed ones follow the turn log's retention
(TURN_LOG_RETENTION_DAYS, default 180 days; `python -m backend.cli purge`), over real HTTP against the real
backend (SQLite and PostgreSQL). Own module: the purge runs with "today" 200 days ahead and would remove the
other modules' sessions."""

from __future__ import annotations

import datetime as dt

from tests.backend.helpers import BASE_TODAY, err, new_student, ok
from tests.handoff.helpers import ask_person, say

SECRET_TEXT = "我的手机号是13912345678，档案寄到哪里了？"


def chat(srv, college: str = "physics", close: bool = True) -> tuple[str, int]:
    sid = new_student(srv, college=college)
    conv = f"student:{sid}"
    hid = ok(ask_person(srv, conv, sid))["session_id"]
    assert say(srv, conv, SECRET_TEXT)["stored"]  # queued: kept for the counselor (and answered by the bot)
    if close:
        with srv.staff(f"counselor-{college}") as c:
            ok(c.post(f"/api/staff/handoff/{hid}/take"))
            ok(c.post(f"/api/staff/handoff/{hid}/reply", json={"text": "已帮你查到。"}))
            ok(c.post(f"/api/staff/handoff/{hid}/close"))
    return sid, hid


def audit(srv, sid: str) -> list[dict]:
    with srv.staff("school-admin") as c:
        items = ok(c.get("/api/staff/audit", params={"student_id": sid, "limit": 1000}))["items"]
    return [a for a in items if a["entity"] == "handoff"]


def test_closed_sessions_older_than_the_retention_are_purged(srv):
    old_sid, old = chat(srv)  # closed today
    held_sid, held = chat(srv, close=False)  # still waiting: never purged, however old
    srv.set_today(BASE_TODAY + dt.timedelta(days=100))
    _, recent = chat(srv)  # closed 100 days later
    srv.set_today(BASE_TODAY + dt.timedelta(days=200))

    r = srv.cli("purge")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "'handoff_sessions_deleted': 1" in r.stdout and "'handoff_messages_deleted': " in r.stdout, (
        r.stdout
    )
    with srv.staff("counselor-physics") as c:
        err(c.get(f"/api/staff/handoff/{old}"), 404, "not_found")
        assert old not in [
            x["id"] for x in ok(c.get("/api/staff/handoff", params={"view": "closed"}))["sessions"]
        ]
        got = ok(c.get(f"/api/staff/handoff/{recent}"))
        assert SECRET_TEXT in [m["text"] for m in got["messages"]]
        got = ok(c.get(f"/api/staff/handoff/{held}"))
        assert got["state"] == "waiting" and SECRET_TEXT in [m["text"] for m in got["messages"]]
    # the audit keeps who did what and when, without the text
    entries = audit(srv, old_sid)
    assert [a["action"] for a in entries] == ["request", "student_message", "take", "reply", "close"]
    assert SECRET_TEXT not in str(entries) and "已帮你查到" not in str(entries)
    assert SECRET_TEXT in str(audit(srv, held_sid))
    # the student's widget shows nothing of the old session
    with srv.student(old_sid) as c:
        assert ok(c.get("/api/handoff/messages"))["session"] is None

    # a shorter retention takes the recent one too; the held one stays
    r = srv.cli("purge", extra_env={"TURN_LOG_RETENTION_DAYS": "30"})
    assert "'handoff_sessions_deleted': 1" in r.stdout, r.stdout
    with srv.staff("counselor-physics") as c:
        err(c.get(f"/api/staff/handoff/{recent}"), 404, "not_found")
        ok(c.get(f"/api/staff/handoff/{held}"))
