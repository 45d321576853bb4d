"""Fixtures for the browser tests: web/ served statically (a copy whose widget tag points at the test servers),
a real Rasa server with our channels (tiny bot), the real backend, and Debian's chromium driven by Playwright
(`browser`: tests/conftest.py, one launch shared by consecutive browser tests)."""
import pytest

from tests.web.helpers import serve_site


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


@pytest.fixture
def make_page(browser):
    """make_page(width, height) -> a fresh page; the test fails on any uncaught script error."""
    contexts, errors = [], []

    def _make(width=1280, height=800):
        ctx = browser.new_context(locale="zh-CN", viewport={"width": width, "height": height})
        contexts.append(ctx)
        pg = ctx.new_page()
        pg.on("pageerror", lambda e: errors.append(str(e)))
        return pg
    yield _make
    for c in contexts:
        c.close()
    assert not errors, errors
