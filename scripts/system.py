"""Start and stop the whole system: backend, action server, Rasa server.

One launcher for `make run` (scripts/run_all.py), the end-to-end tests (tests/conftest.py) and the benchmarks,
so they all run the same processes the same way.
"""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV_PY = ROOT / ".venv" / "bin" / "python"
RASA = ROOT / ".venv-rasa" / "bin" / "rasa"
MODELS = ROOT / "models"

DEMO_ENV = {
    "DEMO_MODE": "1",
    "AUTH_SECRET": "demo-secret-change-me",
    "INTEGRATION_KEY": "demo-integration-key",
    "WECHAT_TOKEN": "demo-wechat-token",
    "RASA_TELEMETRY_ENABLED": "false",
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http_get(url: str, timeout: float = 2.0) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def http_post(url: str, body: dict, timeout: float = 30.0) -> tuple[int, object]:
    req = urllib.request.Request(url, data=json.dumps(body).encode(), headers={"content-type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null")


def latest_model() -> Path:
    models = sorted(MODELS.glob("*.tar.gz"), key=lambda p: p.stat().st_mtime)
    if not models:
        raise RuntimeError("no trained model in models/: run `make train` first")
    return models[-1]


@dataclass
class System:
    """The three processes on loopback. Ports default to free ones (tests); `make run` passes fixed ones."""

    backend_port: int = 0
    actions_port: int = 0
    rasa_port: int = 0
    database_url: str = ""
    env: dict = field(default_factory=dict)
    log_dir: Path = ROOT / "var" / "log"
    quiet: bool = True
    procs: dict = field(default_factory=dict)

    def __post_init__(self):
        self.backend_port = self.backend_port or free_port()
        self.actions_port = self.actions_port or free_port()
        self.rasa_port = self.rasa_port or free_port()
        self.log_dir.mkdir(parents=True, exist_ok=True)
        if not self.database_url:
            self.database_url = f"sqlite:///{ROOT / 'var' / 'app.db'}"

    # URLs -------------------------------------------------------------------
    @property
    def backend_url(self) -> str:
        return f"http://127.0.0.1:{self.backend_port}"

    @property
    def actions_url(self) -> str:
        return f"http://127.0.0.1:{self.actions_port}"

    @property
    def rasa_url(self) -> str:
        return f"http://127.0.0.1:{self.rasa_port}"

    @property
    def rest_webhook(self) -> str:
        return f"{self.rasa_url}/webhooks/rest/webhook"

    def child_env(self) -> dict:
        env = dict(os.environ)
        for k, v in DEMO_ENV.items():
            env.setdefault(k, v)
        # the demo page is served by the back end: its widget must reach Rasa (port) and be allowed (CORS)
        env.setdefault("CHAT_ALLOWED_ORIGINS",
                       f"http://127.0.0.1:{self.backend_port},http://localhost:{self.backend_port}")
        # Rasa's conversations (bot/tracker_store.py): the project's PostgreSQL database, or tracker.db beside
        # the SQLite one (var/tracker.db for make run; each test system its own)
        db = self.database_url
        env.setdefault("TRACKER_DB_URL", f"sqlite:///{Path(db[len('sqlite:///'):]).parent / 'tracker.db'}"
                       if db.startswith("sqlite:///") else db)
        env.update(self.env)
        env.update({
            "PYTHONPATH": str(ROOT),
            "DATABASE_URL": self.database_url,
            "BACKEND_URL": self.backend_url,
            "ACTION_ENDPOINT_URL": f"{self.actions_url}/webhook",
            "RASA_PORT": str(self.rasa_port),
            "PYTHONUNBUFFERED": "1",
        })
        return env

    # processes ----------------------------------------------------------------
    def _spawn(self, name: str, args: list[str]) -> subprocess.Popen:
        log = open(self.log_dir / f"{name}.log", "ab")
        out = None if not self.quiet else log
        proc = subprocess.Popen(args, cwd=ROOT, env=self.child_env(), stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)
        self.procs[name] = proc
        return proc

    def _wait(self, name: str, url: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            proc = self.procs[name]
            if proc.poll() is not None:
                raise RuntimeError(f"{name} exited with {proc.returncode}; see {self.log_dir / (name + '.log')}")
            try:
                status, _ = http_get(url, timeout=1.0)
                if status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.3)
        raise RuntimeError(f"{name} not ready after {timeout:.0f}s; see {self.log_dir / (name + '.log')}")

    def prepare_database(self, seed: bool = True) -> None:
        env = self.child_env()
        subprocess.run([str(VENV_PY), "-m", "backend.cli", "migrate"], cwd=ROOT, env=env, check=True)
        if seed:
            subprocess.run([str(VENV_PY), "-m", "backend.cli", "seed"], cwd=ROOT, env=env, check=True)

    def start_backend(self) -> None:
        self._spawn("backend", [str(VENV_PY), "-m", "uvicorn", "backend.main:app", "--host", "127.0.0.1",
                                "--port", str(self.backend_port), "--no-access-log"])
        self._wait("backend", f"{self.backend_url}/api/health", 60)

    def start_actions(self) -> None:
        self._spawn("actions", [str(VENV_PY), "-m", "rasa_sdk", "--actions", "actions",
                                "--port", str(self.actions_port)])
        self._wait("actions", f"{self.actions_url}/health", 60)

    def start_rasa(self, model: Path | None = None) -> None:
        model = model or latest_model()
        self._spawn("rasa", [str(RASA), "run", "--model", str(model), "--port", str(self.rasa_port),
                             "--interface", "127.0.0.1", "--enable-api", "--cors", "*",
                             "--credentials", "bot/credentials.yml", "--endpoints", "bot/endpoints.yml"])
        self._wait("rasa", f"{self.rasa_url}/status", 180)
        # The first parse traces the TensorFlow graph (about a second): pay it here, not on a student's turn.
        http_post(f"{self.rasa_url}/model/parse", {"text": "你好"}, timeout=60)

    def start(self, seed: bool = True) -> "System":
        try:
            self.prepare_database(seed=seed)
            self.start_backend()
            self.start_actions()
            self.start_rasa()
        except BaseException:
            self.stop()
            raise
        return self

    def stop_one(self, name: str) -> None:
        proc = self.procs.pop(name, None)
        if proc is None or proc.poll() is not None:
            return
        try:
            os.killpg(proc.pid, signal.SIGTERM)  # graceful: requests in progress finish (Sanic: up to 15 s)
            proc.wait(timeout=20)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

    def stop(self) -> None:
        for name in list(self.procs)[::-1]:
            self.stop_one(name)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


def say(webhook: str, sender: str, text: str, token: str | None = None, timeout: float = 30.0) -> list[dict]:
    """One turn through the REST channel, as the widget and chat_eval.py send it."""
    meta = {"token": token} if token else {}
    status, body = http_post(webhook, {"sender": sender, "message": text, "metadata": meta}, timeout=timeout)
    if status != 200:
        raise RuntimeError(f"REST channel answered {status}: {body}")
    return body or []


def dev_login(backend_url: str, student_id: str) -> str:
    status, body = http_post(f"{backend_url}/api/auth/dev-login", {"student_id": student_id})
    if status != 200:
        raise RuntimeError(f"dev-login {student_id}: {status} {body}")
    return body["access_token"]


if __name__ == "__main__":  # pragma: no cover - manual smoke run
    with System(quiet=False) as s:
        print(s.rest_webhook)
        print(say(s.rest_webhook, "smoke", sys.argv[1] if len(sys.argv) > 1 else "你好"))
