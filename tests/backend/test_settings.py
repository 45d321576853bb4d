"""backend.core.config.Settings (pydantic-settings): the environment variables and their demo defaults."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from backend.core.config import Settings

ROOT = Path(__file__).resolve().parents[2]
ENV = (
    "APP_ENV",
    "DEMO_MODE",
    "CHAT_ALLOWED_ORIGINS",
    "ACTION_TOKEN_TTL_SECONDS",
    "CAS_SERVER_URL",
    "AUTH_SECRET",
)


@pytest.fixture
def env(monkeypatch):
    for name in ENV:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_demo_defaults(env) -> None:
    s = Settings()
    assert s.demo_mode is True and s.production is False
    assert s.allowed_origins == ("http://127.0.0.1:8000", "http://localhost:8000")
    assert s.action_token_ttl_seconds == 300 and s.token_ttl_minutes == 720
    assert "demo-secret-change-me" not in repr(s)  # secrets stay out of logs


def test_environment_is_read_and_cleaned(env) -> None:
    env.setenv("CHAT_ALLOWED_ORIGINS", "https://job.example.edu.cn/, *, http://b")
    env.setenv("DEMO_MODE", "off")
    env.setenv("ACTION_TOKEN_TTL_SECONDS", "9999")
    env.setenv("CAS_SERVER_URL", "https://sso.example.edu.cn/cas/")
    s = Settings()
    assert s.allowed_origins == ("https://job.example.edu.cn", "http://b")  # never `*`
    assert s.demo_mode is False and s.action_token_ttl_seconds == 300  # capped at 5 minutes
    assert s.cas_server_url == "https://sso.example.edu.cn/cas"
    env.setenv("ACTION_TOKEN_TTL_SECONDS", "soon")
    assert Settings().action_token_ttl_seconds == 300


def test_production_refuses_demo_secrets_without_a_traceback(tmp_path) -> None:
    r = subprocess.run(
        [sys.executable, "-c", "import backend.core.config"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        env={
            "PYTHONPATH": str(ROOT),
            "APP_ENV": "production",
            "AUTH_SECRET": "demo-secret-change-me",
            "DEMO_MODE": "1",
        },
    )
    assert r.returncode == 78, r.stderr
    assert "refusing to start with APP_ENV=production" in r.stderr and "Traceback" not in r.stderr
    for name in ("AUTH_SECRET", "INTEGRATION_KEY", "ACTIONS_SERVICE_KEY", "DEMO_MODE"):
        assert name in r.stderr
