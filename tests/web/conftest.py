"""Fixtures for the browser tests: web/ served statically (a copy whose widget tag points at the test servers),
a real Rasa server with our channels (tiny bot), the real backend, and Debian's chromium driven by Playwright
(`browser`: tests/conftest.py, one launch shared by consecutive browser tests)."""
import contextlib
import re
import shutil

import pytest

from tests.channels.channels_harness import ROOT, ChannelStack, StaticWeb


@contextlib.contextmanager
def serve_site(tmp, extra_env: dict | None = None):
    """-> (page_url, stack): web/ served statically, the widget pointed at a fresh stack's Rasa and backend."""
    www = tmp / "www"
    shutil.copytree(ROOT / "web", www)
    web = StaticWeb(www)
    stack = ChannelStack(tmp, web_origin=web.url, extra_env=extra_env)
    # the same page served by the demo back end itself (test_demo_page_served_by_the_back_end)
    stack.system.env["CHAT_ALLOWED_ORIGINS"] += "," + stack.system.backend_url
    stack.start()
    index = www / "index.html"
    html = index.read_text(encoding="utf-8")
    html, n = re.subn(r'data-rasa-url="[^"]*" data-backend-url="[^"]*"',
                      f'data-rasa-url="{stack.rasa_url}" data-backend-url="{stack.backend_url}"', html)
    assert n == 1, "the demo page must embed the widget with data-rasa-url and data-backend-url"
    index.write_text(html, encoding="utf-8")
    try:
        yield web.url + "/index.html", stack
    finally:
        stack.stop()
        web.close()


@pytest.fixture(scope="session")
def site(tmp_path_factory, browser):
    """-> (page_url, stack)"""
    with serve_site(tmp_path_factory.mktemp("web")) as s:
        yield s


@pytest.fixture
def page(browser):
    """A fresh page; the test fails on any uncaught script error."""
    ctx = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 800})
    pg = ctx.new_page()
    errors = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    yield pg
    ctx.close()
    assert not errors, errors
