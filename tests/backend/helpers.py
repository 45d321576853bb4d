"""Helpers for the backend tests. Backend tests run against a real backend process over real HTTP, on SQLite
and (when TEST_POSTGRES_URL is set, always in CI) on PostgreSQL. The schema is built by the Alembic
migrations from an empty database."""

from __future__ import annotations

import datetime as dt
import itertools
import os
import subprocess
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from system import System, free_port  # noqa: F401 - free_port: for the tests

ROOT = Path(__file__).resolve().parents[2]
BASE_TODAY = dt.date(2026, 11, 30)  # a Monday; the demo data is seeded relative to it
INTEGRATION_KEY = "test-integration-key"
AUTH_SECRET = "test-secret"


def _postgres_db(base_url: str) -> tuple[str, callable]:
    import psycopg

    name = "be_test_" + uuid.uuid4().hex[:10]
    plain = base_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(plain, autocommit=True) as c:
        c.execute(f'CREATE DATABASE "{name}"')

    def drop() -> None:
        with psycopg.connect(plain, autocommit=True) as c:
            c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    head, _, _ = base_url.rpartition("/")
    return f"{head}/{name}", drop


class Api:
    """A view on the server's one shared HTTP client, with this caller's bearer token."""

    def __init__(self, http: httpx.Client, token: str | None) -> None:
        self._http, self._headers = http, ({"Authorization": f"Bearer {token}"} if token else {})

    def request(self, method: str, url: str, **kw) -> httpx.Response:
        kw["headers"] = {**self._headers, **(kw.get("headers") or {})}
        return self._http.request(method, url, **kw)

    def get(self, url, **kw):
        return self.request("GET", url, **kw)

    def post(self, url, **kw):
        return self.request("POST", url, **kw)

    def put(self, url, **kw):
        return self.request("PUT", url, **kw)

    def delete(self, url, **kw):
        return self.request("DELETE", url, **kw)

    def close(self) -> None:
        pass

    def __enter__(self) -> Api:
        return self

    def __exit__(self, *exc) -> None:
        pass


@dataclass
class Server:
    base: str
    db_url: str
    today_file: Path
    env: dict
    system: System  # its "backend" process

    def set_today(self, day: dt.date | str) -> None:
        self.today_file.write_text(str(day))

    def now(self) -> dt.datetime:
        """This backend's "now" (backend.core.clock on its TODAY_FILE): what its leases and timeouts compare
        with."""
        from backend.core.clock import now_on

        pinned = self.today_file.read_text().strip()
        return now_on(dt.date.fromisoformat(pinned) if pinned else None)

    def __post_init__(self) -> None:
        self.http = httpx.Client(base_url=self.base, timeout=60, trust_env=False)
        self._tokens: dict = {}

    def client(self, token: str | None = None) -> Api:
        return Api(self.http, token)

    def token(self, student_id: str | None = None, staff_id: str | None = None) -> str:
        key = (student_id, staff_id)
        if key not in self._tokens:
            body = {"student_id": student_id} if student_id else {"staff_id": staff_id}
            r = self.http.post("/api/auth/dev-login", json=body)
            assert r.status_code == 200, r.text
            self._tokens[key] = r.json()["access_token"]
        return self._tokens[key]

    def student(self, sid: str) -> httpx.Client:
        return self.client(self.token(student_id=sid))

    def staff(self, staff_id: str) -> httpx.Client:
        return self.client(self.token(staff_id=staff_id))

    def cli(self, *args: str, extra_env: dict | None = None) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "backend.cli", *args],
            cwd=ROOT,
            env={**self.env, **(extra_env or {})},
            capture_output=True,
            text=True,
            timeout=120,
        )


def start_backend(
    db_url: str, tmp: Path, extra_env: dict | None = None, seed: bool = True, public_url: bool = False
) -> Server:
    """A backend process (the launcher library's, system/) on its own database and "today" (TODAY_FILE);
    `public_url`: BACKEND_PUBLIC_URL is its own address (what single sign-on needs)."""
    today_file = tmp / "today.txt"
    today_file.write_text(BASE_TODAY.isoformat())
    system = System(
        database_url=db_url,
        log_dir=tmp / "log",
        env={
            "TODAY_FILE": str(today_file),
            "TODAY": None,
            "DEMO_MODE": "1",
            "INTEGRATION_KEY": INTEGRATION_KEY,
            "AUTH_SECRET": AUTH_SECRET,
            **(extra_env or {}),
        },
    )
    if public_url:
        system.env["BACKEND_PUBLIC_URL"] = system.backend_url
    system.prepare_database(seed=seed)
    system.start_backend(timeout=30)
    return Server(system.backend_url, db_url, today_file, system.child_env(), system)


def stop_backend(srv: Server) -> None:
    srv.http.close()
    srv.system.stop()


def database_urls(tmp: Path, kind: str):
    if kind == "sqlite":
        return f"sqlite:///{tmp}/backend.db", lambda: None
    url = os.environ.get("TEST_POSTGRES_URL")
    if not url:
        if os.environ.get("REQUIRE_POSTGRES") == "1":
            pytest.fail("REQUIRE_POSTGRES=1 but TEST_POSTGRES_URL is not set")
        pytest.skip("TEST_POSTGRES_URL not set (PostgreSQL runs in CI)")
    return _postgres_db(url)


# --- fresh roster students ----------------------------------------------------------------------------------
_seq = itertools.count(1)


def _engine(db_url: str):
    from backend.core.db import make_engine

    return make_engine(db_url)


_engines: dict = {}


def new_student(srv: Server, college: str = "physics", name: str | None = None, profile: bool = True) -> str:
    """Add a roster student (as the school's roster import would) and optionally fill the personal fields."""
    from sqlalchemy.orm import Session

    from backend.roster import import_roster
    from backend.seed import make_id_number

    n = next(_seq)
    sid = f"20{uuid.uuid4().int % 10**8:08d}"
    eng = _engines.setdefault(srv.db_url, _engine(srv.db_url))
    with Session(eng) as s:
        import_roster(
            s,
            [
                {
                    "id": sid,
                    "name": name or f"测试{n}",
                    "gender": "女",
                    "college_code": college,
                    "major": "物理学",
                    "degree": "本科生毕业",
                    "level": "本科",
                    "graduation_date": "2026-06-30",
                    "id_number": make_id_number(
                        "110105", dt.date(2003, 1, 1) + dt.timedelta(days=n), f"{n % 1000:03d}"
                    ),
                    "home_address": "北京市朝阳区望京街道花家地南街8号院3号楼2单元501室",
                }
            ],
        )
    if profile:
        with srv.student(sid) as c:
            r = c.put("/api/me/profile", json=PROFILE)
            assert r.status_code == 200, r.text
    return sid


PROFILE = {
    "political_status": "共青团员",
    "origin_place": "北京市 东城区",
    "hardship_category": "非困难生",
    "mobile": "13156785678",
    "email": "13156785678@qq.com",
    "wechat": "wx_student01",
    "counselor_name": "李华",
    "class_name": "1班",
    "emergency_contact_name": "王建国",
    "emergency_contact_phone": "13356785678",
}
UNIT = {
    "name": "小米科技有限责任公司",
    "location": "北京市海淀区",
    "address": "北京市海淀区西二旗中路33号小米科技园",
    "credit_code": "91110108551385082Q",
    "industry": "信息传输、软件和信息技术服务业",
    "nature": "其他企业(含民营企业等)",
    "job_category": "工程技术人员",
    "contact_name": "周敏",
    "contact_phone": "010-60606666",
    "contact_email": "campus@xiaomi.com",
    "affiliation": "非营利系统单位",
}
DESTINATION = {"destination_type": "10", "unit": UNIT}
ARCHIVE = {
    "transfer_type": "签约单位接收",
    "evidence": ["就业单位调档函"],
    "unit_name": "小米科技有限责任公司",
    "address": "北京市海淀区西二旗中路33号小米科技园",
    "postal_code": "100085",
    "contact_name": "周敏",
    "contact_phone": "010-60606666",
    "hukou_choice": "not_moved_in",
    "hukou_transfer_type": "签约单位接收",
}


def ok(r: httpx.Response, status: int = 200) -> dict:
    assert r.status_code == status, f"{r.status_code} {r.text}"
    return r.json()


def err(r: httpx.Response, status: int, code: str) -> dict:
    assert r.status_code == status, f"{r.status_code} {r.text}"
    body = r.json()
    assert body["code"] == code, body
    assert body["message"] and isinstance(body["message"], str)
    if status == 422:
        assert isinstance(body["fields"], list)
    return body


def staff_record(srv: Server, kind: str, rid: int, staff_id: str = "school-admin") -> dict:
    """The record as a reviewer opens it (GET /api/staff/records/{kind}/{id}), version included."""
    with srv.staff(staff_id) as c:
        return ok(c.get(f"/api/staff/records/{kind}/{rid}"))


def review(
    srv: Server,
    kind: str,
    rid: int,
    level: str,
    approve: bool = True,
    reason: str | None = None,
    college: str = "physics",
) -> dict:
    """A reviewer opens the record and decides: the review carries the version they saw."""
    staff = f"counselor-{college}" if level == "college" else "school-admin"
    version = staff_record(srv, kind, rid, staff)["version"]
    with srv.staff(staff) as c:
        return ok(
            c.post(
                f"/api/staff/records/{kind}/{rid}/review",
                json={"approve": approve, "reason": reason, "version": version},
            )
        )


def register_and_approve(srv: Server, sid: str, college: str = "physics") -> None:
    """Destination + archive filled, submitted and approved at both levels on the current "today"."""
    with srv.student(sid) as c:
        ok(c.put("/api/me/destination", json=DESTINATION))
        d = ok(c.post("/api/me/destination/submit"))
        ok(c.put("/api/me/archive", json=ARCHIVE))
        a = ok(c.post("/api/me/archive/submit"))
    for kind, rid in (("destination", d["id"]), ("archive", a["id"])):
        review(srv, kind, rid, "college", college=college)
        review(srv, kind, rid, "school")


def confirm(srv: Server, sid: str, on: dt.date | None = None) -> httpx.Response:
    body = {"student_id": sid, **({"confirmed_on": on.isoformat()} if on else {})}
    return srv.http.post(
        "/api/integration/national/confirmations", json=body, headers={"X-Integration-Key": INTEGRATION_KEY}
    )


def eligible_student(srv, college="physics") -> str:
    """Approved on Mon 2026-11-30, synced Tue, confirmed Tue; mailing possible from Wed."""
    sid = new_student(srv, college=college)
    register_and_approve(srv, sid, college=college)
    srv.set_today(BASE_TODAY + dt.timedelta(days=1))
    ok(confirm(srv, sid))
    srv.set_today(BASE_TODAY + dt.timedelta(days=2))
    return sid
