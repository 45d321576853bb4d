"""A feedback flood from one browser (one address), in a real Chromium against the real backend: the widget
shows the backend's own message for its 429 `too_many_feedback` (how long to wait), not a generic failure,
and keeps the buttons so the student can vote again later."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.web.helpers import ask, last_fb, open_widget, serve_site

pytestmark = [pytest.mark.browser, pytest.mark.slow]
PER_CLIENT = (
    5  # FEEDBACK_PER_CLIENT of this module's own stack (default 20): new anonymous rows per address a minute
)


@pytest.fixture(scope="module")
def own_site(tmp_path_factory, browser):
    """A stack of its own: the browser's address (loopback) exhausts its feedback limit here, not the shared
    site's."""
    with serve_site(tmp_path_factory.mktemp("web-fb-limit"), {"FEEDBACK_PER_CLIENT": str(PER_CLIENT)}) as s:
        yield s


def test_a_feedback_flood_shows_the_servers_message_and_keeps_the_buttons(page, own_site):
    url, _ = own_site
    box = open_widget(page, url)
    for _ in range(PER_CLIENT):
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
