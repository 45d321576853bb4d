"""The processes of the system on loopback: backend (uvicorn), action server (rasa_sdk), Rasa server; start,
wait until ready, stop; and the small HTTP clients the launchers and tests use (say, dev_login)."""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from contracts import demo as demo_defaults
from contracts import production

ROOT = Path(__file__).resolve().parent.parent
VENV_PY = ROOT / ".venv" / "bin" / "python"
RASA = ROOT / ".venv-rasa" / "bin" / "rasa"
RASA_PY = ROOT / ".venv-rasa" / "bin" / "python"
MODELS = ROOT / "models"

DEMO_ENV = {
    "DEMO_MODE": "1",
    **demo_defaults.SECRETS,
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


def http_post(url: str, body: dict, timeout: float = 30.0) -> tuple[int, Any]:
    req = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers={"content-type": "application/json"}
    )
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


def run_on_model(script: str, *args: Any, model: Path | None = None, timeout: float = 300) -> Any:
    """Run `script` in Rasa's Python with argv [model path (the latest by default), each arg as JSON]; it
    prints one line "RESULT<json>": its value. No such line: RuntimeError with the output's tails."""
    env = dict(os.environ, PYTHONPATH=str(ROOT), RASA_TELEMETRY_ENABLED="false")
    out = subprocess.run(
        [
            str(RASA_PY),
            "-c",
            script,
            str(model or latest_model()),
            *(json.dumps(a, ensure_ascii=False) for a in args),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    line = next((x for x in out.stdout.splitlines() if x.startswith("RESULT")), None)
    if line is None:
        raise RuntimeError(f"no RESULT line:\n{out.stdout[-2000:]}\n{out.stderr[-3000:]}")
    return json.loads(line[len("RESULT") :])


@dataclass
class System:
    """The three processes on loopback. Ports default to free ones (tests); `make run` passes fixed ones.

    Rasa's management HTTP API (/status, /model/parse, /conversations/...) is off unless `rasa_api=True`; then
    it needs `?token=<rasa_api_token>` (RASA_API_TOKEN from the environment, else a random one per run).
    Hosts: BACKEND_HOST, ACTIONS_HOST, RASA_HOST (default 127.0.0.1: loopback only).
    `chat_limits`: the REST channel's messages-per-minute limits (CHAT_RATE_*), off unless True or set in
    `env`. `handoff_hours`: HANDOFF_HOURS of the processes, "always" by default so no test or benchmark
    depends on the time of day (a test that needs the closed case passes env={"HANDOFF_HOURS": "never"}); None
    (make run): the process environment's, else the backend's default (08:30-17:30 on working days).
    """

    backend_port: int = 0
    actions_port: int = 0
    rasa_port: int = 0
    database_url: str = ""
    env: dict = field(default_factory=dict)
    log_dir: Path = ROOT / "var" / "log"
    quiet: bool = True
    rasa_api: bool = False
    rasa_api_token: str = ""
    handoff_hours: str | None = "always"
    chat_limits: bool = False  # the chat's messages-per-minute limits (make run: on; tests, benchmarks: off)
    procs: dict = field(default_factory=dict)
    # each process's operations port on loopback: /metrics, /health, /ready (ops/exporter.py; issue 23)
    backend_metrics_port: int = 0
    actions_metrics_port: int = 0
    rasa_metrics_port: int = 0
    ops_ports: dict = field(default_factory=dict)  # process name -> its operations port

    def __post_init__(self):
        self.backend_port = self.backend_port or free_port()
        self.actions_port = self.actions_port or free_port()
        self.rasa_port = self.rasa_port or free_port()
        self.backend_metrics_port = self.backend_metrics_port or free_port()
        self.actions_metrics_port = self.actions_metrics_port or free_port()
        self.rasa_metrics_port = self.rasa_metrics_port or free_port()
        self.log_dir.mkdir(parents=True, exist_ok=True)
        if not self.database_url:
            self.database_url = f"sqlite:///{ROOT / 'var' / 'app.db'}"
        if self.rasa_api and not self.rasa_api_token:
            self.rasa_api_token = (
                self.env.get("RASA_API_TOKEN")
                or os.environ.get("RASA_API_TOKEN")
                or secrets.token_urlsafe(32)
            )

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

    @staticmethod
    def ops_url(port: int, path: str = "/metrics") -> str:
        """A URL of a process's operations port (/metrics, /health, /ready)."""
        return f"http://127.0.0.1:{port}{path}"

    def metrics_targets(self) -> dict:
        """Process name -> host:port of its /metrics (the scrape targets of a Prometheus)."""
        return {
            "backend": f"127.0.0.1:{self.backend_metrics_port}",
            "actions": f"127.0.0.1:{self.actions_metrics_port}",
            "rasa": f"127.0.0.1:{self.rasa_metrics_port}",
        }

    def rasa_api_url(self, path: str) -> str:
        """URL of a Rasa management-API route with the API token (needs `rasa_api=True`)."""
        if not self.rasa_api:
            raise RuntimeError("Rasa's management API is off: start the System with rasa_api=True")
        sep = "&" if "?" in path else "?"
        return f"{self.rasa_url}{path}{sep}token={urllib.parse.quote(self.rasa_api_token)}"

    def host(self, name: str) -> str:
        return self.env.get(f"{name}_HOST") or os.environ.get(f"{name}_HOST") or "127.0.0.1"

    def child_env(self) -> dict:
        env = dict(os.environ)
        demo = not production.is_production({**env, **self.env})
        for k, v in DEMO_ENV.items():  # demo secrets only for the demo: production must bring its own
            if demo or k == "RASA_TELEMETRY_ENABLED":
                env.setdefault(k, v)
        # the demo page is served by the back end: its widget must reach Rasa (port) and be allowed (CORS)
        env.setdefault(
            "CHAT_ALLOWED_ORIGINS",
            f"http://127.0.0.1:{self.backend_port},http://localhost:{self.backend_port}",
        )
        # Rasa's conversations (bot/tracker_store.py): the project's PostgreSQL database, or tracker.db beside
        # the SQLite one (var/tracker.db for make run; each test system its own)
        db = self.database_url
        env.setdefault(
            "TRACKER_DB_URL",
            f"sqlite:///{Path(db[len('sqlite:///') :]).parent / 'tracker.db'}"
            if db.startswith("sqlite:///")
            else db,
        )
        env.update(
            {
                # the repository first, then whatever the parent had (e.g. tests/timeshift for `make
                # test-dates`)
                "PYTHONPATH": os.pathsep.join(
                    dict.fromkeys(
                        [str(ROOT), *filter(None, os.environ.get("PYTHONPATH", "").split(os.pathsep))]
                    )
                ),
                "DATABASE_URL": self.database_url,
                "BACKEND_URL": self.backend_url,
                "ACTION_ENDPOINT_URL": f"{self.actions_url}/webhook",
                "RASA_PORT": str(self.rasa_port),
                "PYTHONUNBUFFERED": "1",
            }
        )
        if self.handoff_hours is not None:
            env["HANDOFF_HOURS"] = self.handoff_hours
        if not self.chat_limits:  # one loopback client sends every benchmark's and test's messages
            env.setdefault("CHAT_RATE_PER_CONVERSATION", "0")
            env.setdefault("CHAT_RATE_PER_CLIENT", "0")
        env.update(self.env)  # the caller's settings win (a test may give the backend another RASA_PORT)
        # the backend (uvicorn) believes X-Forwarded-For only from the proxy Rasa believes (default: nobody)
        env.setdefault("FORWARDED_ALLOW_IPS", env.get("TRUSTED_PROXIES") or "")
        for k in [k for k, v in env.items() if v is None]:  # `env={"TODAY": None}` removes a variable
            del env[k]
        if self.rasa_api:
            env["RASA_API_TOKEN"] = self.rasa_api_token
        return env

    # processes ----------------------------------------------------------------
    def _spawn(self, name: str, args: list[str], extra_env: dict | None = None) -> subprocess.Popen:
        log = open(self.log_dir / f"{name}.log", "ab")
        out = None if not self.quiet else log
        env = self.child_env()
        env.update(extra_env or {})
        proc = subprocess.Popen(
            args, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
        self.procs[name] = proc
        if env.get("METRICS_PORT", "").isdigit():
            self.ops_ports[name] = int(env["METRICS_PORT"])
        return proc

    def wait_ready(self, name: str, timeout: float = 60) -> None:
        """Wait for the process's /ready (its operations port) when it has one."""
        if name in self.ops_ports:
            self._wait(name, self.ops_url(self.ops_ports[name], "/ready"), timeout)

    def _wait(self, name: str, url: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            proc = self.procs[name]
            if proc.poll() is not None:
                raise RuntimeError(
                    f"{name} exited with {proc.returncode}; see {self.log_dir / (name + '.log')}"
                    + self._log_tail(name)
                )
            try:
                status, _ = http_get(url, timeout=1.0)
                if status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.3)
        raise RuntimeError(
            f"{name} not ready after {timeout:.0f}s; see {self.log_dir / (name + '.log')}"
            + self._log_tail(name)
        )

    def _log_tail(self, name: str, lines: int = 12) -> str:
        """The end of a process's log, for the error (a CI run keeps only what the test printed)."""
        try:
            text = (self.log_dir / f"{name}.log").read_text(errors="replace")
        except OSError:
            return ""
        return "\n--- last lines of the log ---\n" + "\n".join(text.splitlines()[-lines:])

    def prepare_database(self, seed: bool = True) -> None:
        env = self.child_env()
        subprocess.run([str(VENV_PY), "-m", "backend.cli", "migrate"], cwd=ROOT, env=env, check=True)
        if seed:
            subprocess.run([str(VENV_PY), "-m", "backend.cli", "seed"], cwd=ROOT, env=env, check=True)

    def metrics_dir(self, name: str) -> Path:
        """PROMETHEUS_MULTIPROC_DIR of a service with several worker processes, emptied before it starts."""
        d = self.log_dir.parent / "metrics" / name
        shutil.rmtree(d, ignore_errors=True)
        d.mkdir(parents=True)
        return d

    def start_backend(self, workers: int = 1, timeout: float = 60) -> None:
        extra = {"METRICS_PORT": str(self.backend_metrics_port)}
        if workers > 1:  # the workers share their metrics; the one that binds METRICS_PORT serves them all
            extra["PROMETHEUS_MULTIPROC_DIR"] = str(self.metrics_dir(f"backend-{self.backend_port}"))
        self._spawn(
            "backend",
            [
                str(VENV_PY),
                "-m",
                "uvicorn",
                "backend.main:app",
                "--host",
                self.host("BACKEND"),
                "--port",
                str(self.backend_port),
                "--no-access-log",
            ]
            + (["--workers", str(workers)] if workers > 1 else []),
            extra,
        )
        self._wait("backend", f"{self.backend_url}/api/health", timeout)
        self.wait_ready("backend", timeout)  # the database answers

    def spawn_actions(self, name: str = "actions", port: int = 0, metrics_port: int = 0) -> None:
        # rasa_sdk has no --host: it listens on SANIC_HOST (its default is 0.0.0.0, all interfaces)
        self._spawn(
            name,
            [
                str(VENV_PY),
                "-m",
                "rasa_sdk",
                "--actions",
                "actions",
                "--port",
                str(port or self.actions_port),
            ],
            {
                "SANIC_HOST": self.host("ACTIONS"),
                "METRICS_PORT": str(metrics_port or self.actions_metrics_port),
            },
        )

    def start_actions(self) -> None:
        self.spawn_actions()
        self._wait("actions", f"{self.actions_url}/health", 60)
        backend = self.procs.get("backend")
        if (
            backend is not None and backend.poll() is None
        ):  # /ready: the backend answers (while it runs: a restart
            self.wait_ready("actions")  # with the backend down must not fail for it)

    def rasa_args(
        self, model: Path, credentials: str = "bot/credentials.yml", endpoints: str = "bot/endpoints.yml"
    ) -> list[str]:
        """`rasa run` through deploy/rasa_run.py: the API only when asked, its token from the environment."""
        args = [
            str(RASA_PY),
            "-m",
            "deploy.rasa_run",
            "run",
            "--model",
            str(model),
            "--port",
            str(self.rasa_port),
            "--interface",
            self.host("RASA"),
            "--credentials",
            credentials,
            "--endpoints",
            endpoints,
        ]
        return args + (["--enable-api"] if self.rasa_api else [])

    def wait_rasa(self, timeout: float = 180) -> None:
        # the channel answers only once the model is loaded (Rasa loads it before it listens); /ready says so
        self._wait("rasa", f"{self.rasa_url}/webhooks/rest/", timeout)
        self.wait_ready("rasa", 30)

    def start_rasa(
        self,
        model: Path | None = None,
        endpoints: str = "bot/endpoints.yml",
        credentials: str = "bot/credentials.yml",
        extra_args: list | tuple = (),
        warm_up: bool = True,
    ) -> None:
        self._spawn(
            "rasa",
            self.rasa_args(model or latest_model(), credentials, endpoints) + list(extra_args),
            {"METRICS_PORT": str(self.rasa_metrics_port)},
        )
        self.wait_rasa()
        if (
            warm_up
        ):  # the first turn traces the TensorFlow graph (about a second): pay it here, not on a student's
            http_post(self.rest_webhook, {"sender": "warm-up", "message": "你好"}, timeout=60)

    def start(
        self, seed: bool = True, model: Path | None = None, endpoints: str = "bot/endpoints.yml"
    ) -> System:
        try:
            self.prepare_database(seed=seed)
            self.start_backend()
            self.start_actions()
            self.start_rasa(model, endpoints)
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
