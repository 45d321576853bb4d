"""Re-seeding the demo (make run does it) while demo students have notices and a notice setting (issue 15)."""
import subprocess
import sys

from tests.backend.helpers import ROOT


def test_reseed_with_notices(tmp_path):
    env = {"PYTHONPATH": str(ROOT), "DATABASE_URL": f"sqlite:///{tmp_path}/app.db", "PATH": "/usr/bin:/bin"}
    run = lambda *a: subprocess.run([sys.executable, *a], cwd=ROOT, env=env,  # noqa: E731
                                    capture_output=True, text=True, timeout=120)
    assert run("-m", "backend.cli", "migrate").returncode == 0
    assert run("-m", "backend.cli", "seed").returncode == 0
    r = run("-c", "from backend.db import SessionLocal\n"
                  "from backend import notices as N\n"
                  "with SessionLocal() as s:\n"
                  "    assert N.add(s, '2025000005', 'test:1', 'deadline', 't', 'b')\n"
                  "    assert not N.add(s, '2025000005', 'test:1', 'deadline', 't', 'b')\n"
                  "    N.set_wechat(s, '2025000005', False)\n"
                  "    s.commit()\n")
    assert r.returncode == 0, r.stderr
    r = run("-m", "backend.cli", "seed")
    assert r.returncode == 0, r.stderr
