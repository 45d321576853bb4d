"""One Chromium (Debian's, driven by Playwright) for every browser test of the session, without leaking its
event loop: Playwright's sync API keeps an asyncio loop running in the main thread while it is up, so any
later test that calls asyncio.run would fail. tests/conftest.py starts it when the first test that needs
`browser` is set up and stops it before the first test that does not (and at the end of the session);
consecutive browser tests (tests/web, tests/handoff/test_handoff_e2e.py) share one launch."""

from __future__ import annotations

import os

import pytest

from tests.channels.channels_harness import chromium_path

LAUNCH_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def require_chromium() -> str:
    """Chromium's path, or skip the test (fail it with REQUIRE_BROWSER=1)."""
    exe = chromium_path()
    if not exe:
        if os.environ.get("REQUIRE_BROWSER"):
            pytest.fail("REQUIRE_BROWSER is set but chromium is not installed (apt-get install chromium)")
        pytest.skip(
            "chromium is not installed (apt-get install chromium); set REQUIRE_BROWSER=1 to make this fail"
        )
    return exe


class Chromium:
    """Started on first use, stopped by `close` (the conftest hook); `browser` hands out a proxy, so a fixture
    that holds it across a stop gets a fresh launch on its next call."""

    def __init__(self) -> None:
        self._manager = None
        self._browser = None

    @property
    def running(self) -> bool:
        return self._browser is not None

    def get(self):
        if self._browser is None:
            exe = require_chromium()
            from playwright.sync_api import sync_playwright

            self._manager = sync_playwright()
            pw = self._manager.__enter__()
            try:
                self._browser = pw.chromium.launch(executable_path=exe, args=LAUNCH_ARGS)
            except BaseException:
                self._manager.__exit__(None, None, None)
                self._manager = None
                raise
        return self._browser

    def close(self) -> None:
        if self._manager is None:
            return
        try:
            if self._browser is not None:
                self._browser.close()
        finally:
            self._browser = None
            manager, self._manager = self._manager, None
            manager.__exit__(None, None, None)  # stops Playwright's driver and its event loop


class BrowserProxy:
    """Looks like playwright's Browser (new_context, new_page, ...); every call goes to the running
    Chromium."""

    def __init__(self, chromium: Chromium) -> None:
        self._chromium = chromium

    def __getattr__(self, name: str):
        return getattr(self._chromium.get(), name)
