"""Helpers of the browser tests: web/ served for a fresh channel stack, the chat widget's feedback controls
and the staff page's demo sign-in, driven the way a person does (roles and labels)."""

from __future__ import annotations

import contextlib
import re
import shutil

from playwright.sync_api import expect

from tests.channels.channels_harness import ROOT, ChannelStack, StaticWeb


@contextlib.contextmanager
def serve_site(tmp, extra_env: dict | None = None):
    """-> (page_url, stack): web/ served statically, the widget pointed at a fresh stack's Rasa and
    backend."""
    www = tmp / "www"
    shutil.copytree(ROOT / "web", www)
    web = StaticWeb(www)
    stack = ChannelStack(tmp, web_origin=web.url, extra_env=extra_env)
    # the same page served by the demo back end itself (test_demo_page_served_by_the_back_end)
    stack.system.env["CHAT_ALLOWED_ORIGINS"] += "," + stack.system.backend_url
    stack.start()
    index = www / "index.html"
    html = index.read_text(encoding="utf-8")
    html, n = re.subn(
        r'data-rasa-url="[^"]*" data-backend-url="[^"]*"',
        f'data-rasa-url="{stack.rasa_url}" data-backend-url="{stack.backend_url}"',
        html,
    )
    assert n == 1, "the demo page must embed the widget with data-rasa-url and data-backend-url"
    index.write_text(html, encoding="utf-8")
    try:
        yield web.url + "/index.html", stack
    finally:
        stack.stop()
        web.close()


def open_widget(page, url):
    page.goto(url)
    page.get_by_role("button", name="打开智能咨询").click()
    return page.get_by_role("textbox", name=re.compile("输入您的问题"))


def ask(box, text):
    box.fill(text)
    box.press("Enter")


def last_fb(page):
    return page.locator(".zz-log .zz-fb").last


def sign_in(page, srv, staff_id="school-admin"):
    page.goto(f"{srv.base}/staff/")
    page.get_by_label("工作人员账号（演示）").select_option(staff_id)
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_text(re.compile("^已登录："))).to_be_visible()
