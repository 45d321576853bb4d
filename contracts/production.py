"""Production start-up checks shared by the backend, the action server and Rasa (with our channels).

Plain Python on purpose: it is imported from both virtual environments (pydantic 1 and 2), with PYTHONPATH at
the repository root. `APP_ENV=production` is the deployment switch; anything else is the demo.

`APP_ENV` must be unset, `demo` or `production` (APP_ENVS): anything else (`prod`, `Production `...) refuses
to start in every mode rather than run the demo by mistake. In production a process refuses to start, before
it listens, while any secret is missing, shorter than MIN_SECRET_BYTES or a known demo value, while demo login
/ demo seeding is on, or while a deployment setting is missing or unsafe (issue 21 §7: WeChat safe mode and
app id, the allowed origins, CAS and the public URL the CAS service is built from, both databases, no pinned
date, https for WeChat's API, a bounded token lifetime, the action server on loopback, Redis with a password).
Rasa also checks the values its channels take from bot/credentials.yml, which override the environment. One
message names every problem; the process exits with status EXIT_CODE.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from contracts import demo

MIN_SECRET_BYTES = 32
EXIT_CODE = 78  # EX_CONFIG

APP_ENVS = ("", "demo", "production")  # "" = unset: the demo
ROOT = Path(__file__).resolve().parent.parent
# Secrets every process of a deployment must have (one environment for all three processes).
REQUIRED_SECRETS = ("AUTH_SECRET", "INTEGRATION_KEY", "WECHAT_TOKEN", "ACTIONS_SERVICE_KEY", "WECHAT_AES_KEY")
# Checked only when set (a deployment without the customer-service API may leave it empty).
OPTIONAL_SECRETS = ("WECHAT_APPSECRET",)
LOOPBACK = {"127.0.0.1", "::1", "localhost"}
TOKEN_TTL_RANGE = (5, 1440)  # minutes a web token may live in production
# bot/credentials.yml: a channel's key -> the environment variable it overrides (both channels read the file's
# value first), checked by Rasa with the same rules
CREDENTIAL_KEYS: dict[str, dict[str, str]] = {
    "bot.channels.secure_rest.SecureRestInput": {
        "auth_secret": "AUTH_SECRET",
        "cors_origins": "CHAT_ALLOWED_ORIGINS",
    },
    "bot.channels.wechat.WeChatInput": {
        "token": "WECHAT_TOKEN",
        "aes_key": "WECHAT_AES_KEY",
        "appid": "WECHAT_APPID",
        "appsecret": "WECHAT_APPSECRET",
        "api_base": "WECHAT_API_BASE",
        "integration_key": "INTEGRATION_KEY",
    },
}

# Values shipped with the demo, the tests or the docs: never acceptable in production.
DEMO_VALUES = {
    *demo.SECRETS.values(),
    demo.RASA_API_TOKEN,
    "test-wechat-token",
    "test-app-secret",
    "actions-test-secret",
}
DEMO_MARKERS = ("change-me", "changeme", "demo-", "example")
TRUE = {"1", "true", "yes", "on"}


def app_env(env: Mapping[str, str] | None = None) -> str:
    env = os.environ if env is None else env
    return (env.get("APP_ENV") or "").strip().lower()


def is_production(env: Mapping[str, str] | None = None) -> bool:
    return app_env(env) == "production"


def _url_problem(
    name: str, value: str | None, required: bool = True, loopback_http: bool = False, what: str = "URL"
) -> str | None:
    """https:// with a host (plain http only to this machine when `loopback_http`), else the problem."""
    value = (value or "").strip()
    if not value:
        return f"{name} is missing" if required else None
    try:
        u = urlsplit(value)
        host = u.hostname
    except ValueError:
        return f"{name} is not a valid {what} ({value!r})"
    if host and (u.scheme == "https" or (u.scheme == "http" and loopback_http and host in LOOPBACK)):
        return None
    extra = " (plain http only to 127.0.0.1/localhost)" if loopback_http else ""
    return f"{name} must be an https:// {what}{extra}, not {value!r}"


def _database_problem(name: str, value: str | None) -> str | None:
    value = (value or "").strip()
    if not value:
        return f"{name} is missing (the code falls back to SQLite in the code folder)"
    if value.startswith("sqlite"):
        path = value.split("///", 1)[1] if "///" in value else ""
        try:
            inside = not path or Path(path).resolve().is_relative_to(ROOT)
        except (OSError, ValueError):
            inside = True
        if inside:
            return f"{name} points to SQLite in the code folder: use the production database"
    return None


def _deployment_problems(env: Mapping[str, str]) -> list[str]:
    """The settings a deployment must give (issue 21 §7), beyond the secrets."""
    out: list[str] = []
    aes = (env.get("WECHAT_AES_KEY") or "").strip()
    if aes and not re.fullmatch(r"[A-Za-z0-9+/]{43}", aes):
        out.append("WECHAT_AES_KEY is not a WeChat EncodingAESKey (43 letters/digits)")
    if not re.fullmatch(r"wx[0-9A-Za-z]{16}", (env.get("WECHAT_APPID") or "").strip()):
        out.append(
            "WECHAT_APPID is missing or not an app id (wx + 16 characters): safe-mode messages are checked "
            "against it"
        )
    raw = env.get("CHAT_ALLOWED_ORIGINS")
    origins = [o.strip() for o in (raw or "").split(",") if o.strip()]
    if not origins:
        out.append(
            "CHAT_ALLOWED_ORIGINS is missing (the demo origins would be used): list the job site's origins"
        )
    elif "*" in origins:
        out.append("CHAT_ALLOWED_ORIGINS contains '*': list the job site's origins")
    else:
        out += [
            p
            for o in origins
            if (p := _url_problem("CHAT_ALLOWED_ORIGINS", o, loopback_http=True, what="origin"))
        ]
    out += [
        p
        for p in (
            _url_problem("CAS_SERVER_URL", env.get("CAS_SERVER_URL")),
            _url_problem(
                "BACKEND_PUBLIC_URL",
                env.get("BACKEND_PUBLIC_URL"),
                what="URL (the CAS service URL is built from it, never from the request's Host header)",
            ),
            _url_problem(
                "WECHAT_API_BASE",
                env.get("WECHAT_API_BASE"),
                required=False,
                loopback_http=True,
                what="URL (the app secret is sent to it)",
            ),
            _database_problem("DATABASE_URL", env.get("DATABASE_URL")),
            _database_problem("TRACKER_DB_URL", env.get("TRACKER_DB_URL")),
        )
        if p
    ]
    for name in ("TODAY", "TODAY_FILE"):
        if (env.get(name) or "").strip():
            out.append(f"{name} is set: a pinned date is for demos and tests only")
    ttl = (env.get("TOKEN_TTL_MINUTES") or "").strip()
    low, high = TOKEN_TTL_RANGE
    if ttl and not (ttl.isdigit() and low <= int(ttl) <= high):
        out.append(f"TOKEN_TTL_MINUTES must be {low}-{high} minutes, not {ttl!r}")
    host = (env.get("ACTIONS_HOST") or "").strip()
    if host and host not in LOOPBACK:
        out.append(f"ACTIONS_HOST is {host!r}: the action server has no authentication, keep it on 127.0.0.1")
    state = (env.get("CHANNEL_STATE_URL") or "").strip()
    if state:
        try:
            password = urlsplit(state).password
        except ValueError:
            password = None
        if not password:
            out.append("CHANNEL_STATE_URL has no Redis password (redis://:password@host:port/db)")
    if (env.get("REDIS_HOST") or "").strip():
        p = _secret_problem(env.get("REDIS_PASSWORD"))
        if p:
            out.append(f"REDIS_PASSWORD is {p} (the cluster's lock store)")
    return out


def _secret_problem(value: str | None) -> str | None:
    if value is None or not value.strip():
        return "missing"
    if value.strip().lower() in DEMO_VALUES or any(m in value.lower() for m in DEMO_MARKERS):
        return "a demo value"
    if len(value.encode("utf-8")) < MIN_SECRET_BYTES:
        return f"shorter than {MIN_SECRET_BYTES} bytes"
    return None


def problems(env: Mapping[str, str] | None = None, api_enabled: bool = False) -> list[str]:
    """Every production problem of `env` (empty outside production)."""
    env = os.environ if env is None else env
    if app_env(env) not in APP_ENVS:
        return [f"APP_ENV is {env.get('APP_ENV')!r}: it must be 'production' or 'demo' (or unset, the demo)"]
    if not is_production(env):
        return []
    out: list[str] = []
    names: Iterable[str] = list(REQUIRED_SECRETS) + (["RASA_API_TOKEN"] if api_enabled else [])
    for name in names:
        p = _secret_problem(env.get(name))
        if p:
            out.append(f"{name} is {p}")
    for name in OPTIONAL_SECRETS + (() if api_enabled else ("RASA_API_TOKEN",)):
        if env.get(name):
            p = _secret_problem(env.get(name))
            if p:
                out.append(f"{name} is {p}")
    if (env.get("DEMO_MODE") or "").strip().lower() in TRUE:
        out.append("DEMO_MODE is on (demo login and the demo page): set DEMO_MODE=0 or leave it unset")
    if (env.get("SEED") or "").strip().lower() in TRUE:
        out.append("SEED is on (demo accounts would be seeded): set SEED=0 or leave it unset")
    return out + _deployment_problems(env)


def credentials_path(argv: list[str] | None = None) -> str | None:
    """The `--credentials` file of this `rasa run` command line (Rasa's default: credentials.yml)."""
    argv = sys.argv if argv is None else argv
    for i, a in enumerate(argv):
        if a == "--credentials" and i + 1 < len(argv):
            return argv[i + 1]
        if a.startswith("--credentials="):
            return a.split("=", 1)[1]
    return "credentials.yml"


def credentials_overrides(path: str | None) -> dict[str, str]:
    """The environment variables the channels' credentials in `path` override, with the file's values."""
    if not path or not os.path.isfile(path):
        return {}
    import yaml  # both environments have PyYAML (Rasa's; the backend's through its dependencies)

    with open(path, encoding="utf-8") as f:
        data: Any = yaml.safe_load(f) or {}
    out: dict[str, str] = {}
    for channel, keys in CREDENTIAL_KEYS.items():
        given = data.get(channel) if isinstance(data, dict) else None
        for key, name in keys.items():
            value = given.get(key) if isinstance(given, dict) else None
            if isinstance(value, list):
                value = ",".join(str(v) for v in value)
            if value not in (None, ""):
                out[name] = str(value)
    return out


def message(process: str, found: list[str], env: Mapping[str, str] | None = None) -> str:
    given = (env if env is not None else os.environ).get("APP_ENV")
    lines = [f"{process}: refusing to start with APP_ENV={given}:"]
    lines += [f"  - {p}" for p in found]
    lines.append(
        f"Set every secret to a random value of at least {MIN_SECRET_BYTES} bytes "
        "(e.g. `python3 -c 'import secrets; print(secrets.token_urlsafe(48))'`; WeChat's Token is "
        "limited to 32 characters: use exactly 32 letters/digits), turn demo login and seeding off, "
        "give every deployment setting named above, and see README.md, 'Deploying for real'."
    )
    return "\n".join(lines)


def enforce(
    process: str,
    api_enabled: bool = False,
    env: Mapping[str, str] | None = None,
    credentials: Mapping[str, str] | None = None,
) -> None:
    """Exit the process (status EXIT_CODE) with one message naming every problem; no-op in the demo.
    `credentials`: values from bot/credentials.yml that override the environment (Rasa), checked the same way
    and named as coming from the file."""
    env = dict(os.environ if env is None else env)
    env.update(credentials or {})
    found = [
        p
        + (
            " (set in the credentials file, which overrides the environment)"
            if p.split(" ", 1)[0] in (credentials or {})
            else ""
        )
        for p in problems(env, api_enabled=api_enabled)
    ]
    if found:
        print(message(process, found, env), file=sys.stderr, flush=True)
        raise SystemExit(EXIT_CODE)


def rasa_api_enabled(argv: list[str] | None = None) -> bool:
    """Whether this `rasa run` command line enables the management HTTP API."""
    argv = sys.argv if argv is None else argv
    return "--enable-api" in argv


def rasa_api_authenticated(argv: list[str] | None = None) -> bool:
    argv = sys.argv if argv is None else argv
    return any(
        a == flag or a.startswith(flag + "=") for a in argv for flag in ("--auth-token", "--jwt-secret")
    )


def main(argv: list[str] | None = None) -> int:
    """`python -m contracts.production [--api]`: the same check, for launchers (make run) before anything
    starts."""
    argv = sys.argv[1:] if argv is None else argv
    found = problems(api_enabled="--api" in argv)
    if found:
        print(message("make run", found), file=sys.stderr, flush=True)
        return EXIT_CODE
    return 0


if __name__ == "__main__":
    sys.exit(main())
