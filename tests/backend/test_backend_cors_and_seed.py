"""The backend's CORS grant goes only to the job site's origins, and demo data is never seeded in production.

- A page on another site (Origin http://evil.example) gets no Access-Control-Allow-Origin from the API, on a
  simple request or a preflight; the configured origin (CHAT_ALLOWED_ORIGINS) does. Before: `*` for everyone.
- `python -m backend.cli seed` with APP_ENV=production (and real secrets, so the start-up check passes)
  refuses and creates no demo student (whose demo login would be someone's account). Before: it seeded.
"""

from __future__ import annotations

import secrets
import subprocess
import sys

import httpx
import pytest
from sqlalchemy import create_engine, inspect, text

from tests.backend.helpers import ROOT, start_backend, stop_backend

JOB_SITE = "https://job.example.edu.cn"
EVIL = "http://evil.example"


@pytest.fixture(scope="module")
def backend(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("cors")
    srv = start_backend(f"sqlite:///{tmp}/cors.db", tmp, extra_env={"CHAT_ALLOWED_ORIGINS": f"{JOB_SITE},*"})
    yield srv
    stop_backend(srv)


@pytest.mark.parametrize("path", ["/api/health", "/api/contacts", "/api/me/status"])
def test_another_site_gets_no_cors_grant(backend, path):
    r = httpx.get(backend.base + path, headers={"Origin": EVIL})
    assert "access-control-allow-origin" not in r.headers, r.headers
    pre = httpx.options(
        backend.base + path,
        headers={
            "Origin": EVIL,
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "authorization",
        },
    )
    assert pre.headers.get("access-control-allow-origin") not in (EVIL, "*"), pre.headers


def test_the_job_site_origin_is_allowed(backend):
    r = httpx.get(backend.base + "/api/health", headers={"Origin": JOB_SITE})
    assert r.headers.get("access-control-allow-origin") == JOB_SITE
    pre = httpx.options(
        backend.base + "/api/me/status",
        headers={
            "Origin": JOB_SITE,
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "authorization",
        },
    )
    assert pre.status_code == 200 and pre.headers.get("access-control-allow-origin") == JOB_SITE


def test_seed_is_refused_in_production(tmp_path):
    db = tmp_path / "prod.db"
    env = {
        "PATH": "/usr/bin:/bin",
        "PYTHONPATH": str(ROOT),
        "DATABASE_URL": f"sqlite:///{db}",
        "APP_ENV": "production",
        **{k: secrets.token_hex(24) for k in ("AUTH_SECRET", "INTEGRATION_KEY", "ACTIONS_SERVICE_KEY")},
        "WECHAT_TOKEN": secrets.token_hex(16),
        # the deployment settings production requires (contracts/production.py, issue 21 §7)
        "WECHAT_AES_KEY": secrets.token_hex(32)[:43],
        "WECHAT_APPID": "wx" + secrets.token_hex(8),
        "CHAT_ALLOWED_ORIGINS": "https://job.bit.edu.cn",
        "CAS_SERVER_URL": "https://sso.bit.edu.cn/cas",
        "BACKEND_PUBLIC_URL": "https://job.bit.edu.cn",
        "TRACKER_DB_URL": f"sqlite:///{tmp_path / 't.db'}",
    }
    out = subprocess.run(
        [sys.executable, "-m", "backend.cli", "seed"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 2, out.stdout + out.stderr
    assert "APP_ENV=production" in out.stderr and "import-roster" in out.stderr
    if db.exists():
        eng = create_engine(f"sqlite:///{db}")
        if "students" in inspect(eng).get_table_names():
            with eng.connect() as c:
                assert c.execute(text("SELECT count(*) FROM students")).scalar() == 0
    # the same environment can still build the schema (what a real deployment does first)
    mig = subprocess.run(
        [sys.executable, "-m", "backend.cli", "migrate"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert mig.returncode == 0, mig.stderr
