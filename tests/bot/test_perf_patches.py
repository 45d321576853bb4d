"""bot/perf.py inside a real `rasa run` (tiny keyword bot from tests/channels, our channels, a fake action
server).

- keep-alive: the action server sees every action call of several turns arrive on ONE reused TCP connection;
  the control run (PERF_PATCHES=0, stock Rasa) opens a new connection per call, so the check can fail.
- validation: an action response whose events break Rasa's events schema is still rejected (its text never
  reaches the user), the valid ones still answer.
- timeout: with the shared session the ACTION_TIMEOUT cap still ends a hung action call, and the next turn
  works.
- SQLite tracker store: the patched run keeps its conversations in a SQL tracker store on SQLite, in WAL mode.
- guard: on another Rasa version, or if the patched functions changed, the module warns and leaves Rasa alone.
"""

from __future__ import annotations

import http.server
import json
import os
import sqlite3
import subprocess
import threading
import time
from pathlib import Path

import httpx
import pytest

from system import RASA, ROOT, System, free_port
from tests.channels.channels_harness import train_tiny_model

pytestmark = pytest.mark.slow

INVALID_TEXT = "无效事件不应送达"
SLOW_SECONDS = 4.0
ACTION_TIMEOUT = 2


class KeepAliveActions:
    """A fake action server speaking HTTP/1.1 keep-alive that records the client port of every call."""

    def __init__(self) -> None:
        self.calls: list[tuple[int, str]] = []  # (client port, action name)
        fake = self

        class H(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def _json(self, status, obj):
                data = json.dumps(obj, ensure_ascii=False).encode()
                try:
                    self.send_response(status)
                    self.send_header("content-type", "application/json; charset=utf-8")
                    self.send_header("content-length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:  # the caller gave up (timeout test)
                    self.close_connection = True

            def do_GET(self):
                self._json(200, {"status": "ok"})

            def do_POST(self):
                n = int(self.headers.get("content-length") or 0)
                req = json.loads(self.rfile.read(n) or b"{}")
                name = req.get("next_action") or ""
                fake.calls.append((self.client_address[1], name))
                if name == "action_link":  # events that break the schema: a metadata that is not an object
                    return self._json(
                        200,
                        {
                            "events": [
                                {"event": "slot", "name": "x", "value": 1, "metadata": "not-an-object"}
                            ],
                            "responses": [{"text": INVALID_TEXT}],
                        },
                    )
                if name == "action_slow":
                    time.sleep(SLOW_SECONDS)
                    return self._json(200, {"events": [], "responses": [{"text": "慢速回复完成"}]})
                self._json(200, {"events": [], "responses": [{"text": f"第{len(fake.calls)}次动作"}]})

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def ports(self, action: str) -> list[int]:
        return [p for p, name in self.calls if name == action]

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


class RasaUnderTest:
    def __init__(self, tmp: Path, model: Path, patches: bool, tracker_db: Path | None = None) -> None:
        self.actions = KeepAliveActions()
        endpoints = tmp / "endpoints.yml"
        endpoints.write_text(
            f'action_endpoint:\n  url: "{self.actions.url}/webhook"\n'
            + (
                f'tracker_store:\n  type: SQL\n  dialect: sqlite\n  db: "{tracker_db}"\n'
                if tracker_db
                else ""
            )
        )
        self.system = System(
            backend_port=free_port(),
            actions_port=free_port(),
            log_dir=tmp / "log",
            env={"ACTION_TIMEOUT": str(ACTION_TIMEOUT), "PERF_PATCHES": "1" if patches else "0"},
        )
        try:
            self.system._spawn(
                "rasa",
                [
                    str(RASA),
                    "run",
                    "--model",
                    str(model),
                    "--port",
                    str(self.system.rasa_port),
                    "--interface",
                    "127.0.0.1",
                    "--credentials",
                    str(ROOT / "bot" / "credentials.yml"),
                    "--endpoints",
                    str(endpoints),
                ],
            )
            self.system._wait("rasa", f"{self.system.rasa_url}/", 180)
        except BaseException:
            self.stop()
            raise
        self.log = tmp / "log" / "rasa.log"

    def say(self, sender: str, text: str) -> list[str]:
        r = httpx.post(self.system.rest_webhook, json={"sender": sender, "message": text}, timeout=30)
        assert r.status_code == 200, r.text
        return [m.get("text") or "" for m in r.json()]

    def stop(self) -> None:
        self.system.stop()
        self.actions.close()


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory) -> Path:
    return train_tiny_model(tmp_path_factory.mktemp("perf-model"))


@pytest.fixture(scope="module")
def patched(tmp_path_factory, tiny_model):
    tmp = tmp_path_factory.mktemp("perf-on")
    r = RasaUnderTest(tmp, tiny_model, patches=True, tracker_db=tmp / "tracker.db")
    r.tracker_db = tmp / "tracker.db"
    yield r
    r.stop()


def test_patches_reported_active_at_start(patched):
    log = patched.log.read_text(errors="replace")
    assert "bot.perf: action_validation=on, endpoint_sessions=on, sqlite_tracker_store=on" in log, log[-3000:]


def test_action_calls_reuse_one_connection(patched):
    for _ in range(5):
        assert patched.say("perf-keepalive", "whoami")[0].endswith("次动作")
    ports = patched.actions.ports("action_whoami")
    assert len(ports) == 5
    assert len(set(ports)) == 1, f"new TCP connection per action call: client ports {ports}"


def test_invalid_action_events_are_still_rejected(patched):
    texts = patched.say("perf-invalid", "链接")
    assert patched.actions.ports("action_link"), "the action was not called"
    assert INVALID_TEXT not in texts
    log = patched.log.read_text(errors="replace")
    assert "Failed to validate Action server response" in log
    # and a valid response right after is delivered as usual
    assert patched.say("perf-invalid", "whoami")[0].endswith("次动作")


def test_action_timeout_still_caps_a_hung_call_on_the_shared_session(patched):
    t0 = time.monotonic()
    texts = patched.say("perf-timeout", "慢速测试")
    elapsed = time.monotonic() - t0
    assert "慢速回复完成" not in texts
    assert elapsed < SLOW_SECONDS - 0.5, f"waited {elapsed:.1f}s: ACTION_TIMEOUT={ACTION_TIMEOUT} not applied"
    # the shared session survives the timeout
    assert patched.say("perf-timeout", "whoami")[0].endswith("次动作")


def test_sqlite_tracker_store_runs_in_wal_mode(patched):
    assert patched.say("perf-sql", "whoami")[0].endswith("次动作")
    with sqlite3.connect(patched.tracker_db) as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        n = db.execute("SELECT count(*) FROM events WHERE sender_id = 'anon:perf-sql'").fetchone()[0]
    assert n >= 4  # session start, user message, action, bot reply ...


def test_control_without_patches_opens_a_connection_per_call(tmp_path_factory, tiny_model):
    """Stock Rasa 3.6 (PERF_PATCHES=0): what the keep-alive test would see without bot/perf.py."""
    r = RasaUnderTest(tmp_path_factory.mktemp("perf-off"), tiny_model, patches=False)
    try:
        for _ in range(3):
            r.say("perf-control", "whoami")
        ports = r.actions.ports("action_whoami")
        assert len(ports) == 3 and len(set(ports)) == 3, ports
        assert "bot.perf: disabled by PERF_PATCHES" in r.log.read_text(errors="replace")
    finally:
        r.stop()


GUARD_SCRIPT = r"""
import logging, sys
logging.basicConfig(level=logging.WARNING, stream=sys.stdout, format="%(message)s")
import rasa
mode = sys.argv[1]
from rasa.core.actions.action import RemoteAction
from rasa.utils.endpoints import EndpointConfig
orig_validate, orig_session = RemoteAction._validate_action_result, EndpointConfig.session
if mode == "version":
    rasa.__version__ = "3.7.0"
else:  # Rasa internals changed under the same version string
    def _validate_action_result(self, result):
        return True
    RemoteAction._validate_action_result = orig_validate = _validate_action_result
import bot.perf as perf
applied = perf.apply()
print("APPLIED", sorted(applied.items()))
print("VALIDATE_UNTOUCHED", RemoteAction._validate_action_result is orig_validate)
print("SESSION_UNTOUCHED", EndpointConfig.session is orig_session)
"""


def _guard(mode: str) -> str:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    env.pop("PERF_PATCHES", None)
    out = subprocess.run(
        [str(ROOT / ".venv-rasa" / "bin" / "python"), "-c", GUARD_SCRIPT, mode],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    return out.stdout


def test_other_rasa_version_is_left_alone():
    out = _guard("version")
    assert "written for Rasa 3.6.21, found 3.7.0" in out
    assert (
        "APPLIED [('action_validation', False), ('endpoint_sessions', False), "
        "('sqlite_tracker_store', False)]"
    ) in out
    assert "VALIDATE_UNTOUCHED True" in out and "SESSION_UNTOUCHED True" in out


def test_changed_internals_are_left_alone():
    out = _guard("changed")
    assert "_validate_action_result is not the Rasa 3.6.21 one" in out
    assert (
        "APPLIED [('action_validation', False), ('endpoint_sessions', True), ('sqlite_tracker_store', True)]"
    ) in out
    assert "VALIDATE_UNTOUCHED True" in out and "SESSION_UNTOUCHED False" in out
