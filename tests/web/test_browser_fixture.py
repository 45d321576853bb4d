"""The shared `browser` (tests/browser.py, tests/conftest.py) stops Playwright's event loop before a test that
does not use it: with the old session-wide fixture, asyncio.run in any later test failed ("cannot be called
from a running event loop"). The tests run in file order."""

import asyncio

import pytest

pytestmark = pytest.mark.browser


def test_a_page_renders(page):
    page.set_content("<p id='x'>你好</p>")
    assert page.text_content("#x") == "你好"


def test_asyncio_run_works_in_the_next_test_without_the_browser():
    assert asyncio.run(asyncio.sleep(0, result="ok")) == "ok"


def test_the_browser_comes_back_for_the_next_browser_test(page):
    page.set_content("<p id='x'>再见</p>")
    assert page.text_content("#x") == "再见"
