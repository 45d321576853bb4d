"""Status at a glance (issue 15 §3): a status answer in the widget shows the job site's five-step progress bar
(current step, rejection reason highlighted) and the mailing state with the EMS number, from the custom
payload of the real action_check_status. Real Chromium, the demo page served by the real backend, the real
trained model, action server and backend (the session `system`)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def sign_in_and_ask(page, system, student_id: str, question: str):
    page.goto(system.backend_url + "/index.html")
    page.get_by_label("学号").select_option(student_id)
    page.get_by_role("button", name=re.compile("登录")).click()
    expect(page.locator("#who")).to_contain_text(student_id)
    page.locator("#consult-btn").click()
    box = page.get_by_role("textbox", name=re.compile("输入您的问题"))
    box.fill(question)
    box.press("Enter")
    bar = page.locator(".zz-log .zz-bot").last.get_by_role("group", name="办理进度一览")
    expect(bar).to_be_visible(timeout=30000)
    return bar


def steps_of(bar, title: str):
    return bar.get_by_role("list", name=f"{title}办理步骤").get_by_role("listitem")


def test_rejected_at_school_review_shows_step_5_and_the_reason(page, system):
    bar = sign_in_and_ask(page, system, "2025000003", "我的办理进度")
    bubble = page.locator(".zz-log .zz-bot").last
    # the status text is unchanged beside the bar
    expect(bubble).to_contain_text("毕业去向登记：第4步/共5步")
    steps = steps_of(bar, "毕业去向登记")
    expect(steps).to_have_count(5)
    expect(steps.nth(0)).to_contain_text("毕业去向类型")
    for i in range(4):
        expect(steps.nth(i)).to_have_class(re.compile("zz-pg-done"))
        expect(steps.nth(i)).to_contain_text("已完成")
    rejected = steps.nth(4)
    expect(rejected).to_contain_text("学校审核")
    expect(rejected).to_have_attribute("aria-current", "step")
    expect(rejected).to_contain_text("未通过")
    expect(
        bar.get_by_role("list", name="毕业去向登记办理步骤").locator('[aria-current="step"]')
    ).to_have_count(1)
    note = bar.get_by_role("note")
    expect(note).to_have_count(1)
    expect(note).to_contain_text("学校审核未通过原因：")
    expect(note).to_contain_text("组织机构代码与单位名称不一致")
    # highlighted: red, unlike the ordinary text
    color = note.evaluate("n => getComputedStyle(n).backgroundColor")
    assert color not in ("rgba(0, 0, 0, 0)", "rgb(255, 255, 255)"), color
    expect(bar.locator(".zz-pg-mail")).to_contain_text("暂不能申请")
    page.screenshot(path=str(_out("progress_003.png")))


def test_shipped_archive_shows_all_steps_done_and_the_ems_number(page, system):
    bar = sign_in_and_ask(page, system, "2025000006", "我的办理进度")
    for title in ("毕业去向登记", "户档信息登记"):
        steps = steps_of(bar, title)
        expect(steps).to_have_count(5)
        for i in range(5):
            expect(steps.nth(i)).to_contain_text("已完成")
    assert bar.locator('[aria-current="step"]').count() == 0
    expect(bar.get_by_role("note")).to_have_count(0)
    mail = bar.locator(".zz-pg-mail")
    expect(mail).to_contain_text("档案邮寄：已寄出")
    expect(mail).to_contain_text("EMS单号 1151234567890")
    # after a reload (the panel reopens by itself) the bar is drawn again from the widget's history
    page.reload()
    expect(page.locator(".zz-log .zz-pg-ems").last).to_have_text("1151234567890")


def _out(name: str):
    from pathlib import Path

    out = Path(__file__).resolve().parent / "output"
    out.mkdir(exist_ok=True)
    return out / name
