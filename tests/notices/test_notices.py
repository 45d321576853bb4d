"""Notices when a student's case moves (issue 15 §1, §5), end to end: the real backend (its own worker off),
two `python -m backend.services.notices` workers racing, the real WeChat channel in a real `rasa run`
(binding, 关闭通知/开启通知, the 48-hour window) and the fake WeChat API. SQLite, and PostgreSQL when
TEST_POSTGRES_URL is set."""

from __future__ import annotations

import datetime as dt
import http.server
import os
import signal
import threading
import time
import uuid
from collections import Counter
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy import create_engine, text

from system import VENV_PY
from tests.backend.helpers import _postgres_db
from tests.channels.channels_harness import WECHAT_APPSECRET, ChannelStack, signed_query, text_xml

pytestmark = pytest.mark.slow
TEMPLATE_ID = "TPL-notice-test"
LEASE = 8  # seconds a worker's claim holds (production: 120)


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def ns(request, tmp_path_factory):
    drop = None
    tmp = tmp_path_factory.mktemp(f"notices-{request.param}")
    if request.param == "postgres":
        base = os.environ.get("TEST_POSTGRES_URL")
        if not base:
            if os.environ.get("REQUIRE_POSTGRES") == "1":
                pytest.fail("REQUIRE_POSTGRES=1 but TEST_POSTGRES_URL is not set")
            pytest.skip("TEST_POSTGRES_URL not set (PostgreSQL runs in CI)")
        url, drop = _postgres_db(base)
    today_file = tmp / "today.txt"
    today_file.write_text("")
    s = ChannelStack(
        tmp,
        extra_env={
            "NOTICE_WORKER": "0",  # only the two worker processes below deliver
            "NOTICE_POLL_SECONDS": "0.2",
            "NOTICE_SWEEP_SECONDS": "0.5",
            "NOTICE_LEASE_SECONDS": str(LEASE),
            "NOTICE_RETRY_SECONDS": "0.5",
            "WECHAT_NOTICE_TEMPLATE_ID": TEMPLATE_ID,
            "TODAY_FILE": str(today_file),
        },
    )
    if request.param == "postgres":
        s.system.database_url = url
    s.today_file = today_file
    s.db = create_engine(s.system.database_url.replace("postgresql://", "postgresql+psycopg://"))
    try:
        s.start()
        for name in ("notices-a", "notices-b"):
            s.system._spawn(name, [str(VENV_PY), "-m", "backend.services.notices"])
        yield s
    finally:
        s.stop()
        s.db.dispose()
        if drop:
            drop()


def api(ns, token=None) -> httpx.Client:
    return httpx.Client(
        base_url=ns.backend_url,
        trust_env=False,
        timeout=15,
        headers={"Authorization": f"Bearer {token}"} if token else {},
    )


def staff(ns, staff_id: str) -> httpx.Client:
    r = httpx.post(f"{ns.backend_url}/api/auth/dev-login", json={"staff_id": staff_id}, trust_env=False)
    return api(ns, r.json()["access_token"])


def wechat(ns, openid: str, content: str) -> str:
    r = httpx.post(
        ns.wechat,
        params=signed_query(ns.wechat_token),
        content=text_xml(openid, content).encode(),
        timeout=15,
    )
    assert r.status_code == 200, r.text
    import xml.etree.ElementTree as ET

    return ET.fromstring(r.text).findtext("Content")


def bind(ns, sid: str) -> tuple[str, httpx.Client]:
    me = api(ns, ns.login(sid))
    code = me.post("/api/me/wechat/bind-code").json()["code"]
    oid = "o" + uuid.uuid4().hex[:27]
    assert "绑定成功" in wechat(ns, oid, code)
    return oid, me


def messages_to(ns, oid: str) -> list[str]:
    """Every notice that reached the openid: customer-service texts and template messages."""
    out = [m["text"]["content"] for m in ns.wechat_api.sent if m.get("touser") == oid]
    out += [
        "template:" + m["template_id"] + ":" + m["data"]["remark"]["value"]
        for m in ns.wechat_api.templates
        if m.get("touser") == oid
    ]
    return out


def wait_for(ns, oid: str, word: str, timeout: float = 20) -> list[str]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = [m for m in messages_to(ns, oid) if word in m]
        if got:
            time.sleep(1.0)  # both workers poll several times more: a second copy would show up now
            return [m for m in messages_to(ns, oid) if word in m]
        time.sleep(0.1)
    raise AssertionError(f"no notice with {word!r} to {oid}: {messages_to(ns, oid)}")


def rows(ns, sql: str, **params) -> list:
    with ns.db.connect() as c:
        return list(c.execute(text(sql), params))


def review(ns, who: str, sid: str, approve: bool, reason: str | None = None, version: int | None = None):
    st = api(ns, ns.login(sid)).get("/api/me/destination").json()
    c = staff(ns, who)
    rec = c.get(f"/api/staff/records/destination/{st['id']}").json()
    return c.post(
        f"/api/staff/records/destination/{st['id']}/review",
        json={"approve": approve, "reason": reason, "version": version or rec["version"]},
    )


def test_review_decisions_reach_wechat_once_and_the_widget_api(ns):
    oid, me = bind(ns, "2025000002")  # submitted, waiting for the college
    # a refused change leaves no notice (the notice is written in the state change's transaction)
    r = review(ns, "counselor-computer", "2025000002", True, version=999)
    assert r.status_code == 409 and r.json()["code"] == "stale_version"
    assert me.get("/api/me/notices").json()["notices"] == []

    assert review(ns, "counselor-computer", "2025000002", True).status_code == 200
    assert len(wait_for(ns, oid, "已通过学院审核")) == 1
    r = review(ns, "school-admin", "2025000002", False, reason="单位名称与就业协议不一致")
    assert r.status_code == 200, r.text
    got = wait_for(ns, oid, "未通过学校审核")
    assert len(got) == 1 and "原因：单位名称与就业协议不一致" in got[0] and got[0].startswith("【")
    assert all("template:" not in m for m in messages_to(ns, oid))  # inside the 48 h window: customer service

    body = me.get("/api/me/notices").json()
    titles = [n["title"] for n in body["notices"]]
    assert titles == ["毕业去向登记：学校审核未通过", "毕业去向登记：学院审核通过"]  # newest first
    assert body["has_unread"] and not any(n["read"] for n in body["notices"])
    ids = [n["id"] for n in body["notices"]]

    # another student cannot mark them read (the student comes from the token only); no token: 401
    other = api(ns, ns.login("2025000004"))
    assert other.post("/api/me/notices/read", json={"ids": ids}).json() == {"marked": 0}
    assert api(ns).post("/api/me/notices/read", json={"ids": ids}).status_code == 401
    assert all(not n["read"] for n in me.get("/api/me/notices").json()["notices"])
    for bad in (
        {"ids": []},
        {"ids": ["x"]},
        {"ids": ids, "student_id": "2025000004"},
        {"ids": [2**40]},
        {"ids": list(range(1, 202))},
        {"ids": [0]},
    ):
        r = me.post("/api/me/notices/read", json=bad)
        assert r.status_code == 422 and r.json()["code"] and r.json()["message"], r.text
    assert me.post("/api/me/notices/read", json={"ids": ids}).json() == {"marked": 2}
    after = me.get("/api/me/notices").json()
    assert not after["has_unread"] and all(n["read"] for n in after["notices"])


def test_the_day_mailing_becomes_possible_is_noticed_once(ns):
    oid, me = bind(ns, "2025000007")  # confirmed today: mailing possible from the next working day
    frm = me.get("/api/me/status").json()["mailing"]["eligible_from"]
    ns.today_file.write_text(max(frm, pinned_today(ns).isoformat()))
    got = wait_for(ns, oid, "可以申请档案邮寄")
    assert len(got) == 1
    time.sleep(1.5)  # several sweeps by both workers
    assert rows(ns, "select count(*) from notices where student_id='2025000007' and kind='mailing_open'") == [
        (1,)
    ]
    assert len([m for m in messages_to(ns, oid) if "可以申请档案邮寄" in m]) == 1


def test_notices_off_by_chat_command_and_template_outside_the_window(ns):
    oid, me = bind(ns, "2025000005")  # confirmed on the national platform: may request mailing
    assert "已关闭" in wechat(ns, oid, "关闭通知")
    assert me.get("/api/me/notices").json()["wechat"] == {"enabled": False, "bound": True}
    r = me.post("/api/me/mailing", headers={"Idempotency-Key": uuid.uuid4().hex})
    assert r.status_code == 201, r.text
    mid = r.json()["request"]["id"]
    school = staff(ns, "school-admin")
    assert school.post(f"/api/staff/mailing/{mid}/ship", json={"ems_no": "1151234567890"}).status_code == 200
    deadline = time.monotonic() + 20
    while (
        not rows(
            ns,
            "select 1 from notices where student_id='2025000005' and kind='shipped' "
            "and wechat_state='skipped'",
        )
        and time.monotonic() < deadline
    ):
        time.sleep(0.1)
    assert rows(ns, "select wechat_error from notices where student_id='2025000005' and kind='shipped'") == [
        ("turned_off",)
    ]
    assert not [m for m in messages_to(ns, oid) if "寄出" in m]
    assert "档案已寄出" in [
        n["title"] for n in me.get("/api/me/notices").json()["notices"]
    ]  # the widget has it

    assert "已开启" in wechat(ns, oid, "开启通知")
    # three days later the student has not written: outside the 48-hour window, a template message
    ns.today_file.write_text((pinned_today(ns) + dt.timedelta(days=3)).isoformat())
    assert school.post(f"/api/staff/mailing/{mid}/deliver").status_code == 200
    got = wait_for(ns, oid, "档案已送达")
    assert got == [
        f"template:{TEMPLATE_ID}:你的档案已送达（EMS单号 1151234567890）。"
        "如有疑问请联系学院就业工作负责老师。"
    ]


def test_unbound_openid_cannot_change_notices(ns):
    reply = wechat(ns, "o" + uuid.uuid4().hex[:27], "关闭通知")
    assert "未绑定" in reply
    r = httpx.post(
        f"{ns.backend_url}/api/integration/wechat/notices",
        json={"openid": "x", "enabled": False},
        trust_env=False,
    )
    assert r.status_code == 401 and r.json()["code"] == "not_authenticated"


def test_deadline_reminders_go_to_the_students_concerned_each_once(ns):
    school, counselor = staff(ns, "school-admin"), staff(ns, "counselor-physics")
    due = (pinned_today(ns) + dt.timedelta(days=30)).isoformat()
    r = counselor.post(
        "/api/staff/notices/deadlines",
        json={"title": "毕业去向修改截止", "due_on": due, "audience": "all", "college_code": "computer"},
    )
    assert r.status_code == 403 and r.json()["code"]
    r = school.post(
        "/api/staff/notices/deadlines",
        json={"title": "毕业去向修改截止", "due_on": "2000-01-01", "audience": "all"},
    )
    assert r.status_code == 422 and r.json()["fields"][0]["field"] == "due_on"
    r = school.post(
        "/api/staff/notices/deadlines", json={"title": "x", "due_on": due, "audience": "everyone"}
    )
    assert r.status_code == 422 and r.json()["code"]
    r = school.post("/api/staff/notices/deadlines", json={"title": "   ", "due_on": due, "audience": "all"})
    assert r.status_code == 422 and r.json()["fields"][0]["field"] == "title"

    # only the computer college's students whose destination is not through the school review: 2025000002
    r = school.post(
        "/api/staff/notices/deadlines",
        json={
            "title": "计算机学院毕业去向登记截止",
            "due_on": due,
            "audience": "destination_open",
            "college_code": "computer",
        },
    )
    assert r.status_code == 201 and r.json()["students"] == 1, r.text
    concerned = [sid for (sid,) in rows(ns, "select student_id from notices where kind='deadline'")]
    assert concerned == ["2025000002"]

    # many notices at once, two workers racing: each goes out exactly once
    bound = dict(rows(ns, "select student_id, openid from wechat_bindings"))
    for i in range(8):
        r = school.post(
            "/api/staff/notices/deadlines",
            json={"title": f"第{i}批材料提交截止", "due_on": due, "audience": "all"},
        )
        assert r.status_code == 201 and r.json()["students"] >= 7
    deadline = time.monotonic() + 30
    while rows(ns, "select 1 from notices where wechat_state='pending'") and time.monotonic() < deadline:
        time.sleep(0.2)
    time.sleep(1.0)
    for sid, oid in bound.items():
        texts = [m for m in messages_to(ns, oid) if "材料提交截止" in m]
        counts = Counter(texts)
        assert len(counts) == 8 and set(counts.values()) == {1}, (sid, counts)
    sent = rows(ns, "select wechat_state, count(*) from notices where kind='deadline' group by wechat_state")
    assert dict(sent).get("pending", 0) == 0
    workers = {
        w
        for (w,) in rows(
            ns, "select distinct wechat_claimed_by from notices where wechat_claimed_by is not null"
        )
    }
    assert len(workers) >= 1


def test_a_deadline_close_by_reminds_the_students_it_still_concerns(ns):
    school = staff(ns, "school-admin")
    pinned = pinned_today(ns)
    r = school.post(
        "/api/staff/notices/deadlines",
        json={
            "title": "计算机学院去向登记补交截止",
            "due_on": (pinned + dt.timedelta(days=2)).isoformat(),
            "audience": "destination_open",
            "college_code": "computer",
        },
    )
    assert r.status_code == 201 and r.json()["students"] == 1
    did = r.json()["id"]
    oid = dict(rows(ns, "select student_id, openid from wechat_bindings"))["2025000002"]
    got = wait_for(ns, oid, "计算机学院去向登记补交截止将于")
    assert len(got) == 1  # (outside the 48 h window by now: a template message)
    time.sleep(1.0)
    assert rows(
        ns,
        "select student_id, event_key from notices where event_key like :k order by event_key",
        k=f"deadline:{did}%",
    ) == [("2025000002", f"deadline:{did}"), ("2025000002", f"deadline:{did}:soon")]


def test_notices_written_while_the_workers_are_down_go_out_once_after_a_restart(ns):
    for name in ("notices-a", "notices-b"):
        ns.system.stop_one(name)
    school = staff(ns, "school-admin")
    due = (pinned_today(ns) + dt.timedelta(days=40)).isoformat()
    r = school.post(
        "/api/staff/notices/deadlines", json={"title": "重启期间的材料截止", "due_on": due, "audience": "all"}
    )
    assert r.status_code == 201
    time.sleep(1.0)
    bound = dict(rows(ns, "select student_id, openid from wechat_bindings"))
    assert all(not [m for m in messages_to(ns, oid) if "重启期间" in m] for oid in bound.values())
    assert rows(
        ns, "select count(*) from notices where title like '%重启期间%' and wechat_state='pending'"
    ) == [(7,)]
    for name in ("notices-a", "notices-b"):
        ns.system._spawn(name, [str(VENV_PY), "-m", "backend.services.notices"])
    for oid in bound.values():
        assert len(wait_for(ns, oid, "重启期间")) == 1
    assert rows(
        ns, "select count(*) from notices where title like '%重启期间%' and wechat_state='pending'"
    ) == [(0,)]


# --- a worker that dies between claim and send; transient and permanent WeChat errors -----------------------
class HangingWeChat:
    """A WeChat API whose access-token answer never ends (a byte a second, so no read timeout fires, until
    `release`): a worker pointed at it has claimed a notice and is stuck before sending it, the moment a
    crash is worst. Anything it is asked to send is recorded."""

    def __init__(self) -> None:
        self.asked, self.release, self.sent = threading.Event(), threading.Event(), []
        hole = self

        class H(http.server.BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_GET(self):
                hole.asked.set()
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", "100000")
                self.end_headers()
                try:
                    while not hole.release.wait(1.0):
                        self.wfile.write(b" ")
                        self.wfile.flush()
                except OSError:  # the worker was killed
                    pass
                self.close_connection = True  # the body ends short: the worker's call fails

            def do_POST(self):
                hole.sent.append(self.path)
                self.send_response(503)
                self.end_headers()

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.release.set()
        self.httpd.shutdown()
        self.httpd.server_close()


def pinned_today(ns) -> dt.date:
    """The backend's date: its pinned day, else today in Beijing (backend.core.clock), never the test's own
    UTC date (a day behind from 16:00 UTC)."""
    from backend.core.clock import now_on

    raw = ns.today_file.read_text().strip()
    return dt.date.fromisoformat(raw) if raw else now_on(None).date()


def management_deadline(ns, title: str) -> int:
    """A deadline that concerns only 2025000006 (the one student of the management college)."""
    r = staff(ns, "school-admin").post(
        "/api/staff/notices/deadlines",
        json={
            "title": title,
            "due_on": (pinned_today(ns) + dt.timedelta(days=30)).isoformat(),
            "audience": "all",
            "college_code": "management",
        },
    )
    assert r.status_code == 201 and r.json()["students"] == 1, r.text
    return rows(ns, "select id from notices where title like :t", t=f"%{title}%")[0][0]


def state(ns, nid: int):
    return rows(
        ns,
        "select wechat_state, wechat_via, wechat_attempts, wechat_error, wechat_claimed_by "
        "from notices where id=:i",
        i=nid,
    )[0]


def wait_state(ns, nid: int, *states: str, timeout: float = 30):
    deadline = time.monotonic() + timeout
    while state(ns, nid)[0] not in states and time.monotonic() < deadline:
        time.sleep(0.1)
    return state(ns, nid)


@pytest.fixture(scope="module")
def oid6(ns):
    oid, _ = bind(ns, "2025000006")
    return oid


def test_a_worker_killed_between_claim_and_send_leaves_the_notice_to_another_once(ns, oid6):
    for name in ("notices-a", "notices-b"):
        ns.system.stop_one(name)
    hole = HangingWeChat()
    try:
        doomed = ns.system._spawn(
            "notices-doomed",
            [str(VENV_PY), "-m", "backend.services.notices"],
            extra_env={"WECHAT_API_BASE": hole.url},
        )
        nid = management_deadline(ns, "被中断的材料截止")
        assert hole.asked.wait(30), "the doomed worker never tried to send"
        st, _, attempts, _, by = state(ns, nid)
        assert st == "pending" and attempts == 1 and f":{doomed.pid}:" in by  # claimed, not sent
        os.killpg(doomed.pid, signal.SIGKILL)  # dies between claim and send
        doomed.wait(10)
        ns.system.procs.pop("notices-doomed", None)
        killed_at = time.monotonic()
        for name in ("notices-a", "notices-b"):
            ns.system._spawn(name, [str(VENV_PY), "-m", "backend.services.notices"])
        got = wait_for(ns, oid6, "被中断的材料截止", timeout=LEASE + 30)
        assert len(got) == 1, got
        assert time.monotonic() - killed_at >= LEASE - 2  # not before the dead worker's lease ran out
        time.sleep(1.5)  # both workers poll several times more: no second copy
        assert len([m for m in messages_to(ns, oid6) if "被中断的材料截止" in m]) == 1
        st, via, attempts, error, by = state(ns, nid)
        assert (st, via, attempts, error) == ("sent", "cs", 2, None) and f":{doomed.pid}:" not in by
        assert hole.sent == []
    finally:
        hole.close()


def test_a_worker_stuck_past_its_lease_does_not_overwrite_the_result_when_it_wakes_up(ns, oid6):
    """Not dead, only stuck (a WeChat call that hangs): another worker takes the notice over after the lease
    and sends it; the stuck one, when it wakes up, records nothing over it."""
    for name in ("notices-a", "notices-b"):
        ns.system.stop_one(name)
    hole = HangingWeChat()
    try:
        ns.system._spawn(
            "notices-stuck",
            [str(VENV_PY), "-m", "backend.services.notices"],
            extra_env={"WECHAT_API_BASE": hole.url},
        )
        nid = management_deadline(ns, "卡住的发送截止")
        assert hole.asked.wait(30), "the stuck worker never tried to send"
        stuck_claim = state(ns, nid)[4]
        for name in ("notices-a", "notices-b"):
            ns.system._spawn(name, [str(VENV_PY), "-m", "backend.services.notices"])
        assert len(wait_for(ns, oid6, "卡住的发送截止", timeout=LEASE + 30)) == 1
        assert state(ns, nid)[:3] == ("sent", "cs", 2)
        # the stuck worker's call fails now: it would schedule a retry if the claim were its own
        hole.release.set()
        log = ns.system.log_dir / "notices-stuck.log"
        deadline = time.monotonic() + 15
        while "outlived its lease" not in log.read_text() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert f"notice {nid} outlived its lease" in log.read_text()
        st, via, attempts, error, by = state(ns, nid)
        assert (st, via, attempts, error) == ("sent", "cs", 2, None) and by != stuck_claim
        assert len([m for m in messages_to(ns, oid6) if "卡住的发送截止" in m]) == 1
    finally:
        ns.system.stop_one("notices-stuck")
        hole.close()


def test_a_transient_wechat_error_is_retried_and_the_notice_arrives_once(ns, oid6):
    ns.wechat_api.reject_next_send_with = 45009  # "reach max api daily quota limit": try again later
    nid = management_deadline(ns, "重试后送达的截止")
    got = wait_for(ns, oid6, "重试后送达的截止")
    assert len(got) == 1 and ns.wechat_api.reject_next_send_with == 0
    assert state(ns, nid)[:4] == ("sent", "cs", 2, None)


def test_a_permanent_wechat_error_is_recorded_and_not_retried(ns, oid6):
    ns.wechat_api.reject_next_send_with = 43004  # the student unsubscribed from the account
    nid = management_deadline(ns, "已取消关注时的截止")
    st, via, attempts, error, _ = wait_state(ns, nid, "sent", "failed")
    assert (st, attempts) == ("failed", 1) and "43004" in error and "unsubscribed" in error
    time.sleep(2.0)  # several polls of both workers: no retry, no template either
    assert state(ns, nid)[:3] == ("failed", None, 1)
    assert not [m for m in messages_to(ns, oid6) if "已取消关注时的截止" in m]


def test_window_closed_on_wechat_side_falls_back_to_the_template_message(ns, oid6):
    ns.wechat_api.fail_sends = True  # every customer-service message: 45015 response out of time limit
    try:
        nid = management_deadline(ns, "窗口关闭后的截止")
        got = wait_for(ns, oid6, "窗口关闭后的截止")
    finally:
        ns.wechat_api.fail_sends = False
    assert len(got) == 1 and got[0].startswith(f"template:{TEMPLATE_ID}:")
    st, via, attempts, error, _ = state(ns, nid)
    assert (st, via, attempts) == ("sent", "template", 1) and "45015" in error


def test_stale_claims_of_dead_workers_go_out_once_with_two_workers_racing(ns, oid6):
    """Many notices claimed by a worker that died long ago (claims older than the lease) and fresh ones at
    once."""
    for name in ("notices-a", "notices-b"):
        ns.system.stop_one(name)
    ids = [management_deadline(ns, f"第{i}批遗留通知") for i in range(6)]
    shanghai = ZoneInfo("Asia/Shanghai")  # the backend's clock: the pinned day, the real time of day
    at = dt.datetime.combine(pinned_today(ns), dt.datetime.now(shanghai).timetz()) - dt.timedelta(hours=1)
    if ns.db.dialect.name == "sqlite":
        at = at.replace(tzinfo=None)  # stored as the wall time
    with ns.db.begin() as c:
        c.execute(
            text(
                "update notices set wechat_claimed_at=:at, wechat_claimed_by='dead-host:1:gone#1', "
                "wechat_attempts=1 where id in (" + ",".join(map(str, ids[:4])) + ")"
            ),
            {"at": at},
        )
    for name in ("notices-a", "notices-b"):
        ns.system._spawn(name, [str(VENV_PY), "-m", "backend.services.notices"])
    for i in range(6):
        assert len(wait_for(ns, oid6, f"第{i}批遗留通知")) == 1
    time.sleep(1.0)
    assert Counter(m for m in messages_to(ns, oid6) if "遗留通知" in m).most_common(1)[0][1] == 1
    assert [state(ns, i)[:3] for i in ids] == [("sent", "cs", 2)] * 4 + [("sent", "cs", 1)] * 2


def test_the_worker_logs_hold_neither_the_app_secret_nor_access_tokens(ns):
    logs = sorted(ns.system.log_dir.glob("notices-*.log"))
    assert logs and any("outlived its lease" in p.read_text() for p in logs)  # the workers did log
    for p in logs:
        text_ = p.read_text()
        # masked, not silenced (contracts/logs.py): request lines stay, values go
        assert WECHAT_APPSECRET not in text_ and "access_token=AT" not in text_, p.name
