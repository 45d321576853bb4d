"""Settings from the environment (defaults are the demo defaults used by `make run`): one pydantic-settings
class.

`APP_ENV=production` is the deployment switch: demo login and the demo page are then off unless asked for, and
building the settings refuses (exit status 78, one message naming every problem, before anything listens)
while a secret is missing or a demo value (contracts/production.py: the same rules for the action server and
Rasa).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

from pydantic import AliasChoices, BeforeValidator, Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from contracts import demo, production, tokens

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "backend" / "data"  # holidays, answer sources, the seed knowledge base
TRUE = {"1", "true", "yes", "on"}
OFF = {"0", "false", "no", "off"}


def _flag_or_none(v: Any) -> bool | None:
    return None if v is None or v == "" else v if isinstance(v, bool) else str(v).strip().lower() in TRUE


def _lenient(default: float, cast: Callable[[Any], Any] = float) -> BeforeValidator:
    """A number from the environment where empty or not a number means the default: a typo in a tuning knob
    never stops a process."""

    def parse(v: Any) -> Any:
        if isinstance(v, int | float) and not isinstance(v, bool):
            return v
        try:
            return cast(str(v).strip() or default)
        except ValueError:
            return default

    return BeforeValidator(parse)


def _text_or(default: str) -> BeforeValidator:
    """A text from the environment, stripped; empty means the default."""
    return BeforeValidator(lambda v: str(v or "").strip() or default)


def _on(v: Any) -> bool:
    """A worker switch: on unless 0/false/no/off."""
    return v is True or str(v).strip().lower() not in OFF


def _env_field(name: str, default: Any, **kw: Any) -> Any:
    return Field(default=default, validation_alias=AliasChoices(name), **kw)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(frozen=True, extra="ignore", populate_by_name=True)

    database_url: str = _env_field("DATABASE_URL", f"sqlite:///{ROOT}/var/app.db")
    auth_secret: str = _env_field("AUTH_SECRET", demo.AUTH_SECRET, repr=False)
    production: bool = _env_field("APP_ENV", False)
    # demo login and the demo page; default on outside production, off in it
    demo_mode: bool | None = _env_field("DEMO_MODE", None)  # None: set from `production` below
    integration_key: str = _env_field("INTEGRATION_KEY", demo.INTEGRATION_KEY, repr=False)
    # the action server's own secret (header X-Actions-Service-Key): the only way an action token is accepted
    actions_service_key: str = _env_field("ACTIONS_SERVICE_KEY", demo.ACTIONS_SERVICE_KEY, repr=False)
    # lifetime of action tokens (aud "actions") minted for the WeChat channel; at most 5 minutes
    action_token_ttl_seconds: int = _env_field("ACTION_TOKEN_TTL_SECONDS", 300)
    # browser origins allowed to call the API from another site (the job site's widget): the same allow-list
    # as Rasa's (bot/channels/common.py); never `*`
    allowed_origins: Annotated[tuple[str, ...], NoDecode] = _env_field(
        "CHAT_ALLOWED_ORIGINS", demo.ALLOWED_ORIGINS
    )  # the demo page's own origin
    token_ttl_minutes: int = _env_field("TOKEN_TTL_MINUTES", 720)
    cas_server_url: str = _env_field("CAS_SERVER_URL", "")
    public_url: str = _env_field("BACKEND_PUBLIC_URL", "")
    # where the demo page's chat widget finds Rasa: RASA_PUBLIC_URL if set, else the page's host at RASA_PORT
    rasa_public_url: str = _env_field("RASA_PUBLIC_URL", "")
    rasa_port: str = _env_field("RASA_PORT", "5005")
    holidays_file: str = _env_field("HOLIDAYS_FILE", str(DATA / "holidays.json"))
    # Pin "today" for demos and tests: TODAY=YYYY-MM-DD, or TODAY_FILE=<path> holding such a date (re-read per
    # call)
    today: str = _env_field("TODAY", "")
    today_file: str = _env_field("TODAY_FILE", "")
    # limits against flooding (issue 21 §1, §5; counted in the database, backend/clients.py)
    handoff_limit_minutes: int = _env_field("HANDOFF_LIMIT_MINUTES", 60, ge=1, le=24 * 60)  # the window below
    handoff_per_student: int = _env_field("HANDOFF_PER_STUDENT", 5, ge=1, le=1000)  # new sessions per window
    handoff_per_openid: int = _env_field(
        "HANDOFF_PER_OPENID", 5, ge=1, le=1000
    )  # a WeChat user, bound or not
    handoff_per_client: int = _env_field("HANDOFF_PER_CLIENT", 5, ge=1, le=1000)  # anonymous web, per address
    handoff_anon_max: int = _env_field(
        "HANDOFF_ANON_MAX", 20, ge=1, le=10000
    )  # anonymous ones waiting at once
    feedback_per_principal: int = _env_field("FEEDBACK_PER_PRINCIPAL", 10, ge=1, le=10000)  # per minute
    feedback_per_client: int = _env_field("FEEDBACK_PER_CLIENT", 20, ge=1, le=10000)  # anonymous, per minute
    feedback_anonymous: int = _env_field(
        "FEEDBACK_ANONYMOUS", 120, ge=1, le=100000
    )  # all anonymous, per minute
    # /docs, /redoc and /openapi.json: on outside production, off in it unless asked for
    api_docs: Annotated[bool | None, BeforeValidator(_flag_or_none)] = _env_field("API_DOCS", None)
    # `backend.cli run`
    backend_host: str = _env_field("BACKEND_HOST", "127.0.0.1")
    backend_port: str = _env_field("BACKEND_PORT", "8000")
    keep_data: str = _env_field("KEEP_DATA", "")
    # Rasa's conversations, for backup/restore (default: tracker.db beside the SQLite database)
    tracker_db_url: str = _env_field("TRACKER_DB_URL", "")
    # staff answers and training examples (issue 14): the NLG cache, the export directory, the turn log age
    answers_cache_seconds: Annotated[float, _lenient(2.0)] = _env_field("ANSWERS_CACHE_SECONDS", 2.0)
    staff_training_dir: str = _env_field("STAFF_TRAINING_DIR", "")
    turn_log_retention_days: Annotated[int, _lenient(180, int)] = _env_field("TURN_LOG_RETENTION_DAYS", 180)
    # a person in the chat (issue 15 §2): office hours, queue wait, ticket draft, the queue's sweep
    handoff_hours: Annotated[str, _text_or("08:30-17:30")] = _env_field("HANDOFF_HOURS", "08:30-17:30")
    handoff_wait_minutes: Annotated[float, _lenient(30.0)] = _env_field("HANDOFF_WAIT_MINUTES", 30.0)
    handoff_draft_minutes: Annotated[int, _lenient(10, lambda v: int(float(v)))] = _env_field(
        "HANDOFF_DRAFT_MINUTES", 10
    )
    # the WeChat outbox's workers (services/wechat/outbox.py): on/off per process, poll, lease, back-off
    notice_worker: Annotated[bool, BeforeValidator(_on)] = _env_field("NOTICE_WORKER", True)
    handoff_worker: Annotated[bool, BeforeValidator(_on)] = _env_field("HANDOFF_WORKER", True)
    handoff_sweep: Annotated[bool, BeforeValidator(_on)] = _env_field("HANDOFF_SWEEP", True)
    notice_poll_seconds: Annotated[float, _lenient(2.0)] = _env_field("NOTICE_POLL_SECONDS", 2.0)
    notice_lease_seconds: Annotated[float, _lenient(120.0)] = _env_field("NOTICE_LEASE_SECONDS", 120.0)
    notice_sweep_seconds: Annotated[float, _lenient(60.0)] = _env_field("NOTICE_SWEEP_SECONDS", 60.0)
    notice_retry_seconds: Annotated[float, _lenient(15.0)] = _env_field("NOTICE_RETRY_SECONDS", 15.0)
    handoff_poll_seconds: Annotated[float, _lenient(1.0)] = _env_field("HANDOFF_POLL_SECONDS", 1.0)
    handoff_lease_seconds: Annotated[float, _lenient(60.0)] = _env_field("HANDOFF_LEASE_SECONDS", 60.0)
    handoff_sweep_seconds: Annotated[float, _lenient(30.0)] = _env_field("HANDOFF_SWEEP_SECONDS", 30.0)
    # the official account's API (services/wechat/client.py); WECHAT_API_BASE: a test's fake WeChat
    wechat_api_base: Annotated[str, _text_or("https://api.weixin.qq.com")] = _env_field(
        "WECHAT_API_BASE", "https://api.weixin.qq.com"
    )
    wechat_appid: Annotated[str, _text_or("")] = _env_field("WECHAT_APPID", "")
    wechat_appsecret: Annotated[str, _text_or("")] = _env_field("WECHAT_APPSECRET", "", repr=False)
    wechat_notice_template_id: Annotated[str, _text_or("")] = _env_field("WECHAT_NOTICE_TEMPLATE_ID", "")
    wechat_notice_url: Annotated[str, _text_or("")] = _env_field("WECHAT_NOTICE_URL", "")

    @field_validator("production", mode="before")
    @classmethod
    def _app_env(cls, v: Any) -> bool:
        return v is True or str(v or "").strip().lower() == "production"

    @field_validator("demo_mode", mode="before")
    @classmethod
    def _flag(cls, v: Any) -> bool | None:
        return v if v is None or isinstance(v, bool) else str(v).strip().lower() in TRUE

    @field_validator("action_token_ttl_seconds", mode="before")
    @classmethod
    def _ttl(cls, v: Any) -> int:
        return tokens.action_token_ttl(v)

    @field_validator("allowed_origins", mode="before")
    @classmethod
    def _origins(cls, v: Any) -> tuple[str, ...]:
        items = v.split(",") if isinstance(v, str) else v
        return tuple(o.strip().rstrip("/") for o in items if o.strip() and o.strip() != "*")

    @field_validator("cas_server_url", "public_url", "rasa_public_url")
    @classmethod
    def _no_trailing_slash(cls, v: str) -> str:
        return v.rstrip("/")

    @model_validator(mode="after")
    def _production_checks(self) -> Settings:
        if self.demo_mode is None:
            object.__setattr__(self, "demo_mode", not self.production)
        production.enforce("backend")  # exits (status 78) naming every problem (unknown APP_ENV; production)
        return self


def get_settings() -> Settings:
    return Settings()


# Refuse to start (before uvicorn listens, before any CLI command) with demo secrets in production.
settings = get_settings()
