"""Fixtures for the browser tests: web/ served statically (a copy whose widget tag points at the test
servers), a real Rasa server with our channels (tiny bot), the real backend, and Debian's chromium driven by
Playwright (`browser`, `page` and `make_page`: tests/conftest.py, one launch shared by consecutive browser
tests)."""

import pytest

from tests.web.helpers import serve_site


@pytest.fixture(scope="session")
def site(tmp_path_factory, browser):
    """-> (page_url, stack)"""
    with serve_site(tmp_path_factory.mktemp("web")) as s:
        yield s
