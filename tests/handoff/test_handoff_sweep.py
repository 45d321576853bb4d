"""The queue's timeout without the student (docs/handoff.md): a backend whose sweep runs every few tenths of a
second times out conversations nobody took within HANDOFF_WAIT_MINUTES although the student says nothing more:
a student who wrote while queued gets a ticket, the others' queue is closed, the widget's poll shows why, the
audit log names the system; a conversation taken before, or not yet waiting long enough, is left alone."""

from __future__ import annotations

import datetime as dt
import threading
import time
import uuid

import pytest

from tests.backend.helpers import BASE_TODAY, database_urls, new_student, ok, start_backend, stop_backend
from tests.handoff.helpers import anon, ask_person, say


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def swept(request, tmp_path_factory):
    tmp = tmp_path_factory.mktemp(f"handoff-sweep-{request.param}")
    db_url, drop = database_urls(tmp, request.param)
    srv = start_backend(
        db_url,
        tmp,
        extra_env={
            "HANDOFF_HOURS": "00:00-24:00",
            "NOTICE_WORKER": "0",
            "HANDOFF_WORKER": "0",
            "HANDOFF_SWEEP_SECONDS": "0.3",
            "HANDOFF_WAIT_MINUTES": "30",
        },
    )
    yield srv
    stop_backend(srv)
    drop()


def state_of(srv, hid: int) -> str:
    with srv.staff("school-admin") as c:
        return ok(c.get(f"/api/staff/handoff/{hid}"))["state"]


def wait_for_state(srv, hid: int, state: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while (got := state_of(srv, hid)) != state:
        assert time.monotonic() < deadline, f"session {hid} still {got!r}, expected {state!r}"
        time.sleep(0.2)


def test_the_sweep_times_out_the_queue_without_a_further_message(swept):
    srv = swept
    srv.set_today(BASE_TODAY)
    writer = new_student(srv, college="physics")
    quiet = new_student(srv, college="physics")
    held = new_student(srv, college="physics")
    h_writer = ok(ask_person(srv, f"student:{writer}", writer))["session_id"]
    assert say(srv, f"student:{writer}", "我的问题是档案转递")["stored"]
    h_quiet = ok(ask_person(srv, f"student:{quiet}", quiet))["session_id"]
    visitor = anon()
    a = ok(ask_person(srv, visitor))
    h_anon, secret = a["session_id"], a["secret"]
    oid = "wechat:o" + uuid.uuid4().hex[:27]
    h_wechat = ok(ask_person(srv, oid, channel="wechat"))["session_id"]
    assert say(srv, oid, "报到证怎么改派", channel="wechat")["stored"]
    h_held = ok(ask_person(srv, f"student:{held}", held))["session_id"]
    with srv.staff("counselor-physics") as c:
        assert ok(c.post(f"/api/staff/handoff/{h_held}/take"))["state"] == "active"
    time.sleep(1.0)  # a few sweeps: none of them is overdue yet
    assert {state_of(srv, h) for h in (h_writer, h_quiet, h_anon, h_wechat)} == {"waiting"}

    srv.set_today(BASE_TODAY + dt.timedelta(days=1))  # far past HANDOFF_WAIT_MINUTES; nobody writes
    fresh = new_student(srv, college="physics")
    h_fresh = ok(ask_person(srv, f"student:{fresh}", fresh))["session_id"]  # queued just now
    wait_for_state(srv, h_writer, "ticket_open")
    wait_for_state(srv, h_quiet, "closed")
    wait_for_state(srv, h_anon, "closed")
    wait_for_state(srv, h_wechat, "ticket_open")
    time.sleep(1.0)
    assert state_of(srv, h_held) == "active" and state_of(srv, h_fresh) == "waiting"

    # the widget's poll tells each student what happened
    with srv.student(writer) as c:
        got = ok(c.get("/api/handoff/messages"))
    assert got["session"]["state"] == "ticket_open" and "作为留言转给老师" in got["messages"][-1]["text"]
    with srv.student(quiet) as c:
        got = ok(c.get("/api/handoff/messages"))
    assert got["session"]["state"] == "closed" and "老师暂时没有接入" in got["messages"][-1]["text"]
    got = ok(srv.http.get("/api/handoff/messages", headers={"X-Handoff-Secret": secret}))
    assert got["session"]["state"] == "closed" and "老师暂时没有接入" in got["messages"][-1]["text"]
    # the counselor finds the ticket with what the student wrote; the WeChat user's notice waits for delivery
    with srv.staff("counselor-physics") as c:
        row = next(
            x
            for x in ok(c.get("/api/staff/handoff", params={"view": "tickets"}))["sessions"]
            if x["id"] == h_writer
        )
        assert row["last_student_text"] == "我的问题是档案转递"
        assert h_writer not in [
            x["id"] for x in ok(c.get("/api/staff/handoff", params={"view": "queue"}))["sessions"]
        ]
    with srv.staff("school-admin") as c:
        last = ok(c.get(f"/api/staff/handoff/{h_wechat}"))["messages"][-1]
        assert last["sender"] == "system" and "老师会尽快在这里回复你" in last["text"]
        assert last["wechat_state"] == "pending"
        audit = ok(c.get("/api/staff/audit", params={"student_id": writer, "limit": 1000}))["items"]
    entry = next(x for x in audit if x["entity"] == "handoff" and x["action"] == "timeout_ticket")
    assert (entry["actor_role"], entry["actor_id"]) == ("system", "handoff-sweep")
    assert sum(1 for x in audit if x["action"] in ("timeout_ticket", "timeout_close")) == 1  # exactly once

    # the next messages go to the bot without a second timeout; the taken conversation still holds its
    # messages
    assert say(srv, f"student:{writer}", "还在吗？") == {"held": False}
    assert say(srv, visitor, "有人吗") == {"held": False}
    assert say(srv, f"student:{held}", "老师好")["held"] is True


def test_a_take_racing_the_sweep_wins_or_loses_cleanly(swept):
    """Counselors take overdue conversations while the sweep times them out: each one ends exactly one way
    (taken: active, no timeout; not taken: 409 and one timeout), never both, never a 500."""
    srv = swept
    srv.set_today(BASE_TODAY)
    students = [new_student(srv, college="physics") for _ in range(12)]
    hids = {}
    for sid in students:
        hids[sid] = ok(ask_person(srv, f"student:{sid}", sid))["session_id"]
        assert say(srv, f"student:{sid}", "想问一下三方协议")["stored"]
    results: dict[str, int] = {}

    def take(sid: str) -> None:
        with srv.staff("counselor-physics") as c:
            results[sid] = c.post(f"/api/staff/handoff/{hids[sid]}/take").status_code

    srv.set_today(BASE_TODAY + dt.timedelta(days=2))  # all overdue: the sweep and the takes race
    threads = [threading.Thread(target=take, args=(sid,)) for sid in students]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for sid in students:
        assert results[sid] in (200, 409), results
        if results[sid] == 409:
            wait_for_state(srv, hids[sid], "ticket_open")
    time.sleep(1.0)  # a few more sweeps
    with srv.staff("school-admin") as c:
        for sid in students:
            actions = [
                x["action"]
                for x in ok(c.get("/api/staff/audit", params={"student_id": sid, "limit": 1000}))["items"]
                if x["entity"] == "handoff"
            ]
            timeouts = actions.count("timeout_ticket") + actions.count("timeout_close")
            if results[sid] == 200:
                assert state_of(srv, hids[sid]) == "active" and timeouts == 0 and actions.count("take") == 1
            else:
                assert state_of(srv, hids[sid]) == "ticket_open" and timeouts == 1 and "take" not in actions
