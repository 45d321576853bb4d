"""Fixtures for the custom-action tests: a REAL backend process (uvicorn, temp SQLite, demo seed, pinned
today). Running an action the way the action server does is in tests/actions/helpers.py."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from system import System

TODAY = "2026-11-30"  # a Monday; the demo data is seeded relative to "today"


class Backend:
    """A backend process (the launcher library's, system/) on its own SQLite database and "today"."""

    def __init__(self, tmp: Path):
        self.today_file = tmp / "today.txt"
        self.today_file.write_text(TODAY)
        self.system = System(
            database_url=f"sqlite:///{tmp}/actions.db",
            log_dir=tmp / "log",
            env={
                "DEMO_MODE": "1",
                "TODAY_FILE": str(self.today_file),
                "TODAY": None,
                "AUTH_SECRET": "actions-test-secret",
                "INTEGRATION_KEY": "actions-test-key",
            },
        )
        self.url = self.system.backend_url
        self._tokens: dict[str, str] = {}

    def start(self) -> Backend:
        self.system.prepare_database(seed=True)
        self.system.start_backend(timeout=40)
        return self

    def stop(self) -> None:
        self.system.stop()

    def token(self, student_id: str) -> str:
        if student_id not in self._tokens:
            r = httpx.post(f"{self.url}/api/auth/dev-login", json={"student_id": student_id}, timeout=30)
            assert r.status_code == 200, r.text
            self._tokens[student_id] = r.json()["access_token"]
        return self._tokens[student_id]

    def staff_token(self, staff_id: str) -> str:
        r = httpx.post(f"{self.url}/api/auth/dev-login", json={"staff_id": staff_id}, timeout=30)
        assert r.status_code == 200, r.text
        return r.json()["access_token"]

    def get(self, path: str, student_id: str) -> Any:
        r = httpx.get(
            self.url + path, headers={"Authorization": f"Bearer {self.token(student_id)}"}, timeout=30
        )
        assert r.status_code == 200, r.text
        return r.json()


@pytest.fixture(scope="session")
def backend(tmp_path_factory):
    b = Backend(tmp_path_factory.mktemp("actions-backend")).start()
    yield b
    b.stop()


@pytest.fixture
def fresh_backend(tmp_path):
    """A private backend for tests that change data (mailing, forms)."""
    b = Backend(tmp_path).start()
    yield b
    b.stop()


@pytest.fixture(autouse=True)
def _backend_env(request, monkeypatch):
    """Point the actions at the backend the test uses (BACKEND_URL is read per call)."""
    for name in ("fresh_backend", "backend"):
        if name in request.fixturenames:
            monkeypatch.setenv("BACKEND_URL", request.getfixturevalue(name).url)
            break
    monkeypatch.setenv("BACKEND_TIMEOUT", "3")
