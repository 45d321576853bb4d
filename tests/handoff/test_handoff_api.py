"""A person in the chat (issue 15 §2), the backend's side over real HTTP: the queue and its scope (a
counselor sees their college only, the career center the anonymous ones), the held conversation, two
counselors racing for one conversation, the widget's poll, office-hours tickets, and the audit log."""

from __future__ import annotations

import datetime as dt
import threading
import uuid

from tests.backend.helpers import err, new_student, ok
from tests.handoff.helpers import INTEGRATION, SATURDAY, SERVICE, anon, ask_person, say


def bot_said(srv, conversation: str, session_id, texts, channel: str = "web", headers=INTEGRATION):
    return srv.http.post(
        "/api/integration/handoff/bot",
        headers=headers,
        json={"conversation": conversation, "channel": channel, "session_id": session_id, "texts": texts},
    )


def audit_actions(srv, student_id: str) -> list[str]:
    with srv.staff("school-admin") as c:
        items = ok(c.get("/api/staff/audit", params={"student_id": student_id, "limit": 1000}))["items"]
    return [a["action"] for a in items if a["entity"] == "handoff"]


def test_signed_in_student_reaches_their_colleges_counselor_only(srv):
    sid = new_student(srv, college="physics")
    conv = f"student:{sid}"
    out = ok(ask_person(srv, conv, sid))
    assert out["state"] == "waiting" and not out["already"] and "secret" not in out
    # asking again (a retried action, a second Rasa process) keeps one session
    again = ok(ask_person(srv, conv, sid))
    assert again["already"] and again["session_id"] == out["session_id"]
    hid = out["session_id"]

    # in the queue: the student's messages are kept for the counselor AND the bot answers them
    queued = say(srv, conv, "我的档案到底寄到哪里了？")
    assert queued == {"held": False, "stored": True, "state": "waiting", "session_id": hid}
    # the channel stores the bot's answer to it for the counselor too
    ok(bot_said(srv, conv, hid, ["档案由学院寄出，可在“档案去向”查询。"]))

    with srv.staff("counselor-physics") as c:
        queue = ok(c.get("/api/staff/handoff"))
        row = next(x for x in queue["sessions"] if x["id"] == hid)
        assert row["student"]["id"] == sid and row["state"] == "waiting"
        assert row["last_student_text"] == "我的档案到底寄到哪里了？"
        detail = ok(c.get(f"/api/staff/handoff/{hid}"))
        assert detail["transcript"][0] == {"who": "student", "text": "档案寄到哪里"}  # the chat so far
        assert [(m["sender"], m["text"]) for m in detail["messages"]] == [
            ("student", "我的档案到底寄到哪里了？"),
            ("bot", "档案由学院寄出，可在“档案去向”查询。"),
        ]
        assert detail["messages"][1]["wechat_state"] == "none"
    # another college's counselor: not in their queue, and every route answers as if it did not exist
    with srv.staff("counselor-computer") as c:
        assert hid not in [x["id"] for x in ok(c.get("/api/staff/handoff"))["sessions"]]
        err(c.get(f"/api/staff/handoff/{hid}"), 404, "not_found")
        err(c.post(f"/api/staff/handoff/{hid}/take"), 404, "not_found")
        err(c.post(f"/api/staff/handoff/{hid}/reply", json={"text": "你好"}), 404, "not_found")
        err(c.post(f"/api/staff/handoff/{hid}/close"), 404, "not_found")
    # a student cannot use the staff routes
    with srv.student(sid) as c:
        err(c.get("/api/staff/handoff"), 403, "forbidden")

    with srv.staff("counselor-physics") as c:
        taken = ok(c.post(f"/api/staff/handoff/{hid}/take"))
        assert taken["state"] == "active" and taken["staff_id"] == "counselor-physics"
        ok(c.post(f"/api/staff/handoff/{hid}/reply", json={"text": "  已帮你查到，档案昨天寄出。 "}))
    # a person holds it now: the message is kept for them and the bot is not asked
    held = say(srv, conv, "好的，谢谢老师")
    assert held["held"] and held["state"] == "active" and held["reply"] is None

    # the widget (signed in: its web token) gets the counselor's messages, not the student's own
    with srv.student(sid) as c:
        polled = ok(c.get("/api/handoff/messages"))
        assert polled["session"]["state"] == "active"
        texts = [m["text"] for m in polled["messages"]]
        assert any("已接入" in t for t in texts) and "已帮你查到，档案昨天寄出。" in texts
        assert "我的档案到底寄到哪里了？" not in texts
        assert "档案由学院寄出，可在“档案去向”查询。" not in texts  # the bot's answer was shown by the chat
        assert {m["sender"] for m in polled["messages"]} == {"system", "staff"}
        last = polled["messages"][-1]["id"]
        assert ok(c.get("/api/handoff/messages", params={"after": last}))["messages"] == []
    # another student's token sees nothing of it
    other = new_student(srv, college="physics")
    with srv.student(other) as c:
        assert ok(c.get("/api/handoff/messages"))["session"] is None

    with srv.staff("counselor-physics") as c:
        closed = ok(c.post(f"/api/staff/handoff/{hid}/close"))
        assert closed["state"] == "closed"
        err(c.post(f"/api/staff/handoff/{hid}/reply", json={"text": "还在吗"}), 409, "wrong_state")
        err(c.post(f"/api/staff/handoff/{hid}/close"), 409, "wrong_state")
    # the bot answers again
    assert say(srv, conv, "档案邮寄怎么申请") == {"held": False}
    with srv.student(sid) as c:
        assert ok(c.get("/api/handoff/messages"))["messages"][-1]["text"].startswith("老师已结束人工咨询")

    actions = audit_actions(srv, sid)
    assert actions == ["request", "student_message", "take", "reply", "student_message", "close"], actions


def test_two_counselors_take_the_same_conversation_one_wins(srv):
    sid = new_student(srv, college="physics")
    hid = ok(ask_person(srv, f"student:{sid}", sid))["session_id"]
    # a second counselor of the same college (the demo has one per college; the school's staff may take too)
    results: list = []
    barrier = threading.Barrier(2)

    def take(staff_id: str) -> None:
        c = srv.staff(staff_id)
        barrier.wait()
        results.append((staff_id, c.post(f"/api/staff/handoff/{hid}/take")))

    threads = [threading.Thread(target=take, args=(s,)) for s in ("counselor-physics", "school-admin")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    codes = sorted(r.status_code for _, r in results)
    assert codes == [200, 409], [(s, r.status_code, r.text) for s, r in results]
    winner = next(s for s, r in results if r.status_code == 200)
    loser_resp = next(r for s, r in results if r.status_code == 409)
    assert loser_resp.json()["code"] == "already_taken" and "老师已接入" in loser_resp.json()["message"]
    loser = "school-admin" if winner == "counselor-physics" else "counselor-physics"
    # only the holder replies
    with srv.staff(loser) as c:
        err(c.post(f"/api/staff/handoff/{hid}/reply", json={"text": "我来"}), 409, "not_holder")
    with srv.staff(winner) as c:
        ok(c.post(f"/api/staff/handoff/{hid}/reply", json={"text": "我来处理"}))
    assert audit_actions(srv, sid).count("take") == 1


def test_anonymous_conversation_goes_to_the_career_center_with_a_secret(srv):
    conv = anon()
    out = ok(ask_person(srv, conv))
    assert out["state"] == "waiting" and len(out["secret"]) >= 24
    hid = out["session_id"]
    with srv.staff("counselor-physics") as c:
        assert hid not in [x["id"] for x in ok(c.get("/api/staff/handoff"))["sessions"]]
        err(c.post(f"/api/staff/handoff/{hid}/take"), 404, "not_found")
    with srv.staff("school-admin") as c:
        row = next(x for x in ok(c.get("/api/staff/handoff"))["sessions"] if x["id"] == hid)
        assert row["student"] is None
        ok(c.post(f"/api/staff/handoff/{hid}/take"))
        ok(c.post(f"/api/staff/handoff/{hid}/reply", json={"text": "你好，我是就业指导中心的老师。"}))
    # the widget reads with its secret; a wrong secret or none gets nothing
    got = ok(srv.http.get("/api/handoff/messages", headers={"X-Handoff-Secret": out["secret"]}))
    assert got["messages"][-1]["text"] == "你好，我是就业指导中心的老师。"
    err(srv.http.get("/api/handoff/messages", headers={"X-Handoff-Secret": "x" * 32}), 404, "not_found")
    err(srv.http.get("/api/handoff/messages"), 401, "not_authenticated")
    # the student ends it: the bot answers again
    assert say(srv, conv, "结束人工")["reply"].startswith("已结束人工咨询")
    assert say(srv, conv, "你好") == {"held": False}


def test_nobody_opens_or_reads_another_students_conversation(srv):
    victim = new_student(srv, college="physics")
    attacker = new_student(srv, college="physics")
    # a student conversation needs that student's token (from the action server with its key)
    err(ask_person(srv, f"student:{victim}"), 403, "forbidden")
    err(ask_person(srv, f"student:{victim}", attacker), 403, "forbidden")
    r = srv.http.post(
        "/api/integration/handoff",
        json={"conversation": anon(), "channel": "web"},
        headers={"X-Actions-Service-Key": "wrong"},
    )
    err(r, 401, "service_key_invalid")
    err(
        srv.http.post("/api/integration/handoff", json={"conversation": anon(), "channel": "web"}),
        401,
        "service_key_invalid",
    )
    # the channels' route needs the integration key
    err(
        srv.http.post(
            "/api/integration/handoff/inbound", json={"conversation": anon(), "channel": "web", "text": "x"}
        ),
        401,
        "not_authenticated",
    )
    # a staff token is not a student's
    with srv.staff("counselor-physics") as c:
        err(c.get("/api/handoff/messages"), 403, "forbidden")


def test_bad_input_gets_a_clear_answer(srv):
    for body in (
        {"conversation": "student:../x", "channel": "web"},
        {"conversation": anon(), "channel": "sms"},
        {"conversation": anon(), "channel": "web", "transcript": [{"who": "admin", "text": "x"}]},
        {"conversation": anon(), "channel": "wechat"},
        {"conversation": anon(), "channel": "web", "x": 1},
    ):
        r = srv.http.post("/api/integration/handoff", headers=SERVICE, json=body)
        err(r, 422, "validation_error")
    with srv.staff("school-admin") as c:
        for sid in ("0", "-1", "99999999999", "abc"):
            assert c.get(f"/api/staff/handoff/{sid}").status_code == 422
        err(c.get("/api/staff/handoff/2147483647"), 404, "not_found")
        err(c.get("/api/staff/handoff", params={"view": "all"}), 422, "validation_error")
        hid = ok(ask_person(srv, anon()))["session_id"]
        ok(c.post(f"/api/staff/handoff/{hid}/take"))
        for text in ("", "   ", "字" * 1001):
            err(c.post(f"/api/staff/handoff/{hid}/reply", json={"text": text}), 422, "validation_error")
    r = srv.http.post(
        "/api/integration/handoff/inbound",
        headers=INTEGRATION,
        json={"conversation": anon(), "channel": "web", "text": ""},
    )
    err(r, 422, "validation_error")


def test_outside_office_hours_a_message_becomes_a_ticket_answered_as_a_notice(srv):
    srv.set_today(SATURDAY)
    sid = new_student(srv, college="physics")
    conv = f"student:{sid}"
    out = ok(ask_person(srv, conv, sid))
    assert out["state"] == "ticket_draft" and "工作日" in out["hours"]
    left = say(srv, conv, "我的户档信息被驳回了，原因看不懂，能帮我看看吗？")
    assert left["held"] and left["state"] == "ticket_open" and "已收到你的留言" in left["reply"]
    assert say(srv, conv, "谢谢") == {"held": False}  # the bot answers again right away
    hid = out["session_id"]

    # an anonymous visitor outside office hours: no ticket (no way to answer them), the hours instead
    closed = ok(ask_person(srv, anon()))
    assert closed["state"] == "closed_hours" and closed["session_id"] is None

    srv.set_today(dt.date(2026, 12, 7))  # Monday
    with srv.staff("counselor-computer") as c:
        assert hid not in [
            x["id"] for x in ok(c.get("/api/staff/handoff", params={"view": "tickets"}))["sessions"]
        ]
    with srv.staff("counselor-physics") as c:
        tickets = ok(c.get("/api/staff/handoff", params={"view": "tickets"}))
        row = next(x for x in tickets["sessions"] if x["id"] == hid)
        assert row["last_student_text"].startswith("我的户档信息被驳回了")
        assert tickets["counts"].get("ticket_open", 0) >= 1
        answered = ok(
            c.post(f"/api/staff/handoff/{hid}/reply", json={"text": "请按驳回原因修改联系电话后重新提交。"})
        )
        assert answered["state"] == "answered"
        err(c.post(f"/api/staff/handoff/{hid}/reply", json={"text": "再说一次"}), 409, "wrong_state")
    with srv.student(sid) as c:
        notices = ok(c.get("/api/me/notices"))["notices"]
    n = next(x for x in notices if x["kind"] == "handoff")
    assert n["title"] == "老师回复了你的留言" and "请按驳回原因修改联系电话后重新提交。" in n["body"]
    assert "我的户档信息被驳回了" in n["body"]
    assert audit_actions(srv, sid) == ["ticket_start", "ticket_left", "ticket_answer"]


def test_a_ticket_can_be_dropped(srv):
    srv.set_today(SATURDAY)
    sid = new_student(srv, college="physics")
    conv = f"student:{sid}"
    assert ok(ask_person(srv, conv, sid))["state"] == "ticket_draft"
    assert say(srv, conv, "取消留言")["state"] == "cancelled"
    assert say(srv, conv, "你好") == {"held": False}


def test_nobody_takes_it_in_time_what_the_student_wrote_becomes_a_ticket(srv):
    sid = new_student(srv, college="physics")
    conv = f"student:{sid}"
    hid = ok(ask_person(srv, conv, sid))["session_id"]
    assert say(srv, conv, "我的问题是档案转递")["stored"]  # queued: kept for the counselor, the bot answers
    srv.set_today(dt.date(2026, 12, 1))  # a day later: far past HANDOFF_WAIT_MINUTES
    out = say(srv, conv, "还在吗？")
    # the bot answers this message; the channel shows the note first
    assert not out["held"] and out["state"] == "ticket_open" and "作为留言转给老师" in out["note"]
    assert say(srv, conv, "你好") == {"held": False}
    with srv.staff("counselor-physics") as c:
        row = next(
            x
            for x in ok(c.get("/api/staff/handoff", params={"view": "tickets"}))["sessions"]
            if x["id"] == hid
        )
        assert row["last_student_text"] == "我的问题是档案转递"
        assert (
            ok(c.post(f"/api/staff/handoff/{hid}/reply", json={"text": "档案会转到单位。"}))["state"]
            == "answered"
        )
    assert "timeout_ticket" in audit_actions(srv, sid)
    # a student who wrote nothing while queued: no empty ticket, the queue just ends
    quiet = new_student(srv, college="physics")
    srv.set_today(dt.date(2026, 12, 1))
    ok(ask_person(srv, f"student:{quiet}", quiet))
    srv.set_today(dt.date(2026, 12, 2))
    out = say(srv, f"student:{quiet}", "你好")
    assert not out["held"] and out["state"] == "closed" and out["note"] is None  # the widget shows why
    with srv.student(quiet) as c:
        got = ok(c.get("/api/handoff/messages"))
    assert got["session"]["state"] == "closed" and "老师暂时没有接入" in got["messages"][-1]["text"]
    # an anonymous visitor: back to the bot, which answers this message; the widget sees why
    conv, srv_today = anon(), dt.date(2026, 12, 1)
    srv.set_today(srv_today)
    secret = ok(ask_person(srv, conv))["secret"]
    srv.set_today(srv_today + dt.timedelta(days=1))
    out = say(srv, conv, "有人吗")
    assert not out["held"] and out["state"] == "closed"
    got = ok(srv.http.get("/api/handoff/messages", headers={"X-Handoff-Secret": secret}))
    assert got["session"]["state"] == "closed" and "老师暂时没有接入" in got["messages"][-1]["text"]


def test_the_student_leaves_the_queue(srv):
    sid = new_student(srv, college="physics")
    conv = f"student:{sid}"
    hid = ok(ask_person(srv, conv, sid))["session_id"]
    out = say(srv, conv, "取消排队")
    assert out["held"] and out["state"] == "closed" and out["reply"].startswith("已结束人工咨询")
    assert say(srv, conv, "你好") == {"held": False}
    with srv.staff("counselor-physics") as c:
        assert hid not in [x["id"] for x in ok(c.get("/api/staff/handoff"))["sessions"]]


def test_a_ticket_draft_expires_and_the_next_message_goes_to_the_bot(srv):
    """HANDOFF_DRAFT_MINUTES (10): "your next message is your message to the teacher" does not last
    forever."""
    srv.set_today(SATURDAY)
    sid = new_student(srv, college="physics")
    conv = f"student:{sid}"
    first = ok(ask_person(srv, conv, sid))
    assert first["state"] == "ticket_draft" and first["draft_minutes"] == 10
    srv.set_today(SATURDAY + dt.timedelta(days=1))  # Sunday: still closed, the draft long expired
    out = say(srv, conv, "档案邮寄怎么申请")
    assert not out["held"] and out["state"] == "cancelled" and "10分钟内没有写留言" in out["note"]
    assert say(srv, conv, "你好") == {"held": False}
    # asking again starts a new draft (the old one is not "already" open)
    again = ok(ask_person(srv, conv, sid))
    assert (
        again["state"] == "ticket_draft"
        and not again["already"]
        and again["session_id"] != first["session_id"]
    )
    # a stale draft nobody wrote to is replaced by a new request too
    srv.set_today(SATURDAY + dt.timedelta(days=2))
    third = ok(ask_person(srv, conv, sid))
    assert not third["already"] and third["session_id"] != again["session_id"]
    with srv.staff("counselor-physics") as c:
        tickets = ok(c.get("/api/staff/handoff", params={"view": "tickets"}))["sessions"]
        assert first["session_id"] not in [x["id"] for x in tickets]
    assert audit_actions(srv, sid).count("ticket_expired") == 2


def test_the_bots_answers_while_queued_are_for_the_counselor_only(srv):
    conv, other = anon(), anon()
    out = ok(ask_person(srv, conv))
    hid, secret = out["session_id"], out["secret"]
    assert say(srv, conv, "没登录能查档案吗")["session_id"] == hid
    ok(bot_said(srv, conv, hid, ["可以查询公开的办理流程。", "登录后可查个人进度。"]))
    assert say(srv, conv, "那怎么登录")["stored"]
    assert ok(bot_said(srv, conv, hid, ["点右上角“登录”。"]))["stored"] == 1
    # the widget (its secret) never gets the bot's answers back as if a teacher wrote them
    assert ok(srv.http.get("/api/handoff/messages", headers={"X-Handoff-Secret": secret}))["messages"] == []
    # bad input: the integration key, another conversation's session, wrong shapes; nothing is stored
    err(bot_said(srv, conv, hid, ["x"], headers={}), 401, "not_authenticated")
    err(bot_said(srv, conv, hid, ["x"], headers={"X-Integration-Key": "wrong"}), 401, "not_authenticated")
    err(bot_said(srv, other, hid, ["冒充的回答"]), 404, "not_found")
    err(bot_said(srv, conv, 2147483647, ["x"]), 404, "not_found")
    for sid, texts, channel in (
        (hid, [], "web"),
        (hid, [""], "web"),
        (hid, ["字" * 4001], "web"),
        (hid, ["x"] * 11, "web"),
        (0, ["x"], "web"),
        ("abc", ["x"], "web"),
        (hid, "x", "web"),
        (hid, ["x"], "wechat"),
        (hid, [1], "web"),
    ):
        err(bot_said(srv, conv, sid, texts, channel), 422, "validation_error")
    with srv.staff("school-admin") as c:
        detail = ok(c.get(f"/api/staff/handoff/{hid}"))
        assert [(m["sender"], m["text"]) for m in detail["messages"]] == [
            ("student", "没登录能查档案吗"),
            ("bot", "可以查询公开的办理流程。"),
            ("bot", "登录后可查个人进度。"),
            ("student", "那怎么登录"),
            ("bot", "点右上角“登录”。"),
        ]
        ok(c.post(f"/api/staff/handoff/{hid}/take"))
        ok(c.post(f"/api/staff/handoff/{hid}/reply", json={"text": "我是老师。"}))
        ok(c.post(f"/api/staff/handoff/{hid}/close"))
    got = ok(srv.http.get("/api/handoff/messages", headers={"X-Handoff-Secret": secret}))["messages"]
    assert [m["sender"] for m in got] == ["system", "staff", "system"]
    # the session has ended: nothing more is kept for it
    err(bot_said(srv, conv, hid, ["晚到的回答"]), 409, "wrong_state")


def test_bots_answers_to_a_wechat_conversation_are_not_sent_to_wechat(srv):
    conv = "wechat:o" + uuid.uuid4().hex[:27]
    hid = ok(ask_person(srv, conv, channel="wechat"))["session_id"]
    assert say(srv, conv, "档案怎么邮寄", channel="wechat")["session_id"] == hid
    ok(bot_said(srv, conv, hid, ["在“档案邮寄”里申请。"], channel="wechat"))
    with srv.staff("school-admin") as c:
        msgs = ok(c.get(f"/api/staff/handoff/{hid}"))["messages"]
    assert [(m["sender"], m["wechat_state"]) for m in msgs] == [("student", "none"), ("bot", "none")]
    # a ticket draft (outside office hours) has no bot answers to keep
    srv.set_today(SATURDAY)
    draft_conv = "wechat:o" + uuid.uuid4().hex[:27]
    draft = ok(ask_person(srv, draft_conv, channel="wechat"))
    assert draft["state"] == "ticket_draft"
    err(bot_said(srv, draft_conv, draft["session_id"], ["x"], channel="wechat"), 409, "wrong_state")
