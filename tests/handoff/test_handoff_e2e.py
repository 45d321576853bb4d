"""A person in the chat end to end (issue 15 §2): the real backend, action server and Rasa server (trained
model), the student in a real browser (the demo page's widget) and the counselor in another browser page (the
staff page); the WeChat path against the fake WeChat API; a ticket left outside office hours. In the queue
the bot keeps answering (the messages also reach the counselor); once a counselor takes the conversation the
bot is silent. Office hours are all day on working days: "today" is pinned to a working day or a Saturday (no
result depends on the time of day)."""

from __future__ import annotations

import datetime as dt
import re
import time
import uuid
import xml.etree.ElementTree as ET

import httpx
import pytest

from system import System, latest_model
from tests.backend.helpers import BASE_TODAY
from tests.channels.channels_harness import (
    WECHAT_APPID,
    WECHAT_APPSECRET,
    WECHAT_TOKEN,
    FakeWeChatAPI,
    signed_query,
    text_xml,
)
from tests.handoff.helpers import SATURDAY

pytestmark = pytest.mark.slow
STUDENT = "2025000004"  # physics


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("handoff-e2e")
    wx = FakeWeChatAPI().start()
    today = tmp / "today.txt"
    today.write_text(BASE_TODAY.isoformat())
    system = System(
        database_url=f"sqlite:///{tmp / 'app.db'}",
        log_dir=tmp / "log",
        rasa_api=True,
        env={
            "HANDOFF_HOURS": "00:00-24:00",
            "TODAY_FILE": str(today),
            "WECHAT_TOKEN": WECHAT_TOKEN,
            "WECHAT_APPID": WECHAT_APPID,
            "WECHAT_APPSECRET": WECHAT_APPSECRET,
            "WECHAT_API_BASE": wx.server.url,
            "HANDOFF_POLL_SECONDS": "0.3",
            "NOTICE_POLL_SECONDS": "0.5",
        },
    )
    system.model = latest_model()  # the restart test starts Rasa again with the same model
    system.start(model=system.model)
    system.today_file, system.wx = today, wx
    yield system
    system.stop()
    wx.close()


@pytest.fixture
def today(stack):
    yield lambda d: stack.today_file.write_text(d.isoformat())
    stack.today_file.write_text(BASE_TODAY.isoformat())


def api(stack, **login) -> httpx.Client:
    tok = httpx.post(f"{stack.backend_url}/api/auth/dev-login", json=login, trust_env=False).json()[
        "access_token"
    ]
    return httpx.Client(
        base_url=stack.backend_url, headers={"Authorization": f"Bearer {tok}"}, trust_env=False, timeout=30
    )


def rest(stack, sender: str, text: str, token: str | None = None) -> list[dict]:
    r = httpx.post(
        stack.rest_webhook,
        json={"sender": sender, "message": text, "metadata": {"token": token} if token else {}},
        timeout=60,
        trust_env=False,
    )
    assert r.status_code == 200, r.text
    return r.json()


def user_texts(stack, conversation: str) -> list[str]:
    url = stack.rasa_api_url(f"/conversations/{conversation}/tracker")
    events = httpx.get(url, timeout=30, trust_env=False).json()["events"]
    return [e.get("text") for e in events if e.get("event") == "user"]


def session_of(staff: httpx.Client, view: str = "queue", **match) -> dict:
    deadline = time.monotonic() + 10
    while True:
        for s in staff.get("/api/staff/handoff", params={"view": view}).json()["sessions"]:
            if all((s.get(k) == v) for k, v in match.items()):
                return s
        assert time.monotonic() < deadline, f"no session {match} in {view}"
        time.sleep(0.2)


# --- the browser: student widget + counselor staff page -----------------------------------------------------
@pytest.mark.browser
def test_student_in_the_widget_and_counselor_on_the_staff_page(stack, browser):
    from playwright.sync_api import expect

    ctx_s = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    ctx_t = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    errors: list = []
    try:
        st = ctx_s.new_page()
        st.on("pageerror", lambda e: errors.append(str(e)))
        st.goto(stack.backend_url + "/index.html")
        st.get_by_label("学号").select_option(STUDENT)
        st.get_by_role("button", name=re.compile("登录")).click()
        expect(st.locator("#who")).to_contain_text(STUDENT)
        st.locator("#consult-btn").click()
        dialog = st.get_by_role("dialog", name="智能咨询对话")
        box = st.locator(".zz-input")

        def say(text: str) -> None:
            box.fill(text)
            box.press("Enter")
            expect(st.locator(".zz-send")).to_be_enabled(timeout=30000)

        say("转人工")
        expect(dialog).to_contain_text("已为你排队转接人工服务（你所在学院的辅导员）")
        expect(dialog).to_contain_text("电话")  # a way to reach a person now: the college's contact
        expect(st.locator(".zz-sub")).to_have_text("排队等待老师接入…（可以继续问我）")
        # in the queue the bot keeps answering; the message also goes to the counselor
        n_before, n_fb = st.locator(".zz-msg.zz-bot").count(), st.locator(".zz-log .zz-fb").count()
        say("我的档案寄到哪里了？一直没收到")
        expect(st.locator(".zz-msg.zz-bot")).not_to_have_count(n_before)
        expect(st.locator(".zz-log .zz-fb")).not_to_have_count(n_fb)  # the bot's answer: 👍/👎 as usual
        assert "你的消息已转给老师" not in (st.locator(".zz-msg.zz-bot").last.text_content() or "")
        widget_bot = " ".join(st.locator(".zz-msg.zz-bot").all_text_contents()[n_before:])

        # the counselor, in another browser page
        tp = ctx_t.new_page()
        tp.on("pageerror", lambda e: errors.append(str(e)))
        tp.goto(stack.backend_url + "/staff/")
        tp.locator("#staff-id").select_option("counselor-physics")
        tp.locator("#login-btn").click()
        expect(tp.locator("#who")).to_contain_text("辅导员")
        tp.locator("#tab-handoff").click()
        item = tp.locator("#hq-list button", has_text=STUDENT)
        expect(item).to_contain_text("等待接入")
        expect(item).to_contain_text("我的档案寄到哪里了")
        item.click()
        expect(tp.locator("#hq-transcript")).to_contain_text("转人工")  # the chat so far
        expect(tp.locator("#hq-messages")).to_contain_text("我的档案寄到哪里了？一直没收到")
        # ... and what the assistant answered it, marked as the assistant's, after the student's message
        bot_line = tp.locator("#hq-messages li.hq-bot")
        expect(bot_line.first).to_contain_text("智能助手（自动回答，学生已看到）")
        assert tp.locator("#hq-messages li").evaluate_all("els => els.map(e => e.className)")[:2] == [
            "hq-student",
            "hq-bot",
        ]
        with api(stack, staff_id="counselor-physics") as c:
            sid = session_of(c, last_student_text="我的档案寄到哪里了？一直没收到")["id"]
            msgs = c.get(f"/api/staff/handoff/{sid}").json()["messages"]
        assert msgs[0]["sender"] == "student" and msgs[0]["text"] == "我的档案寄到哪里了？一直没收到"
        bot_said = [m["text"] for m in msgs if m["sender"] == "bot"]
        assert bot_said and all(m["sender"] == "bot" for m in msgs[1 : 1 + len(bot_said)]), msgs
        assert bot_said[0].splitlines()[0][:12] in widget_bot, (bot_said, widget_bot)
        tp.locator("#hq-take").click()
        expect(tp.locator("#hq-reply-form")).to_be_visible()
        tp.locator("#hq-text").fill("你好，我查了一下：你的档案昨天已经由学院寄出，请留意EMS。")
        tp.locator("#hq-send").click()
        expect(tp.locator("#hq-status")).to_have_text("已发送。")

        # the student sees the counselor join and reply in the same window
        expect(dialog).to_contain_text("老师已接入")
        staff_msg = st.locator(".zz-staff", has_text="你的档案昨天已经由学院寄出")
        expect(staff_msg).to_be_visible(timeout=15000)
        expect(st.locator(".zz-sub")).to_contain_text("人工服务中")
        # the bot's stored answer never comes back to the student as if the teacher wrote it
        with api(stack, student_id=STUDENT) as c:
            polled = c.get("/api/handoff/messages").json()["messages"]
        assert {m["sender"] for m in polled} == {"system", "staff"}, polled
        staff_texts = " ".join(st.locator(".zz-staff").all_text_contents())
        assert bot_said[0].splitlines()[0][:12] not in staff_texts, staff_texts
        n_held = st.locator(".zz-msg.zz-bot").count()
        say("好的，谢谢老师")
        expect(tp.locator("#hq-messages")).to_contain_text("好的，谢谢老师", timeout=15000)
        assert st.locator(".zz-msg.zz-bot").count() == n_held  # a person holds it: the bot is silent

        tp.locator("#hq-close").click()
        expect(dialog).to_contain_text("老师已结束人工咨询，智能助手继续为你服务。", timeout=15000)
        expect(st.locator(".zz-sub")).to_have_text("毕业生手续助手")
        # the bot answers again
        n_before = st.locator(".zz-msg.zz-bot").count()
        say("档案邮寄怎么申请")
        expect(st.locator(".zz-msg.zz-bot")).to_have_count(n_before + 1)
        expect(st.locator(".zz-msg.zz-bot").last).to_contain_text("邮寄")
        st.screenshot(path=str(stack.log_dir / "handoff_student.png"))
        tp.screenshot(path=str(stack.log_dir / "handoff_counselor.png"))
    finally:
        ctx_s.close()
        ctx_t.close()
    assert not errors, errors
    # the bot answered in the queue, and never saw what was said to the person
    said = user_texts(stack, f"student:{STUDENT}")
    assert "转人工" in said and "档案邮寄怎么申请" in said and "我的档案寄到哪里了？一直没收到" in said
    assert "好的，谢谢老师" not in said
    # and everything is in the audit log
    with api(stack, staff_id="counselor-physics") as c:
        items = c.get("/api/staff/audit", params={"student_id": STUDENT, "limit": 1000}).json()["items"]
    actions = [a["action"] for a in items if a["entity"] == "handoff"]
    assert actions == ["request", "student_message", "take", "reply", "student_message", "close"], actions


@pytest.mark.browser
def test_anonymous_visitor_gets_the_career_centers_reply_once_even_after_a_reload(stack, browser):
    from playwright.sync_api import expect

    ctx = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    errors: list = []
    try:
        pg = ctx.new_page()
        pg.on("pageerror", lambda e: errors.append(str(e)))
        pg.goto(stack.backend_url + "/index.html")
        pg.locator("#consult-btn").click()
        dialog = pg.get_by_role("dialog", name="智能咨询对话")
        pg.locator(".zz-input").fill("我想找老师")
        pg.locator(".zz-input").press("Enter")
        expect(dialog).to_contain_text("已为你排队转接人工服务（学校就业指导中心的老师）")
        expect(dialog).to_contain_text("010-68913456")  # the career center's phone
        n_before = pg.locator(".zz-msg.zz-bot").count()
        pg.locator(".zz-input").fill("没登录也能问吗")
        pg.locator(".zz-input").press("Enter")
        expect(pg.locator(".zz-msg.zz-bot")).not_to_have_count(n_before)  # queued: the bot answers
        with api(stack, staff_id="school-admin") as c:
            s = session_of(c, last_student_text="没登录也能问吗")
            assert s["student"] is None
            assert c.post(f"/api/staff/handoff/{s['id']}/take").status_code == 200
            assert (
                c.post(
                    f"/api/staff/handoff/{s['id']}/reply", json={"text": "可以，请说说你的问题。"}
                ).status_code
                == 200
            )
        expect(pg.locator(".zz-staff", has_text="可以，请说说你的问题。")).to_have_count(1, timeout=15000)
        pg.reload()  # the same tab: the conversation and its cursor are kept; the reply is not shown twice
        expect(pg.get_by_role("dialog", name="智能咨询对话")).to_be_visible()
        expect(pg.locator(".zz-sub")).to_contain_text("人工服务中")
        pg.wait_for_timeout(3500)  # a poll or two later
        expect(pg.locator(".zz-staff", has_text="可以，请说说你的问题。")).to_have_count(1)
        with api(stack, staff_id="school-admin") as c:
            assert c.post(f"/api/staff/handoff/{s['id']}/close").status_code == 200
        expect(pg.get_by_role("dialog", name="智能咨询对话")).to_contain_text(
            "老师已结束人工咨询", timeout=15000
        )
    finally:
        ctx.close()
    assert not errors, errors


# --- WeChat against the fake WeChat API ---------------------------------------------------------------------
def wechat(stack, openid: str, text: str) -> str | None:
    r = httpx.post(
        stack.rasa_url + "/webhooks/wechat/webhook",
        params=signed_query(),
        content=text_xml(openid, text).encode(),
        timeout=30,
        trust_env=False,
    )
    assert r.status_code == 200, r.text
    return None if r.text == "success" else ET.fromstring(r.text).findtext("Content")


def test_wechat_student_counselor_reply_once_bot_silent_then_back(stack):
    wx, openid = stack.wx, "o" + uuid.uuid4().hex[:27]
    first = wechat(stack, openid, "转人工")
    assert "排队转接人工服务（学校就业指导中心的老师）" in first and "010-68913456" in first
    queued = wechat(stack, openid, "我想问一下档案邮寄怎么申请")  # in the queue: the bot answers, stored too
    assert queued and "邮寄" in queued and "已转给老师" not in queued
    with api(stack, staff_id="school-admin") as c:  # not bound: the career center's queue
        s = session_of(c, channel="wechat", last_student_text="我想问一下档案邮寄怎么申请")
        assert c.post(f"/api/staff/handoff/{s['id']}/take").status_code == 200
        got = wx.wait_sent(openid, 1)
        assert "老师已接入" in got[0]["text"]["content"]
        assert wechat(stack, openid, "是托管到人才中心吗") is None  # held: no answer from the bot
        r = c.post(f"/api/staff/handoff/{s['id']}/reply", json={"text": "是的，托管到生源地人才服务机构。"})
        assert r.status_code == 200, r.text
        got = wx.wait_sent(openid, 2)
        assert got[1]["msgtype"] == "text" and got[1]["text"]["content"].endswith(
            "是的，托管到生源地人才服务机构。"
        )
        detail = c.get(f"/api/staff/handoff/{s['id']}").json()
        assert [m["text"] for m in detail["messages"] if m["sender"] == "student"] == [
            "我想问一下档案邮寄怎么申请",
            "是托管到人才中心吗",
        ]
        # the counselor also sees what the bot answered while queued, in order; it is not sent to WeChat again
        assert [m["sender"] for m in detail["messages"]] == ["student", "bot", "system", "student", "staff"]
        assert detail["messages"][1]["text"] == queued and detail["messages"][1]["wechat_state"] == "none"
        assert c.post(f"/api/staff/handoff/{s['id']}/close").status_code == 200
        got = wx.wait_sent(openid, 3)
        assert got[2]["text"]["content"] == "老师已结束人工咨询，智能助手继续为你服务。"
    time.sleep(1.5)  # several delivery rounds later: each reply went out once
    assert len([m for m in wx.sent if m.get("touser") == openid]) == 3
    reply = wechat(stack, openid, "档案邮寄怎么申请")
    assert reply and "邮寄" in reply
    said = user_texts(stack, f"wechat:{openid}")
    assert "转人工" in said and "档案邮寄怎么申请" in said and "我想问一下档案邮寄怎么申请" in said
    assert "是托管到人才中心吗" not in said


# --- outside office hours: a ticket -------------------------------------------------------------------------
def test_outside_office_hours_the_student_leaves_a_message_answered_later(stack, today):
    token = httpx.post(
        f"{stack.backend_url}/api/auth/dev-login", json={"student_id": "2025000002"}, trust_env=False
    ).json()["access_token"]
    today(SATURDAY)
    out = rest(stack, "x", "转人工", token)
    text = " ".join(m.get("text") or "" for m in out)
    assert "现在不是人工服务时间（工作日 00:00-24:00）" in text and "10分钟内用下一条消息" in text
    assert "学院" in text and "电话" in text  # a way to reach a person now: the college's contact
    out = rest(stack, "x", "我的毕业去向登记一直没有审核，能帮我催一下吗", token)
    assert "已收到你的留言" in out[0]["text"]
    out = rest(stack, "x", "档案邮寄怎么申请", token)  # the bot answers again at once
    assert out and "邮寄" in out[0].get("text", "") and "留言" not in out[0].get("text", "")
    today(dt.date(2026, 12, 7))
    with api(stack, staff_id="counselor-physics") as c:  # 2025000002 is a computer science student
        assert all(
            s["student"] is None or s["student"]["id"] != "2025000002"
            for s in c.get("/api/staff/handoff", params={"view": "tickets"}).json()["sessions"]
        )
    with api(stack, staff_id="counselor-computer") as c:
        s = next(
            x
            for x in c.get("/api/staff/handoff", params={"view": "tickets"}).json()["sessions"]
            if x["student"] and x["student"]["id"] == "2025000002"
        )
        r = c.post(f"/api/staff/handoff/{s['id']}/reply", json={"text": "已联系学院，本周内审核。"})
        assert r.status_code == 200 and r.json()["state"] == "answered"
    notices = httpx.get(
        f"{stack.backend_url}/api/me/notices", headers={"Authorization": f"Bearer {token}"}, trust_env=False
    ).json()["notices"]
    n = next(x for x in notices if x["kind"] == "handoff")
    assert "已联系学院，本周内审核。" in n["body"] and "能帮我催一下吗" in n["body"]


# --- a restart of Rasa while a person holds the conversation (issue 15 §5) ----------------------------------
def test_a_held_conversation_stays_held_across_a_rasa_restart(stack):
    sender = "web-" + uuid.uuid4().hex[:12]
    out = rest(stack, sender, "转人工")
    secret = next(m["custom"]["handoff"]["secret"] for m in out if "handoff" in (m.get("custom") or {}))
    out = rest(stack, sender, "我是匿名访客，想问档案托管")  # queued: stored, and the bot answers
    assert any(m.get("text") for m in out)
    with api(stack, staff_id="school-admin") as c:
        s = session_of(c, last_student_text="我是匿名访客，想问档案托管")
        assert c.post(f"/api/staff/handoff/{s['id']}/take").status_code == 200
    stack.stop_one("rasa")
    stack.start_rasa(stack.model if stack.model.exists() else None)
    out = rest(stack, sender, "我是物理学院的")
    assert not any(m.get("text") for m in out)  # still held: this Rasa process asks the backend too
    assert "我是物理学院的" not in user_texts(stack, f"anon:{sender}")
    with api(stack, staff_id="school-admin") as c:
        assert session_of(c, last_student_text="我是物理学院的")["id"] == s["id"]
        assert (
            c.post(f"/api/staff/handoff/{s['id']}/reply", json={"text": "请问你是哪个学院的？"}).status_code
            == 200
        )
    polled = httpx.get(
        f"{stack.backend_url}/api/handoff/messages", headers={"X-Handoff-Secret": secret}, trust_env=False
    ).json()
    assert [m["text"] for m in polled["messages"]][-1] == "请问你是哪个学院的？"
    assert rest(stack, sender, "结束人工")[0]["text"].startswith("已结束人工咨询")
    out = rest(stack, sender, "档案邮寄怎么申请")
    assert "邮寄" in out[0]["text"]
