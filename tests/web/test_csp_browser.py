"""The pages under their Content-Security-Policy (issue 21 §11), in a real Chromium against the real backend
and Rasa: the demo page served by the backend answers in the widget and the staff page signs in, with no
policy violation reported; another site's page cannot frame the staff page."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.web.helpers import ask

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def violations(page) -> list[str]:
    found: list[str] = []
    page.on("console", lambda m: found.append(m.text) if "Content Security Policy" in m.text else None)
    return found


def test_pages_work_under_their_policy(page, site):
    _, stack = site
    seen = violations(page)
    resp = page.goto(stack.backend_url + "/")
    csp = resp.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp and stack.rasa_url in csp, csp
    assert resp.headers["x-content-type-options"] == "nosniff"
    page.get_by_role("button", name="打开智能咨询").click()
    ask(page.get_by_role("textbox", name=re.compile("输入您的问题")), "你好")
    expect(page.locator(".zz-log .zz-bot").last).to_contain_text("我是测试助手")  # Rasa reached (connect-src)

    resp = page.goto(stack.backend_url + "/staff/")
    assert "frame-ancestors 'none'" in resp.headers["content-security-policy"]
    expect(page.locator("#demo-login")).to_be_visible()  # the page's script ran
    page.locator("#demo-login select").first.select_option("school-admin")
    page.locator("#login-btn").click()
    expect(page.locator("#signed-in")).to_be_visible()
    assert seen == [], seen


def test_another_site_cannot_frame_the_staff_page(page, site):
    url, stack = site
    page.goto(url)  # the job site's origin (another origin than the backend)
    with page.expect_console_message(lambda m: "frame-ancestors" in m.text):
        page.evaluate(
            """src => { const f = document.createElement('iframe'); f.src = src;
                                  document.body.append(f); }""",
            stack.backend_url + "/staff/",
        )
    assert page.frame_locator("iframe").locator("#demo-login").count() == 0
