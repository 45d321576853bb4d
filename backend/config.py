"""Settings from the environment (defaults are the demo defaults used by `make run`)."""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from deploy import production

ROOT = Path(__file__).resolve().parent.parent


def _flag(name: str, default: str) -> bool:
    return os.environ.get(name, default).strip().lower() in {"1", "true", "yes", "on"}


def _production() -> bool:
    return os.environ.get("APP_ENV", "").strip().lower() == "production"


def _action_token_ttl() -> int:
    try:
        return max(1, min(int(os.environ.get("ACTION_TOKEN_TTL_SECONDS") or 300), 300))
    except ValueError:
        return 300


def _allowed_origins() -> tuple[str, ...]:
    """Browser origins allowed to call the API from another site (the job site's widget): CHAT_ALLOWED_ORIGINS,
    the same allow-list as Rasa's (bot/channels/common.py); never `*`."""
    raw = os.environ.get("CHAT_ALLOWED_ORIGINS")
    if raw is None:
        raw = "http://127.0.0.1:8000,http://localhost:8000"  # the demo page's own origin
    return tuple(o.strip().rstrip("/") for o in raw.split(",") if o.strip() and o.strip() != "*")


@dataclass(frozen=True)
class Settings:
    database_url: str = field(default_factory=lambda: os.environ.get("DATABASE_URL", f"sqlite:///{ROOT}/var/app.db"))
    auth_secret: str = field(default_factory=lambda: os.environ.get("AUTH_SECRET", "demo-secret-change-me"))
    # APP_ENV=production is the deployment switch: demo login and the demo page are then off unless asked for
    # (and deploy/production.py refuses to start when they are asked for)
    production: bool = field(default_factory=_production)
    demo_mode: bool = field(default_factory=lambda: _flag("DEMO_MODE", "0" if _production() else "1"))
    integration_key: str = field(default_factory=lambda: os.environ.get("INTEGRATION_KEY", "demo-integration-key"))
    # the action server's own secret (header X-Actions-Service-Key): the only way an action token is accepted
    actions_service_key: str = field(
        default_factory=lambda: os.environ.get("ACTIONS_SERVICE_KEY", "demo-actions-service-key"))
    # lifetime of action tokens (aud "actions") minted for the WeChat channel; at most 5 minutes
    action_token_ttl_seconds: int = field(default_factory=_action_token_ttl)
    allowed_origins: tuple[str, ...] = field(default_factory=_allowed_origins)
    token_ttl_minutes: int = field(default_factory=lambda: int(os.environ.get("TOKEN_TTL_MINUTES", "720")))
    cas_server_url: str = field(default_factory=lambda: os.environ.get("CAS_SERVER_URL", "").rstrip("/"))
    public_url: str = field(default_factory=lambda: os.environ.get("BACKEND_PUBLIC_URL", "").rstrip("/"))
    # where the demo page's chat widget finds Rasa: RASA_PUBLIC_URL if set, else the page's host at RASA_PORT
    rasa_public_url: str = field(default_factory=lambda: os.environ.get("RASA_PUBLIC_URL", "").rstrip("/"))
    rasa_port: str = field(default_factory=lambda: os.environ.get("RASA_PORT", "5005"))
    holidays_file: str = field(
        default_factory=lambda: os.environ.get("HOLIDAYS_FILE", str(Path(__file__).parent / "data" / "holidays.json"))
    )
    # Pin "today" for demos and tests: TODAY=YYYY-MM-DD, or TODAY_FILE=<path> holding such a date (re-read per call).
    today: str = field(default_factory=lambda: os.environ.get("TODAY", ""))
    today_file: str = field(default_factory=lambda: os.environ.get("TODAY_FILE", ""))


def get_settings() -> Settings:
    return Settings()


# Refuse to start (before uvicorn listens, before any CLI command) with demo secrets in production.
production.enforce("backend")
settings = get_settings()
