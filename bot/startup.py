"""Everything the Rasa server changes in Rasa 3.6, applied by one call at start-up: `apply_rasa_patches()`.

deploy/rasa_run.py calls it before Rasa starts. An operator who runs a plain `rasa run` with our channels gets
the same call when Rasa builds the channels (their `from_credentials`), still before anything listens. It is
idempotent; importing a module changes nothing.

1. Refuse to start with an unauthenticated management API, or with demo settings in production.
2. Rasa's CORS set-up on every route uses the allow-list (CHAT_ALLOWED_ORIGINS), whatever `--cors` says.
3. The action server timeout is ACTION_TIMEOUT (default 8 s) instead of Rasa's hard-coded 300 s.
4. The performance patches of bot/perf.py.
"""

from __future__ import annotations

import logging
import sys
from typing import Any

from bot import perf
from bot.channels.common import allowed_origins
from contracts import production
from contracts.settings import rasa as rasa_settings

logger = logging.getLogger(__name__)

APPLIED: dict[str, Any] = {}


def check_rasa_process() -> None:
    """Refuse to start Rasa with an unauthenticated management API, or with demo settings in production."""
    if production.rasa_api_enabled() and not production.rasa_api_authenticated():
        print(
            "rasa: refusing to start: --enable-api without --auth-token/--jwt-secret would open the "
            "management API (trackers, actions) to anyone. Start it without --enable-api, or through "
            "`python -m deploy.rasa_run` with RASA_API_TOKEN set.",
            file=sys.stderr,
            flush=True,
        )
        raise SystemExit(production.EXIT_CODE)
    # the channels read bot/credentials.yml first: its values are checked too, not only the environment's
    creds = (
        production.credentials_overrides(production.credentials_path()) if production.is_production() else {}
    )
    production.enforce("rasa", api_enabled=production.rasa_api_enabled(), credentials=creds)


def restrict_rasa_cors() -> None:
    """Make Rasa's own CORS set-up (every route: /, /status, /conversations/..., webhooks) use the allow-list.

    Rasa 3.6 passes `--cors` (default "") to sanic-cors for all routes; an operator's `--cors "*"` would let
    any web page read the API. The allow-list replaces whatever `--cors` says.
    """
    import rasa.server as rasa_server

    original = rasa_server.configure_cors
    if getattr(original, "_allow_list", False):
        return

    def configure_cors(app: Any, cors_origins: Any = "") -> None:
        origins = allowed_origins()
        if cors_origins and cors_origins != origins:
            logger.warning("rasa --cors %r replaced by CHAT_ALLOWED_ORIGINS %r", cors_origins, origins)
        return original(app, origins)

    configure_cors._allow_list = True  # type: ignore[attr-defined]
    rasa_server.configure_cors = configure_cors


def cap_action_timeout() -> float:
    """Bound how long Rasa waits for the action server (Rasa 3.6 hard-codes 300 s for custom actions).

    A hung action server would otherwise hold a student's turn, and every later turn of that conversation,
    for five minutes. On timeout Rasa logs the failed action and goes on; the channel then answers with
    UNAVAILABLE_TEXT. `ACTION_TIMEOUT` (seconds, default 8: the backend timeout of the actions plus margin).
    """
    import rasa.core.actions.action as rasa_action

    seconds = rasa_settings().action_timeout
    rasa_action.DEFAULT_REQUEST_TIMEOUT = seconds
    return seconds


def apply_rasa_patches() -> dict[str, Any]:
    """Apply 1-4 once (SystemExit when the process must not start); returns what was applied."""
    if APPLIED:
        return APPLIED
    check_rasa_process()
    restrict_rasa_cors()
    APPLIED["action_timeout"] = cap_action_timeout()
    APPLIED["cors_allow_list"] = True
    APPLIED.update(perf.apply())
    from ops import rasa_metrics  # turns, latencies, lock waits; /metrics, /health, /ready (issue 23)

    APPLIED["metrics_port"] = rasa_metrics.install()
    return APPLIED
