"""Shared fixtures. `system` starts the real backend, action server and Rasa server once per test session."""

import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from system import System, dev_login  # noqa: E402


@pytest.fixture(scope="session")
def system(tmp_path_factory):
    """The whole assistant on free loopback ports, with a fresh seeded SQLite database."""
    tmp = tmp_path_factory.mktemp("system")
    # Rasa's management API on, with a random token (tests read trackers with system.rasa_api_url)
    s = System(database_url=f"sqlite:///{tmp / 'app.db'}", log_dir=tmp / "log", rasa_api=True)
    s.start()
    yield s
    s.stop()


@pytest.fixture(scope="session")
def login(system):
    """login('2025000005') -> a real token from the backend's demo login."""
    cache = {}

    def _login(student_id: str) -> str:
        if student_id not in cache:
            cache[student_id] = dev_login(system.backend_url, student_id)
        return cache[student_id]

    return _login


def pytest_collection_modifyitems(config, items):
    # CI must not silently skip the PostgreSQL or browser tests.
    if os.environ.get("REQUIRE_POSTGRES") and not os.environ.get("TEST_POSTGRES_URL"):
        raise pytest.UsageError("REQUIRE_POSTGRES is set but TEST_POSTGRES_URL is not")


# --- one Chromium for the browser tests (tests/browser.py) --------------------------------------------------
from tests.browser import BrowserProxy, Chromium, require_chromium  # noqa: E402

_chromium = Chromium()


@pytest.fixture(scope="session")
def browser():
    """Chromium (Playwright's Browser API): shared by consecutive browser tests, stopped before any other
    test."""
    require_chromium()
    return BrowserProxy(_chromium)


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


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    # Playwright's event loop must not be running in a test that does not use the browser (asyncio.run fails)
    if _chromium.running and "browser" not in item.fixturenames:
        _chromium.close()


def pytest_sessionfinish(session, exitstatus):
    _chromium.close()
