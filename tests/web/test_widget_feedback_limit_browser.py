"""A feedback flood from one conversation, in a real Chromium against the real backend: the widget shows the
backend's own message for its 429 `too_many_feedback` (how long to wait), not a generic failure, and keeps the
buttons so the student can vote again later."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.web.test_widget_feedback_browser import ask, last_fb, open_widget

pytestmark = [pytest.mark.browser, pytest.mark.slow]
PER_CONVERSATION = 10  # FEEDBACK_PER_CONVERSATION's default: new feedback rows per conversation and minute


def test_a_feedback_flood_shows_the_servers_message_and_keeps_the_buttons(page, site):
    url, _ = site
    box = open_widget(page, url)
    for _ in range(PER_CONVERSATION):
        ask(box, "你好")
        fb = last_fb(page)
        fb.get_by_role("button", name="有帮助", exact=True).click()
        expect(fb.get_by_role("status")).to_have_text("已收到反馈，谢谢！")
    ask(box, "你好")
    fb = last_fb(page)
    up = fb.get_by_role("button", name="有帮助", exact=True)
    up.click()
    expect(fb.get_by_role("status")).to_have_text(re.compile(r"^反馈提交太频繁了，请\d+秒后再试。$"))
    expect(up).to_be_visible()  # not recorded: the vote can be given again once the wait is over
    expect(fb.get_by_role("status")).not_to_have_text("反馈没有提交成功，请稍后再试。")
