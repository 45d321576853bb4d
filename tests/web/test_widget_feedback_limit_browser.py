"""A feedback flood from one browser (one address), in a real Chromium against the real backend: the widget shows the
backend's own message for its 429 `too_many_feedback` (how long to wait), not a generic failure, and keeps the
buttons so the student can vote again later."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.web.test_widget_feedback_browser import ask, last_fb, open_widget

pytestmark = [pytest.mark.browser, pytest.mark.slow]
PER_CLIENT = 20  # FEEDBACK_PER_CLIENT's default: new anonymous feedback rows per address and minute
REFUSED = re.compile(r"^反馈提交太频繁了，请\d+秒后再试。$")


def test_a_feedback_flood_shows_the_servers_message_and_keeps_the_buttons(page, site):
    url, _ = site
    box = open_widget(page, url)
    # votes until the address's limit (earlier tests' votes from this address in the last minute count too)
    for _ in range(PER_CLIENT + 1):
        ask(box, "你好")
        fb = last_fb(page)
        up = fb.get_by_role("button", name="有帮助", exact=True)
        up.click()
        status = fb.get_by_role("status")
        expect(status).to_have_text(re.compile(r"^(已收到反馈，谢谢！|反馈提交太频繁了.*)$"))
        if REFUSED.match(status.inner_text()):
            break
    expect(fb.get_by_role("status")).to_have_text(REFUSED)
    expect(up).to_be_visible()  # not recorded: the vote can be given again once the wait is over
    expect(fb.get_by_role("status")).not_to_have_text("反馈没有提交成功，请稍后再试。")
