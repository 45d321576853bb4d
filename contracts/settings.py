"""Settings of the processes beside the backend, from the environment: the one place they read it.

The backend reads its own with pydantic-settings (backend/config.py). Rasa with our channels (`rasa()`), the
action server (`action_server()`) and every process's operations port (`ops()`) read theirs here: plain frozen
dataclasses built from `os.environ` at each call (cheap; a test or an operator changing the environment is
seen at once), with the demo defaults of contracts/demo.py. Values a channel's credentials
(bot/credentials.yml) give override these where the channel reads them.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from contracts import demo, tokens
from contracts.env import env_flag, env_float, env_int, env_str


def _url(env: Mapping[str, str], name: str, default: str) -> str:
    return env_str(name, default, env).rstrip("/")


@dataclass(frozen=True)
class RasaSettings:
    """Rasa server with our channels, NLG, NLU components, tracker store and event broker."""

    backend_url: str
    integration_key: str = field(repr=False)
    auth_secret: str = field(repr=False)
    action_token_ttl_seconds: int  # of the action tokens the channels mint (at most 300)
    allowed_origins: str  # CHAT_ALLOWED_ORIGINS as given (comma-separated); unset: the demo page's origins
    trusted_proxies: str  # TRUSTED_PROXIES (comma-separated addresses or networks)
    channel_state_url: str  # CHANNEL_STATE_URL: Redis shared by the Rasa servers; empty: in-process state
    channel_state_timeout: float
    channel_state_prefix: str
    chat_rate_per_conversation: int
    chat_rate_per_client: int
    handoff_gate: bool  # HANDOFF_GATE: a person holding the chat silences the bot
    handoff_gate_timeout: float
    handoff_gate_poll: float  # seconds between the gate's checks for a person's reply
    action_timeout: float  # seconds Rasa waits for the action server (ACTION_TIMEOUT)
    perf_patches: bool  # PERF_PATCHES: bot/perf.py
    tracker_db_url: str
    tracker_hot_conversations: str  # parsed by the tracker store (its own bounds and defaults)
    tracker_anon_ttl_seconds: str
    tracker_purge_interval_seconds: str
    wechat_token: str = field(repr=False)
    wechat_aes_key: str = field(repr=False)
    wechat_appid: str
    wechat_appsecret: str = field(repr=False)
    wechat_api_base: str
    wechat_reply_timeout: float
    rasa_api_token: str = field(repr=False)  # the management API's token (deploy/rasa_run.py)

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> RasaSettings:
        origins = env.get("CHAT_ALLOWED_ORIGINS")
        return cls(
            backend_url=_url(env, "BACKEND_URL", demo.BACKEND_URL),
            integration_key=env_str("INTEGRATION_KEY", demo.INTEGRATION_KEY, env),
            auth_secret=env_str("AUTH_SECRET", demo.AUTH_SECRET, env),
            action_token_ttl_seconds=tokens.action_token_ttl(env.get("ACTION_TOKEN_TTL_SECONDS")),
            allowed_origins=",".join(demo.ALLOWED_ORIGINS) if origins is None else origins,
            trusted_proxies=env_str("TRUSTED_PROXIES", "", env),
            channel_state_url=env_str("CHANNEL_STATE_URL", "", env).strip(),
            channel_state_timeout=env_float("CHANNEL_STATE_TIMEOUT", 0.5, env=env),
            channel_state_prefix=env_str("CHANNEL_STATE_PREFIX", "zhineng:", env),
            chat_rate_per_conversation=env_int("CHAT_RATE_PER_CONVERSATION", 20, env=env),
            chat_rate_per_client=env_int("CHAT_RATE_PER_CLIENT", 120, env=env),
            handoff_gate=env_flag("HANDOFF_GATE", True, env),
            handoff_gate_timeout=env_float("HANDOFF_GATE_TIMEOUT", 2.0, minimum=0.2, env=env),
            handoff_gate_poll=env_float("HANDOFF_GATE_POLL", 0.5, minimum=0.0, env=env),
            action_timeout=env_float("ACTION_TIMEOUT", 8.0, env=env),
            perf_patches=env_flag("PERF_PATCHES", True, env),
            tracker_db_url=env_str("TRACKER_DB_URL", "", env).strip(),
            tracker_hot_conversations=env_str("TRACKER_HOT_CONVERSATIONS", "", env),
            tracker_anon_ttl_seconds=env_str("TRACKER_ANON_TTL_SECONDS", "", env),
            tracker_purge_interval_seconds=env_str("TRACKER_PURGE_INTERVAL_SECONDS", "", env),
            wechat_token=env_str("WECHAT_TOKEN", demo.WECHAT_TOKEN, env),
            wechat_aes_key=env_str("WECHAT_AES_KEY", "", env),
            wechat_appid=env_str("WECHAT_APPID", "", env),
            wechat_appsecret=env_str("WECHAT_APPSECRET", "", env),
            wechat_api_base=env_str("WECHAT_API_BASE", demo.WECHAT_API_BASE, env),
            wechat_reply_timeout=env_float("WECHAT_REPLY_TIMEOUT", 4.0, env=env),
            rasa_api_token=env_str("RASA_API_TOKEN", "", env),
        )


@dataclass(frozen=True)
class ActionServerSettings:
    """The action server (rasa_sdk): where the backend is and how it proves who it is."""

    backend_url: str
    actions_service_key: str = field(repr=False)
    backend_timeout: float  # seconds per backend call (BACKEND_TIMEOUT, at least 0.1)

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> ActionServerSettings:
        return cls(
            backend_url=_url(env, "BACKEND_URL", demo.BACKEND_URL),
            actions_service_key=env_str("ACTIONS_SERVICE_KEY", demo.ACTIONS_SERVICE_KEY, env),
            backend_timeout=env_float("BACKEND_TIMEOUT", 3.0, minimum=0.1, env=env),
        )


@dataclass(frozen=True)
class OpsSettings:
    """Each process's operations port (/metrics, /health, /ready; ops/exporter.py)."""

    metrics_port: int  # METRICS_PORT; 0 or unset: no port
    metrics_host: str
    multiprocess_dir: str  # PROMETHEUS_MULTIPROC_DIR: several workers share one set of metrics
    sanic_worker_name: str  # set by Sanic in each worker process it spawns
    backend_url: str  # the action server is ready when the backend answers

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> OpsSettings:
        port = env_str("METRICS_PORT", "", env).strip()
        return cls(
            metrics_port=int(port) if port.isdigit() else 0,
            metrics_host=env_str("METRICS_HOST", "127.0.0.1", env),
            multiprocess_dir=env_str("PROMETHEUS_MULTIPROC_DIR", "", env),
            sanic_worker_name=env_str("SANIC_WORKER_NAME", "", env),
            backend_url=_url(env, "BACKEND_URL", demo.BACKEND_URL),
        )


def rasa(env: Mapping[str, str] | None = None) -> RasaSettings:
    return RasaSettings.from_env(os.environ if env is None else env)


def action_server(env: Mapping[str, str] | None = None) -> ActionServerSettings:
    return ActionServerSettings.from_env(os.environ if env is None else env)


def ops(env: Mapping[str, str] | None = None) -> OpsSettings:
    return OpsSettings.from_env(os.environ if env is None else env)
