"""Notices in the widget (issue 15 §1): at the next visit a signed-in student sees the unread notices first
(above the conversation), they are marked read once shown, and a bound student turns WeChat notices off with a
checkbox. Real Chromium, the demo page served by the real backend (the session `system`)."""

from __future__ import annotations

import datetime as dt
import re
import time

import httpx
import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.slow]
SID = "2025000004"  # physics


def client(system, **login) -> httpx.Client:
    tok = httpx.post(f"{system.backend_url}/api/auth/dev-login", json=login, trust_env=False).json()[
        "access_token"
    ]
    return httpx.Client(
        base_url=system.backend_url, headers={"Authorization": f"Bearer {tok}"}, trust_env=False
    )


def sign_in_and_open(page, system):
    page.goto(system.backend_url + "/index.html")
    if page.locator("#login-form").is_visible():
        page.get_by_label("学号").select_option(SID)
        page.get_by_role("button", name=re.compile("登录")).click()
    expect(page.locator("#who")).to_contain_text(SID)
    page.locator("#consult-btn").click()
    expect(page.get_by_role("dialog", name="智能咨询对话")).to_be_visible()


def test_unread_notices_first_then_read_and_the_wechat_setting(page, system):
    school = client(system, staff_id="school-admin")
    me = client(system, student_id=SID)
    due = (dt.date.today() + dt.timedelta(days=20)).isoformat()
    for title in ("物理学院档案材料提交截止", "物理学院毕业去向修改截止"):
        r = school.post(
            "/api/staff/notices/deadlines",
            json={"title": title, "due_on": due, "audience": "all", "college_code": "physics"},
        )
        assert r.status_code == 201, r.text
    unread = [n for n in me.get("/api/me/notices").json()["notices"] if not n["read"]]
    assert [n["title"] for n in unread][:2] == [
        "截止提醒：物理学院毕业去向修改截止",
        "截止提醒：物理学院档案材料提交截止",
    ]

    sign_in_and_open(page, system)
    box = page.get_by_role("region", name=re.compile("新通知"))
    expect(box).to_be_visible()
    expect(box.get_by_role("heading")).to_have_text(f"新通知（{len(unread)}）")
    items = box.get_by_role("listitem")
    expect(items).to_have_count(len(unread))
    expect(items.first).to_contain_text("物理学院毕业去向修改截止")
    expect(items.first).to_contain_text("截止日期：")
    # above the conversation: the first thing in the log
    assert page.locator(".zz-log > *").first.evaluate("n => n.classList.contains('zz-notices')")
    deadline = time.monotonic() + 10
    while (
        any(not n["read"] for n in me.get("/api/me/notices").json()["notices"])
        and time.monotonic() < deadline
    ):
        time.sleep(0.2)
    assert all(n["read"] for n in me.get("/api/me/notices").json()["notices"])
    page.screenshot(path=str(_out("notices_004.png")))

    # the next visit: nothing unread, nothing shown (not bound to WeChat: no setting either)
    page.reload()
    expect(page.get_by_role("dialog", name="智能咨询对话")).to_be_visible()
    expect(page.locator(".zz-log .zz-msg").first).to_be_visible()
    expect(page.get_by_role("region", name=re.compile("新通知"))).to_have_count(0)

    # bound: the WeChat setting, keyboard only
    code = me.post("/api/me/wechat/bind-code").json()["code"]
    r = httpx.post(
        f"{system.backend_url}/api/integration/wechat/bind",
        json={"openid": "o-notices-4", "code": code},
        headers={"X-Integration-Key": "demo-integration-key"},
        trust_env=False,
    )
    assert r.status_code == 200, r.text
    page.reload()
    setting = page.get_by_role("checkbox", name="在微信里接收办理进度通知")
    expect(setting).to_be_checked()
    setting.focus()
    page.keyboard.press("Space")
    expect(page.locator(".zz-nt-status")).to_have_text("已关闭")
    assert me.get("/api/me/notices").json()["wechat"] == {"enabled": False, "bound": True}
    page.reload()
    expect(page.get_by_role("checkbox", name="在微信里接收办理进度通知")).not_to_be_checked()
    me.delete("/api/me/wechat")


def _out(name: str):
    from pathlib import Path

    out = Path(__file__).resolve().parent / "output"
    out.mkdir(exist_ok=True)
    return out / name
