"""截止提醒 on the staff page (issue 15 §1) in a real headless Chromium against the real backend: the career
center creates a deadline, sees who it concerns and who got it; the concerned student finds the reminder in
the widget, an unconcerned one does not; counselors neither see the section nor may create one (403 from the
backend); keyboard only on a phone-sized screen."""

from __future__ import annotations

import datetime as dt
import re

import httpx
import pytest
from playwright.sync_api import expect

from tests.backend.helpers import start_backend, stop_backend
from tests.web.helpers import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture(scope="module")
def backend(tmp_path_factory, browser):
    srv = start_backend(
        f"sqlite:///{tmp_path_factory.mktemp('deadlines-web')}/app.db",
        tmp_path_factory.mktemp("dw"),
        extra_env={"NOTICE_WORKER": "0"},
    )
    yield srv
    stop_backend(srv)


def due(srv, days: int) -> str:
    return (dt.date.fromisoformat(srv.today_file.read_text().strip()) + dt.timedelta(days=days)).isoformat()


def widget_notices(page, srv, sid: str):
    """The demo page as the student, the widget opened: its 新通知 region (maybe absent)."""
    page.goto(f"{srv.base}/index.html")
    page.get_by_label("学号").select_option(sid)
    page.get_by_role("button", name=re.compile("登录")).click()
    expect(page.locator("#who")).to_contain_text(sid)
    page.locator("#consult-btn").click()
    dialog = page.get_by_role("dialog", name="智能咨询对话")
    expect(dialog).to_be_visible()
    return dialog


def test_career_center_sets_a_deadline_for_the_students_it_concerns(make_page, backend):
    page = make_page()
    sign_in(page, backend)
    page.get_by_role("link", name="截止提醒").click()
    section = page.get_by_role("region", name="截止提醒")
    expect(section).to_be_visible()
    expect(page.get_by_role("heading", name="截止提醒", exact=True)).to_be_focused()
    expect(page.locator("#answers")).to_be_hidden()
    expect(page.get_by_role("link", name="截止提醒")).to_have_attribute("aria-current", "page")
    expect(section.get_by_text("还没有设置截止提醒。")).to_be_visible()

    # nothing filled in: the form says what is missing, in Chinese, at the field
    page.get_by_role("button", name="发送提醒").click()
    title = page.get_by_label("截止事项")
    expect(title).to_be_focused()
    expect(title).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#dl-title-err")).to_have_text(re.compile("请填写截止事项"))
    expect(page.locator("#dl-due-err")).to_have_text("请选择截止日期。")

    # who it concerns: computer college students whose destination is not through the school review
    title.fill("计算机学院毕业去向修改截止")
    page.get_by_label("截止日期").fill(due(backend, 20))
    page.get_by_label("提醒哪些学生").select_option(label="毕业去向登记未完成学校审核的学生")
    page.get_by_label("学院", exact=True).select_option(label="计算机学院")
    page.get_by_role("button", name="查看涉及的学生").click()
    heading = page.locator("#dl-preview-h")
    expect(heading).to_have_text(
        re.compile(r"^涉及的学生：1人（计算机学院，毕业去向登记未完成学校审核的学生）")
    )
    expect(heading).to_be_focused()
    rows = page.locator("#dl-preview-list tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("2025000002")
    expect(rows.first).to_contain_text("李娜")

    page.get_by_role("button", name="发送提醒").click()
    expect(page.get_by_role("status").filter(has_text="已提醒1名学生")).to_be_visible()
    table = page.locator("#dl-table")
    expect(table.locator("tbody tr")).to_have_count(1)
    expect(table.locator("tbody tr").first).to_contain_text("计算机学院毕业去向修改截止")
    expect(table.locator("tbody tr").first).to_contain_text("1人")
    detail = page.locator("#dl-detail-list tbody tr")
    expect(detail).to_have_count(1)
    expect(detail.first).to_contain_text("李娜")
    expect(detail.first).to_contain_text("未读")
    expect(page.locator("#dl-detail-h")).to_be_focused()
    page.screenshot(path=str(_out("staff_deadlines.png")), full_page=True)

    # the concerned student sees the reminder in the widget; an unconcerned one (same college, done) does not
    student = make_page()
    dialog = widget_notices(student, backend, "2025000002")
    notices = dialog.get_by_role("region", name=re.compile("新通知"))
    expect(notices).to_contain_text("截止提醒：计算机学院毕业去向修改截止")
    expect(notices).to_contain_text("截止日期：")
    other = make_page()
    dialog = widget_notices(other, backend, "2025000005")
    expect(dialog.locator(".zz-log .zz-msg").first).to_be_visible()
    expect(dialog).not_to_contain_text("计算机学院毕业去向修改截止")

    # back on the staff page: the reminder was read
    page.get_by_role("button", name="查看“计算机学院毕业去向修改截止”提醒的学生").click()
    expect(page.locator("#dl-detail-list tbody tr").first).to_contain_text("已读")


def test_counselors_neither_see_nor_create_deadlines(make_page, backend):
    page = make_page()
    sign_in(page, backend, "counselor-computer")
    expect(page.get_by_role("link", name="学生提问与反馈")).to_be_visible()
    expect(page.get_by_role("link", name="截止提醒")).to_have_count(0)
    page.goto(f"{backend.base}/staff/#deadlines")  # typed by hand: still nothing
    expect(page.get_by_text(re.compile("^已登录："))).to_be_visible()
    expect(page.locator("#deadlines:visible")).to_have_count(0)
    with backend.staff("counselor-computer") as c:
        r = c.post(
            "/api/staff/notices/deadlines",
            json={
                "title": "本院去向截止",
                "due_on": due(backend, 10),
                "audience": "all",
                "college_code": "computer",
            },
        )
        assert (
            r.status_code == 403
            and r.json()["code"] == "forbidden"
            and "学校就业指导中心" in r.json()["message"]
        )
        r = c.get("/api/staff/notices/deadlines/preview", params={"audience": "all"})
        assert r.status_code == 403
    with backend.student("2025000002") as c:
        assert c.get("/api/staff/notices/deadlines").status_code == 403
    with backend.staff("school-admin") as c:
        for params in ({"audience": "everyone"}, {"audience": "all", "college_code": "nope"}):
            r = c.get("/api/staff/notices/deadlines/preview", params=params)
            assert r.status_code == 422 and r.json()["code"] == "validation_error", r.text
        for bad in ("999999", "0", "abc", str(2**40)):
            r = c.get(f"/api/staff/notices/deadlines/{bad}")
            assert r.status_code in (404, 422) and r.json()["code"] and r.json()["message"], r.text
    assert httpx.get(f"{backend.base}/api/staff/notices/deadlines", trust_env=False).status_code == 401


def test_keyboard_only_on_a_phone(make_page, backend):
    page = make_page(390, 844)
    sign_in(page, backend)
    tab = page.get_by_role("link", name="截止提醒")
    tab.focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="截止提醒", exact=True)).to_be_focused()
    page.get_by_label("截止事项").focus()
    page.keyboard.type("全校档案邮寄申请截止")
    page.keyboard.press("Tab")
    date = page.get_by_label("截止日期")
    expect(date).to_be_focused()
    # the browser's own date field (its typed segment order follows the browser's UI language, not the page's)
    date.fill(due(backend, 15))
    page.get_by_label("提醒哪些学生").focus()
    expect(page.get_by_label("提醒哪些学生")).to_be_focused()
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    expect(page.get_by_label("提醒哪些学生")).to_have_value("mailing_not_requested")
    page.keyboard.press("Tab")
    expect(page.get_by_label("学院", exact=True)).to_be_focused()
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="查看涉及的学生")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("#dl-preview-h")).to_be_focused()
    expect(page.locator("#dl-preview-h")).to_have_text(
        re.compile(r"^涉及的学生：\d+人（全部学院，还没有申请档案邮寄的学生）")
    )
    page.get_by_role("button", name="发送提醒").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("status").filter(has_text=re.compile(r"已提醒\d+名学生"))).to_be_visible()
    expect(page.locator("#dl-detail-h")).to_be_focused()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    box = page.get_by_role("button", name="发送提醒").bounding_box()
    assert box["height"] >= 44 and box["x"] >= 0 and box["x"] + box["width"] <= 390
    page.screenshot(path=str(_out("staff_deadlines_phone.png")), full_page=True)


def _out(name: str):
    from pathlib import Path

    out = Path(__file__).resolve().parent / "output"
    out.mkdir(exist_ok=True)
    return out / name
