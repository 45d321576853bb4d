"""Production start-up checks shared by the backend, the action server and Rasa (with our channels).

Plain Python on purpose: it is imported from both virtual environments (pydantic 1 and 2), with PYTHONPATH at
the repository root. `APP_ENV=production` is the deployment switch; anything else is the demo.

In production a process refuses to start, before it listens, while any secret is missing, shorter than
MIN_SECRET_BYTES or a known demo value, or while demo login / demo seeding is on. One message names every
offending variable; the process exits with status EXIT_CODE.
"""
from __future__ import annotations

import os
import sys
from typing import Iterable, List, Mapping, Optional

MIN_SECRET_BYTES = 32
EXIT_CODE = 78  # EX_CONFIG

# Secrets every process of a deployment must have (one environment for all three processes).
REQUIRED_SECRETS = ("AUTH_SECRET", "INTEGRATION_KEY", "WECHAT_TOKEN", "ACTIONS_SERVICE_KEY")
# Checked only when set (a deployment without WeChat safe mode / customer-service API may leave them empty).
OPTIONAL_SECRETS = ("WECHAT_AES_KEY", "WECHAT_APPSECRET")

# Values shipped with the demo, the tests or the docs: never acceptable in production.
DEMO_VALUES = {
    "demo-secret-change-me",
    "demo-integration-key",
    "demo-wechat-token",
    "demo-actions-service-key",
    "demo-rasa-api-token",
    "test-wechat-token",
    "test-app-secret",
    "actions-test-secret",
}
DEMO_MARKERS = ("change-me", "changeme", "demo-", "example")
TRUE = {"1", "true", "yes", "on"}


def is_production(env: Optional[Mapping[str, str]] = None) -> bool:
    env = os.environ if env is None else env
    return (env.get("APP_ENV") or "").strip().lower() == "production"


def _secret_problem(value: Optional[str]) -> Optional[str]:
    if value is None or not value.strip():
        return "missing"
    if value.strip().lower() in DEMO_VALUES or any(m in value.lower() for m in DEMO_MARKERS):
        return "a demo value"
    if len(value.encode("utf-8")) < MIN_SECRET_BYTES:
        return f"shorter than {MIN_SECRET_BYTES} bytes"
    return None


def problems(env: Optional[Mapping[str, str]] = None, api_enabled: bool = False) -> List[str]:
    """Every production problem of `env` (empty outside production)."""
    env = os.environ if env is None else env
    if not is_production(env):
        return []
    out: List[str] = []
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
    origins = [o.strip() for o in (env.get("CHAT_ALLOWED_ORIGINS") or "").split(",") if o.strip()]
    if "*" in origins:
        out.append("CHAT_ALLOWED_ORIGINS contains '*': list the job site's origins")
    return out


def message(process: str, found: List[str]) -> str:
    lines = [f"{process}: refusing to start with APP_ENV=production:"]
    lines += [f"  - {p}" for p in found]
    lines.append(f"Set every secret to a random value of at least {MIN_SECRET_BYTES} bytes "
                 "(e.g. `python3 -c 'import secrets; print(secrets.token_urlsafe(48))'`; WeChat's Token is "
                 "limited to 32 characters: use exactly 32 letters/digits), turn demo login and seeding off, "
                 "and see README.md, 'Deploying for real'.")
    return "\n".join(lines)


def enforce(process: str, api_enabled: bool = False, env: Optional[Mapping[str, str]] = None) -> None:
    """Exit the process (status EXIT_CODE) with one message naming every problem; no-op outside production."""
    found = problems(env, api_enabled=api_enabled)
    if found:
        print(message(process, found), file=sys.stderr, flush=True)
        raise SystemExit(EXIT_CODE)


def rasa_api_enabled(argv: Optional[List[str]] = None) -> bool:
    """Whether this `rasa run` command line enables the management HTTP API."""
    argv = sys.argv if argv is None else argv
    return "--enable-api" in argv


def rasa_api_authenticated(argv: Optional[List[str]] = None) -> bool:
    argv = sys.argv if argv is None else argv
    return any(a == flag or a.startswith(flag + "=") for a in argv for flag in ("--auth-token", "--jwt-secret"))


def main(argv: Optional[List[str]] = None) -> int:
    """`python -m deploy.production [--api]`: the same check, for launchers (make run) before anything starts."""
    argv = sys.argv[1:] if argv is None else argv
    found = problems(api_enabled="--api" in argv)
    if found:
        print(message("make run", found), file=sys.stderr, flush=True)
        return EXIT_CODE
    return 0


if __name__ == "__main__":
    sys.exit(main())
