"""The `make run` launcher (scripts/run_all.py) as a subprocess (issue 10 §4): a process killed with -9 is
restarted with back-off while the others keep serving; Ctrl-C stops everything and leaves no process
behind."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path

import pytest

from system import ROOT, VENV_PY, free_port, http_get, say

pytestmark = pytest.mark.slow
FAQ = "两级审核通过后多久同步到国家平台"


class Launcher:
    def __init__(self, tmp: Path) -> None:
        self.ports = {"BACKEND_PORT": free_port(), "ACTIONS_PORT": free_port(), "RASA_PORT": free_port()}
        env = dict(
            os.environ,
            PYTHONPATH=str(ROOT),
            DATABASE_URL=f"sqlite:///{tmp / 'app.db'}",
            SEED="1",
            **{k: str(v) for k, v in self.ports.items()},
        )
        env.pop("TRACKER_DB_URL", None)
        self.proc = subprocess.Popen(
            [str(VENV_PY), "scripts/run_all.py", "--no-train", "--log-dir", str(tmp / "log")],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.lines: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            self.lines.append(line.rstrip("\n"))

    def wait_for(self, pattern: str, timeout: float) -> re.Match:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in list(self.lines):
                m = re.search(pattern, line)
                if m:
                    return m
            if self.proc.poll() is not None and not any(re.search(pattern, ln) for ln in self.lines):
                break
            time.sleep(0.2)
        raise AssertionError(f"no line matching {pattern!r}; output:\n" + "\n".join(self.lines[-40:]))


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def listening(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(1)
        return s.connect_ex(("127.0.0.1", port)) == 0


def test_a_killed_backend_comes_back_faq_keeps_working_and_ctrl_c_stops_all(tmp_path):
    run = Launcher(tmp_path)
    try:
        m = run.wait_for(r"Processes \(pid\): backend (\d+), actions (\d+), rasa (\d+)", 400)
        pids = {"backend": int(m[1]), "actions": int(m[2]), "rasa": int(m[3])}
        backend = f"http://127.0.0.1:{run.ports['BACKEND_PORT']}"
        webhook = f"http://127.0.0.1:{run.ports['RASA_PORT']}/webhooks/rest/webhook"
        assert "工作日" in str(say(webhook, "supervised", FAQ))

        os.kill(pids["backend"], signal.SIGKILL)
        t0 = time.monotonic()
        run.wait_for(r"backend exited with code -9; restarting in 1s", 10)
        # Rasa and the action server were not taken down with it
        assert "工作日" in str(say(webhook, "supervised", FAQ))
        assert alive(pids["rasa"]) and alive(pids["actions"])
        back = int(run.wait_for(r"backend is back \(pid (\d+)\)", 60)[1])
        assert back != pids["backend"] and http_get(f"{backend}/api/health")[0] == 200
        assert time.monotonic() - t0 < 30  # 1 s back-off plus the backend's start
        assert "backend exited" in (tmp_path / "log" / "supervisor.log").read_text(encoding="utf-8")

        run.proc.send_signal(signal.SIGINT)  # Ctrl-C
        assert run.proc.wait(90) == 0
    finally:
        if run.proc.poll() is None:
            run.proc.kill()
    assert not [n for n, p in {**pids, "backend (restarted)": back}.items() if alive(p)], run.lines[-20:]
    assert not [n for n, p in run.ports.items() if listening(p)]
    assert ">> stopped" in run.lines
