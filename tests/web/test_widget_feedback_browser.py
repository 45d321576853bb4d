"""👍/👎 under each answer in the chat widget (issue 14 §4), in a real Chromium against the real backend:
stored with the reason and comment, signed-in students' feedback carries their id, keyboard only."""

from __future__ import annotations

import csv
import io
import re

import httpx
import pytest
from playwright.sync_api import expect

from tests.web.helpers import ask, last_fb, open_widget

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def feedback_rows(stack) -> list[dict]:
    tok = httpx.post(
        f"{stack.backend_url}/api/auth/dev-login", json={"staff_id": "school-admin"}, trust_env=False
    ).json()["access_token"]
    r = httpx.get(
        f"{stack.backend_url}/api/staff/insights/feedback.csv",
        params={"days": 1},
        headers={"Authorization": f"Bearer {tok}"},
        trust_env=False,
    )
    assert r.status_code == 200, r.text
    return list(csv.DictReader(io.StringIO(r.text.lstrip("\ufeff"))))


def test_thumbs_up_and_down_with_reason(page, site):
    url, stack = site
    box = open_widget(page, url)
    ask(box, "你好")
    expect(page.locator(".zz-log .zz-bot").last).to_contain_text("我是测试助手")
    fb = last_fb(page)
    expect(fb.get_by_role("group", name="这条回答有帮助吗？")).to_be_visible()
    fb.get_by_role("button", name="有帮助", exact=True).click()
    expect(fb.get_by_role("status")).to_have_text("已收到反馈，谢谢！")
    ask(box, "链接")
    fb = last_fb(page)
    fb.get_by_role("button", name="没有帮助").click()
    expect(fb.get_by_role("radio", name="答非所问")).to_be_focused()
    fb.get_by_role("button", name="提交反馈").click()
    expect(fb.get_by_role("alert")).to_have_text("请选择一个原因。")
    fb.get_by_label("内容缺失").check()
    fb.get_by_label("补充说明（可选）").fill("希望给出官网链接的说明")
    fb.get_by_role("button", name="提交反馈").click()
    expect(fb.get_by_role("status")).to_have_text("已收到反馈，谢谢！")
    rows = feedback_rows(stack)
    down = [r for r in rows if r["补充说明"] == "希望给出官网链接的说明"]
    assert (
        len(down) == 1
        and down[0]["评价"] == "👎"
        and down[0]["原因"] == "内容缺失"
        and down[0]["问题"] == "链接"
    )
    assert down[0]["学号"] == "" and "job.bit.edu.cn" in down[0]["回答"]
    assert any(r["问题"] == "你好" and r["评价"] == "👍" for r in rows)
    # the choice survives a reload (no second vote offered for the same answer)
    page.reload()
    expect(last_fb(page).get_by_role("status")).to_have_text("已收到反馈，谢谢！")


def test_keyboard_only_and_signed_in_student(page, site):
    url, stack = site
    page.goto(url)
    page.get_by_label("学号").select_option("2025000002")
    page.get_by_role("button", name=re.compile("登录")).click()
    expect(page.locator("#who")).to_contain_text("2025000002")
    page.locator("#consult-btn").click()
    box = page.get_by_role("textbox", name=re.compile("输入您的问题"))
    ask(box, "whoami")
    expect(page.locator(".zz-log .zz-bot").last).to_contain_text("会话=student:2025000002")
    fb = last_fb(page)
    fb.get_by_role("button", name="有帮助", exact=True).focus()
    page.keyboard.press("Tab")
    expect(fb.get_by_role("button", name="没有帮助")).to_be_focused()
    page.keyboard.press("Enter")
    expect(fb.get_by_role("button", name="没有帮助")).to_have_attribute("aria-expanded", "true")
    expect(fb.get_by_role("radio", name="答非所问")).to_be_focused()
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    expect(fb.get_by_role("radio", name="事实错误")).to_be_checked()
    page.keyboard.press("Tab")
    expect(fb.get_by_label("补充说明（可选）")).to_be_focused()
    page.keyboard.type("键盘提交的反馈")
    page.keyboard.press("Tab")
    expect(fb.get_by_role("button", name="提交反馈")).to_be_focused()
    page.keyboard.press("Enter")
    expect(fb.get_by_role("status")).to_have_text("已收到反馈，谢谢！")
    row = [r for r in feedback_rows(stack) if r["补充说明"] == "键盘提交的反馈"][0]
    assert row["学号"] == "2025000002" and row["原因"] == "事实错误"
