"""Counselors' replies to WeChat with several backend processes (issue 15 §5): two backends on one database
both run the delivery worker against the fake WeChat API; every reply goes out exactly once, and a reply
claimed by a worker that died before recording goes out once after the lease. SQLite and PostgreSQL."""

from __future__ import annotations

import time
import uuid

import pytest
from sqlalchemy.orm import Session

from tests.backend.helpers import (
    BASE_TODAY,
    INTEGRATION_KEY,
    _engine,
    database_urls,
    ok,
    start_backend,
    stop_backend,
)
from tests.channels.channels_harness import WECHAT_APPID, WECHAT_APPSECRET, FakeWeChatAPI

SERVICE = {"X-Actions-Service-Key": "demo-actions-service-key"}


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def two(request, tmp_path_factory):
    tmp = tmp_path_factory.mktemp(f"handoff-two-{request.param}")
    db_url, drop = database_urls(tmp, request.param)
    wx = FakeWeChatAPI().start()
    env = {
        "HANDOFF_HOURS": "00:00-24:00",
        "NOTICE_WORKER": "0",
        "HANDOFF_WORKER": "1",
        "HANDOFF_SWEEP": "0",
        "HANDOFF_POLL_SECONDS": "0.2",
        "HANDOFF_LEASE_SECONDS": "2",
        "WECHAT_APPID": WECHAT_APPID,
        "WECHAT_APPSECRET": WECHAT_APPSECRET,
        "WECHAT_API_BASE": wx.server.url,
    }
    (tmp / "a").mkdir()
    (tmp / "b").mkdir()
    a = start_backend(db_url, tmp / "a", extra_env=env)
    b = start_backend(db_url, tmp / "b", extra_env=env, seed=False)
    yield a, b, wx
    stop_backend(b)
    stop_backend(a)
    wx.close()
    drop()


def open_session(srv, openid: str) -> int:
    out = ok(
        srv.http.post(
            "/api/integration/handoff",
            headers=SERVICE,
            json={"conversation": f"wechat:{openid}", "channel": "wechat", "transcript": []},
        )
    )
    return out["session_id"]


def sent_to(wx, openid: str) -> list[str]:
    return [m["text"]["content"] for m in wx.sent if m.get("touser") == openid]


def wait_for(cond, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.2)


def test_two_backends_send_every_reply_exactly_once(two):
    a, b, wx = two
    openids = ["o" + uuid.uuid4().hex[:27] for _ in range(8)]
    for i, oid in enumerate(openids):
        srv = (a, b)[i % 2]
        hid = open_session(srv, oid)
        with srv.staff("school-admin") as c:
            ok(c.post(f"/api/staff/handoff/{hid}/take"))
            for n in range(3):
                ok(c.post(f"/api/staff/handoff/{hid}/reply", json={"text": f"第{n + 1}条回复"}))
    wait_for(lambda: all(len(sent_to(wx, oid)) >= 4 for oid in openids))
    time.sleep(1.5)  # several more rounds of both workers: nothing goes out again
    for oid in openids:
        got = sent_to(wx, oid)
        assert len(got) == 4, got
        assert "老师已接入" in got[0] and [g.split("】")[-1] for g in got[1:]] == [
            "第1条回复",
            "第2条回复",
            "第3条回复",
        ]
    with a.staff("school-admin") as c:
        hid = open_session(a, openids[0])  # the first was never closed: the same session again
        states = {
            m["wechat_state"]
            for m in ok(c.get(f"/api/staff/handoff/{hid}"))["messages"]
            if m["sender"] != "student"
        }
    assert states == {"sent"}


def test_a_reply_claimed_by_a_dead_worker_goes_out_once_after_the_lease(two):
    from backend import models as M

    a, b, wx = two
    oid = "o" + uuid.uuid4().hex[:27]
    hid = open_session(a, oid)
    with a.staff("school-admin") as c:
        ok(c.post(f"/api/staff/handoff/{hid}/take"))
    wait_for(lambda: len(sent_to(wx, oid)) == 1)
    # what a worker that claimed a reply and died leaves behind: the claim (HANDOFF_LEASE_SECONDS=2 here)
    claimed = a.now()  # the backend's clock (its pinned date), not the wall clock
    with Session(_engine(a.db_url)) as s:
        s.add(
            M.HandoffMessage(
                session_id=hid,
                at=claimed,
                sender="staff",
                staff_id="school-admin",
                text="这条由已退出的进程认领过",
                wechat_state="pending",
                wechat_claimed_at=claimed,
                wechat_claimed_by="dead-worker#1",
                wechat_attempts=1,
            )
        )
        s.commit()
    time.sleep(1.0)
    assert len(sent_to(wx, oid)) == 1  # within the lease: nobody else takes it
    wait_for(lambda: len(sent_to(wx, oid)) == 2, timeout=30)
    time.sleep(1.5)
    got = sent_to(wx, oid)
    assert len(got) == 2 and got[1].endswith("这条由已退出的进程认领过"), got


def test_a_ticket_from_an_unbound_wechat_user_is_answered_by_a_customer_service_message(two):
    from tests.handoff.helpers import SATURDAY

    a, b, wx = two
    oid = "o" + uuid.uuid4().hex[:27]
    try:
        a.set_today(SATURDAY)
        b.set_today(SATURDAY)
        hid = open_session(a, oid)
        out = ok(
            a.http.post(
                "/api/integration/handoff/inbound",
                headers={"X-Integration-Key": INTEGRATION_KEY},
                json={"conversation": f"wechat:{oid}", "channel": "wechat", "text": "周末能办档案吗"},
            )
        )
        assert out["state"] == "ticket_open" and "回复会发到这个公众号" in out["reply"]
    finally:
        a.set_today(BASE_TODAY)
        b.set_today(BASE_TODAY)
    with b.staff("school-admin") as c:
        assert (
            ok(c.post(f"/api/staff/handoff/{hid}/reply", json={"text": "周末不办理，周一来。"}))["state"]
            == "answered"
        )
    wait_for(lambda: len(sent_to(wx, oid)) == 1)
    time.sleep(1.0)
    assert sent_to(wx, oid) == ["【学校就业指导中心孙老师】周末不办理，周一来。"]
