"""Demo data (dates from today with the working-day calendar, checksums) and the Alembic migrations."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect

from backend.core.db import Base
from backend.validators import check_credit_code, check_id_number
from tests.backend.helpers import ROOT, database_urls, ok, start_backend, stop_backend


def _statuses(srv) -> dict:
    out = {}
    for i in range(1, 8):
        sid = f"202500000{i}"
        with srv.student(sid) as c:
            out[sid] = ok(c.get("/api/me/status"))
    return out


def check_demo(srv, today: dt.date) -> None:
    from backend import workdays

    s = _statuses(srv)
    assert all(v["today"] == today.isoformat() for v in s.values())
    one = s["2025000001"]
    assert one["destination"]["state"] == "not_started" and one["archive"]["state"] == "not_started"
    with srv.student("2025000001") as c:
        assert ok(c.get("/api/me/profile"))["personal"]["mobile"] is None
    with srv.student("2025000002") as c:
        d2 = ok(c.get("/api/me/destination"))
    assert d2["state"] == "submitted" and d2["destination_type"] == "10"
    assert (
        d2["destination_type_label"] == "签就业协议形式就业" and d2["unit"]["name"] == "小米科技有限责任公司"
    )
    three = s["2025000003"]["destination"]
    assert three["state"] == "school_rejected" and three["rejection_reason"] == "组织机构代码与单位名称不一致"
    four = s["2025000004"]
    assert four["destination"]["state"] == four["archive"]["state"] == "school_approved"
    assert four["sync"]["synced"] is True and four["national"]["confirmed"] is False
    assert (
        workdays.next_workday(dt.date.fromisoformat(four["sync"]["both_approved_on"])).isoformat()
        == four["sync"]["sync_date"]
    )
    five = s["2025000005"]
    assert five["national"]["confirmed"] is True and five["archive"]["state"] == "school_approved"
    c5 = dt.date.fromisoformat(five["national"]["confirmed_on"])
    assert workdays.next_workday(c5) < today  # more than one working day ago
    assert five["mailing"]["eligible"] is True and five["mailing"]["request"] is None
    six = s["2025000006"]["mailing"]["request"]
    assert six["state"] == "shipped" and six["ems_no"] == "1151234567890"
    seven = s["2025000007"]
    assert seven["national"]["confirmed_on"] == today.isoformat()
    assert seven["mailing"]["reason"] == "too_early"
    assert seven["mailing"]["eligible_from"] == workdays.next_workday(today).isoformat()
    # every ID number and credit code passes its own checksum
    with srv.staff("school-admin") as st:
        for i in range(1, 8):
            with srv.student(f"202500000{i}") as c:
                assert check_id_number(ok(c.get("/api/me/profile"))["roster"]["id_number"]) == []
        for item in ok(st.get("/api/staff/records", params={"kind": "destination", "limit": 500}))["items"]:
            if item["student_id"].startswith("202500000") and item["unit"]:
                assert check_credit_code(item["unit"]["credit_code"]) == []
    # staff accounts exist
    for staff in (
        "counselor-physics",
        "counselor-computer",
        "counselor-automation",
        "counselor-management",
        "school-admin",
    ):
        srv.token(staff_id=staff)


def test_demo_data_on_a_monday(server):
    server.set_today("2026-11-30")
    check_demo(server, dt.date(2026, 11, 30))


@pytest.mark.parametrize("today", ["2026-10-04", "2026-02-18", "2027-02-10", "2027-06-14"])
def test_demo_data_on_holidays_and_beyond_the_official_calendar(tmp_path, today):
    srv = start_backend(f"sqlite:///{tmp_path}/seed.db", tmp_path, seed=False)
    try:
        srv.set_today(today)
        r = srv.cli("seed")
        assert r.returncode == 0, r.stderr
        check_demo(srv, dt.date.fromisoformat(today))
        # seeding again resets the demo students only
        r = srv.cli("seed")
        assert r.returncode == 0, r.stderr
        check_demo(srv, dt.date.fromisoformat(today))
    finally:
        stop_backend(srv)


def test_roster_import_checks_id_numbers(tmp_path):
    import json

    bad = tmp_path / "roster.json"
    bad.write_text(
        json.dumps(
            [
                {
                    "id": "2025100001",
                    "name": "测试",
                    "gender": "男",
                    "college_code": "physics",
                    "major": "物理学",
                    "degree": "本科生毕业",
                    "level": "本科",
                    "graduation_date": "2027-06-30",
                    "id_number": "110105194912310021",
                }
            ]
        )
    )
    env = {"PYTHONPATH": str(ROOT), "DATABASE_URL": f"sqlite:///{tmp_path}/r.db", "PATH": "/usr/bin:/bin"}

    def run(*a):
        return subprocess.run(
            [sys.executable, "-m", "backend.cli", *a],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )

    assert run("seed").returncode == 0
    r = run("import-roster", str(bad))
    assert r.returncode == 1 and "校验位" in r.stderr
    good = json.loads(bad.read_text())
    good[0]["id_number"] = "11010519491231002X"
    bad.write_text(json.dumps(good))
    r = run("import-roster", str(bad))
    assert r.returncode == 0 and "imported 1" in r.stdout


def test_migrations_build_the_schema_from_empty(db_kind, tmp_path):
    url, drop = database_urls(tmp_path, db_kind)
    env = {"PYTHONPATH": str(ROOT), "DATABASE_URL": url, "PATH": "/usr/bin:/bin"}
    alembic = [sys.executable, "-m", "alembic", "-c", str(ROOT / "backend" / "alembic.ini")]
    try:
        r = subprocess.run(alembic + ["upgrade", "head"], cwd=ROOT, env=env, capture_output=True, text=True)
        assert r.returncode == 0, r.stderr
        engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
            assert diff == [], diff
            tables = set(inspect(conn).get_table_names())
        assert {
            "students",
            "destinations",
            "archives",
            "change_requests",
            "mailing_requests",
            "audit_log",
        } <= tables
        r = subprocess.run(alembic + ["downgrade", "base"], cwd=ROOT, env=env, capture_output=True, text=True)
        assert r.returncode == 0, r.stderr
        with engine.connect() as conn:
            assert set(inspect(conn).get_table_names()) <= {"alembic_version"}
        engine.dispose()
    finally:
        drop()
