"""Issue 9 §2: APP_ENV=production. Every process refuses to start, before it listens, with missing, short or
demo secrets or with demo login/seeding on (one message naming every offending variable); with real secrets
they start, on loopback, without the demo login."""

import os
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from system import RASA, RASA_PY, ROOT, VENV_PY, free_port
from tests.channels.channels_harness import PRODUCTION_ENV

pytestmark = pytest.mark.slow

SETTINGS = (
    "APP_ENV",
    "AUTH_SECRET",
    "INTEGRATION_KEY",
    "WECHAT_TOKEN",
    "ACTIONS_SERVICE_KEY",
    "WECHAT_AES_KEY",
    "WECHAT_APPSECRET",
    "RASA_API_TOKEN",
    "DEMO_MODE",
    "SEED",
    "CHAT_ALLOWED_ORIGINS",
    "WECHAT_APPID",
    "CAS_SERVER_URL",
    "BACKEND_PUBLIC_URL",
    "TRACKER_DB_URL",
    "TODAY",
    "TODAY_FILE",
    "WECHAT_API_BASE",
    "TOKEN_TTL_MINUTES",
    "ACTIONS_HOST",
    "CHANNEL_STATE_URL",
    "REDIS_HOST",
    "REDIS_PASSWORD",
)
BAD = {
    "APP_ENV": "production",
    "AUTH_SECRET": "demo-secret-change-me",  # the demo default
    "INTEGRATION_KEY": "short-key",  # too short
    # WECHAT_TOKEN and ACTIONS_SERVICE_KEY missing
    "WECHAT_APPSECRET": "abc",  # set but weak
    "DEMO_MODE": "1",
    "SEED": "1",
}
OFFENDING = (
    "AUTH_SECRET",
    "INTEGRATION_KEY",
    "WECHAT_TOKEN",
    "ACTIONS_SERVICE_KEY",
    "WECHAT_APPSECRET",
    "DEMO_MODE",
    "SEED",
)


def env_with(settings: dict, tmp: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in SETTINGS}
    env.update(
        PYTHONPATH=str(ROOT),
        DATABASE_URL=f"sqlite:///{tmp / 'prod.db'}",
        RASA_TELEMETRY_ENABLED="false",
        **settings,
    )
    return env


def run_refused(args, env, port, timeout=180, offending=OFFENDING, app_env="production"):
    """Start a process that must refuse: it exits non-zero, names every offending variable, never listens."""
    proc = subprocess.Popen(args, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    listened = False
    deadline = time.monotonic() + timeout
    while proc.poll() is None and time.monotonic() < deadline:
        try:
            httpx.get(f"http://127.0.0.1:{port}/", timeout=0.5)
            listened = True
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    if proc.poll() is None:
        proc.kill()
    out = proc.communicate(timeout=10)[0].decode(errors="replace")
    assert not listened, out
    assert proc.returncode not in (0, None), out
    assert f"refusing to start with APP_ENV={app_env}" in out, out
    for name in offending:
        assert name in out, (name, out)
    assert "Traceback" not in out, out
    return out


def test_backend_refuses_demo_secrets(tmp_path):
    port = free_port()
    run_refused(
        [str(VENV_PY), "-m", "uvicorn", "backend.main:app", "--host", "127.0.0.1", "--port", str(port)],
        env_with(BAD, tmp_path),
        port,
        timeout=60,
    )


def test_backend_cli_refuses_demo_secrets(tmp_path):
    r = subprocess.run(
        [str(VENV_PY), "-m", "backend.cli", "seed"],
        cwd=ROOT,
        env=env_with(BAD, tmp_path),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode != 0 and "AUTH_SECRET" in r.stderr and "Traceback" not in r.stderr


def test_action_server_refuses_demo_secrets(tmp_path):
    port = free_port()
    run_refused(
        [str(VENV_PY), "-m", "rasa_sdk", "--actions", "actions", "--port", str(port)],
        env_with(BAD, tmp_path),
        port,
        timeout=90,
    )


def test_rasa_launcher_refuses_demo_secrets(tmp_path):
    port = free_port()
    out = run_refused(
        [
            str(RASA_PY),
            "-m",
            "deploy.rasa_run",
            "run",
            "--port",
            str(port),
            "--enable-api",
            "--credentials",
            "bot/credentials.yml",
        ],
        env_with({**BAD, "RASA_API_TOKEN": "demo-rasa-api-token"}, tmp_path),
        port,
        timeout=60,
    )
    assert "RASA_API_TOKEN is a demo value" in out


def test_rasa_launcher_never_opens_the_api_without_a_token(tmp_path):
    """Outside production too: `--enable-api` without RASA_API_TOKEN does not start."""
    r = subprocess.run(
        [str(RASA_PY), "-m", "deploy.rasa_run", "run", "--enable-api"],
        cwd=ROOT,
        env=env_with({}, tmp_path),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode != 0 and "needs RASA_API_TOKEN" in r.stderr


def test_plain_rasa_run_with_our_channels_refuses_demo_secrets(tmp_path, stack):
    """An operator who runs `rasa run` by hand is stopped by the channels, before Rasa listens."""
    port = free_port()
    run_refused(
        [
            str(RASA),
            "run",
            "--model",
            str(stack.tmp / "tiny.tar.gz"),
            "--port",
            str(port),
            "--interface",
            "127.0.0.1",
            "--credentials",
            "bot/credentials.yml",
        ],
        env_with(BAD, tmp_path),
        port,
        timeout=180,
    )


def test_make_run_stops_at_once(tmp_path):
    t0 = time.monotonic()
    r = subprocess.run(
        [str(VENV_PY), "scripts/run_all.py"],
        cwd=ROOT,
        env=env_with({"APP_ENV": "production"}, tmp_path),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode != 0
    assert time.monotonic() - t0 < 20  # before training or starting anything
    for name in ("AUTH_SECRET", "INTEGRATION_KEY", "WECHAT_TOKEN", "ACTIONS_SERVICE_KEY"):
        assert f"{name} is missing" in r.stderr, r.stderr
    assert "training" not in r.stdout.lower() and "starting" not in r.stdout.lower()


# --- with real secrets ---------------------------------------------------------------------------------
def test_production_backend_has_no_demo_login_and_no_demo_page(safe_stack):
    b = safe_stack.backend_url
    r = httpx.post(f"{b}/api/auth/dev-login", json={"student_id": "2025000005"}, timeout=10)
    assert r.status_code == 404 and r.json()["code"]
    r = httpx.post(f"{b}/api/auth/dev-login", json={"staff_id": "school-admin"}, timeout=10)
    assert r.status_code == 404
    assert httpx.get(f"{b}/", timeout=10).status_code == 404
    assert httpx.get(f"{b}/api/health", timeout=10).status_code == 200


def test_production_chat_answers(safe_stack):
    r = httpx.post(safe_stack.rest, json={"sender": "prod-check", "message": "whoami"}, timeout=30)
    assert r.status_code == 200 and "会话=anon:prod-check" in r.json()[0]["text"]


def _listening(port: int) -> list[str]:
    """Local addresses (hex, as in /proc/net/tcp*) listening on `port`."""
    out = []
    for name in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(name).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            local, state = line.split()[1], line.split()[3]
            addr, p = local.rsplit(":", 1)
            if state == "0A" and int(p, 16) == port:
                out.append(addr)
    return out


def test_real_action_server_starts_in_production_on_loopback_only(tmp_path):
    from system import System

    s = System(log_dir=tmp_path, database_url=f"sqlite:///{tmp_path / 'a.db'}", env=dict(PRODUCTION_ENV))
    try:
        s.start_actions()
        addrs = _listening(s.actions_port)
        assert addrs and all(a in ("0100007F", "00000000000000000000000001000000") for a in addrs), addrs
    finally:
        s.stop()


def test_backend_and_rasa_listen_on_loopback_only(safe_stack):
    for port in (safe_stack.system.backend_port, safe_stack.system.rasa_port):
        addrs = _listening(port)
        assert addrs and all(a in ("0100007F", "00000000000000000000000001000000") for a in addrs), (
            port,
            addrs,
        )


# --- issue 21 §7: unknown APP_ENV, every deployment setting, the credentials file ---------------------------
def _processes(tmp_path, port, model=None):
    yield (
        "backend",
        [str(VENV_PY), "-m", "uvicorn", "backend.main:app", "--host", "127.0.0.1", "--port", str(port)],
    )
    yield "action server", [str(VENV_PY), "-m", "rasa_sdk", "--actions", "actions", "--port", str(port)]
    yield (
        "rasa",
        [
            str(RASA_PY),
            "-m",
            "deploy.rasa_run",
            "run",
            "--port",
            str(port),
            "--credentials",
            "bot/credentials.yml",
        ],
    )


@pytest.mark.parametrize("value", ["prod", "Prod ", "staging"])
def test_an_unknown_app_env_refuses_to_start_instead_of_running_the_demo(tmp_path, value):
    port = free_port()
    for name, args in _processes(tmp_path, port):
        out = run_refused(
            args,
            env_with({"APP_ENV": value}, tmp_path),
            port,
            timeout=90,
            offending=["APP_ENV"],
            app_env=value,
        )
        assert "must be 'production' or 'demo'" in out, (name, out)


UNSAFE = {  # otherwise good production settings, each of these wrong
    **PRODUCTION_ENV,
    "WECHAT_AES_KEY": "",  # plaintext WeChat messages
    "WECHAT_APPID": "",
    "CHAT_ALLOWED_ORIGINS": "",  # would fall back to the demo origins
    "CAS_SERVER_URL": "http://sso.bit.edu.cn/cas",  # plain http
    "BACKEND_PUBLIC_URL": "",  # the CAS service would come from the Host header
    "TODAY": "2026-06-01",
    "WECHAT_API_BASE": "http://api.weixin.qq.com",  # the app secret in clear
    "TOKEN_TTL_MINUTES": "525600",
    "ACTIONS_HOST": "0.0.0.0",
    "CHANNEL_STATE_URL": "redis://10.0.0.5:6379/2",
    "REDIS_HOST": "10.0.0.5",
}
UNSAFE_NAMED = (
    "WECHAT_AES_KEY",
    "WECHAT_APPID",
    "CHAT_ALLOWED_ORIGINS",
    "CAS_SERVER_URL",
    "BACKEND_PUBLIC_URL",
    "DATABASE_URL",
    "TRACKER_DB_URL",
    "TODAY",
    "WECHAT_API_BASE",
    "TOKEN_TTL_MINUTES",
    "ACTIONS_HOST",
    "CHANNEL_STATE_URL",
    "REDIS_PASSWORD",
)


def test_every_deployment_setting_is_checked_and_named_in_one_refusal(tmp_path):
    port = free_port()
    env = env_with(UNSAFE, tmp_path)
    env["DATABASE_URL"] = ""  # SQLite in the code folder
    for name, args in _processes(tmp_path, port):
        out = run_refused(args, env, port, timeout=90, offending=UNSAFE_NAMED)
        assert out.count("refusing to start") == 1, (name, out)
    r = subprocess.run(
        [str(VENV_PY), "scripts/run_all.py"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert r.returncode != 0 and all(n in r.stderr for n in UNSAFE_NAMED), r.stderr


def test_values_in_the_credentials_file_are_checked_too(tmp_path, stack):
    """bot/credentials.yml overrides the environment: a demo secret or plain-http API there is refused
    although the environment is right (deploy.rasa_run and a plain `rasa run` with our channels)."""
    creds = tmp_path / "credentials.yml"
    creds.write_text(
        "bot.channels.secure_rest.SecureRestInput:\n  auth_secret: demo-secret-change-me\n"
        "bot.channels.wechat.WeChatInput:\n  token: short\n  api_base: http://api.weixin.qq.com\n"
        "  aes_key: not-a-key\n",
        encoding="utf-8",
    )
    env = env_with({**PRODUCTION_ENV, "TRACKER_DB_URL": f"sqlite:///{tmp_path / 't.db'}"}, tmp_path)
    named = ("AUTH_SECRET", "WECHAT_TOKEN", "WECHAT_API_BASE", "WECHAT_AES_KEY")
    port = free_port()
    for args in (
        [str(RASA_PY), "-m", "deploy.rasa_run", "run", "--port", str(port), "--credentials", str(creds)],
        [
            str(RASA),
            "run",
            "--model",
            str(stack.tmp / "tiny.tar.gz"),
            "--port",
            str(port),
            "--interface",
            "127.0.0.1",
            "--credentials",
            str(creds),
        ],
    ):
        out = run_refused(args, env, port, timeout=180, offending=named)
        assert out.count("set in the credentials file") >= len(named), out
    # the same environment with the shipped credentials file starts (control)
    good = subprocess.run(
        [
            str(RASA_PY),
            "-c",
            "from contracts import production as p; import os; "
            "p.enforce('rasa', credentials=p.credentials_overrides('bot/credentials.yml'))",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert good.returncode == 0, good.stderr
