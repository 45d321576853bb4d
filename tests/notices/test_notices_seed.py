"""Re-seeding the demo (make run does it) while demo students have notices and a notice setting (issue 15)."""

import subprocess
import sys

from tests.backend.helpers import ROOT


def seeded_cli(tmp_path):
    """`python <args>` against a fresh SQLite database that is migrated and seeded (as make run does)."""
    env = {"PYTHONPATH": str(ROOT), "DATABASE_URL": f"sqlite:///{tmp_path}/app.db", "PATH": "/usr/bin:/bin"}

    def run(*args):
        return subprocess.run(
            [sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
        )

    assert run("-m", "backend.cli", "migrate").returncode == 0
    assert run("-m", "backend.cli", "seed").returncode == 0
    return run


def test_reseed_with_notices(tmp_path):
    run = seeded_cli(tmp_path)
    r = run(
        "-c",
        "from backend.core.db import SessionLocal\n"
        "from backend.services import notice_events as events\n"
        "from backend.services.notices import inbox\n"
        "with SessionLocal() as s:\n"
        "    assert events.add(s, '2025000005', 'test:1', 'deadline', 't', 'b')\n"
        "    assert not events.add(s, '2025000005', 'test:1', 'deadline', 't', 'b')\n"
        "    inbox.set_wechat(s, '2025000005', False)\n"
        "    s.commit()\n",
    )
    assert r.returncode == 0, r.stderr
    r = run("-m", "backend.cli", "seed")
    assert r.returncode == 0, r.stderr


def test_reseed_with_a_handoff_session(tmp_path):
    """A demo student asked for a person (handoff session + messages): make run / the eval re-seed still
    works."""
    run = seeded_cli(tmp_path)
    r = run(
        "-c",
        "from backend.core.db import SessionLocal\n"
        "import datetime as dt\n"
        "from backend import models as M\n"
        "now = dt.datetime.now(dt.timezone.utc)\n"
        "with SessionLocal() as s:\n"
        "    h = M.HandoffSession(conversation='student:2025000001', channel='rest', kind='chat',\n"
        "                         state='waiting', student_id='2025000001', created_at=now)\n"
        "    s.add(h); s.flush()\n"
        "    s.add(M.HandoffMessage(session_id=h.id, sender='student', text='hi', at=now))\n"
        "    s.commit()\n",
    )
    assert r.returncode == 0, r.stderr
    r = run("-m", "backend.cli", "seed")
    assert r.returncode == 0, r.stderr


def test_every_table_of_a_student_is_reset():
    """reset_demo must clear every table with a foreign key to students.id, or re-seeding fails (FK) the day
    someone adds one."""
    from backend import models as M
    from backend.seed import STUDENT_TABLES

    covered = {m.__table__.name for m in STUDENT_TABLES} | {"notices", "notice_settings"}
    owning = {
        t.name
        for t in M.Base.metadata.sorted_tables
        if any(fk.column.table.name == "students" for fk in t.foreign_keys)
    }
    assert owning - covered == set(), f"reset_demo misses {owning - covered}"
