"""Settings from the environment (defaults are the demo defaults used by `make run`)."""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _flag(name: str, default: str) -> bool:
    return os.environ.get(name, default).strip().lower() in {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class Settings:
    database_url: str = field(default_factory=lambda: os.environ.get("DATABASE_URL", f"sqlite:///{ROOT}/var/app.db"))
    auth_secret: str = field(default_factory=lambda: os.environ.get("AUTH_SECRET", "demo-secret-change-me"))
    demo_mode: bool = field(default_factory=lambda: _flag("DEMO_MODE", "1"))
    integration_key: str = field(default_factory=lambda: os.environ.get("INTEGRATION_KEY", "demo-integration-key"))
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


settings = get_settings()
