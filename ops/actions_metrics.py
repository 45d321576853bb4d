"""The action server's Prometheus metrics (issue 23), installed by actions/__init__.py (rasa_sdk imports it
before it listens); served with /health and /ready (the backend answers /api/health) on the operations port
(ops/exporter.py, METRICS_PORT).

- action latency and errors by action (registered action names only; anything else is "unknown")
- backend calls by outcome: ok, unavailable (timeout, connection error, 5xx), auth_failed, refused (other 4xx)
"""

from __future__ import annotations

import functools
import time
import urllib.request

from prometheus_client import Counter, Histogram

from contracts import settings

ACTION_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

ACTION_LATENCY = Histogram(
    "zhineng_action_duration_seconds", "Custom action latency by action", ["action"], buckets=ACTION_BUCKETS
)
ACTION_ERRORS = Counter(
    "zhineng_action_errors_total",
    "Custom actions that raised, by action and exception class",
    ["action", "error"],
)
BACKEND_CALLS = Counter(
    "zhineng_action_backend_calls_total", "The action server's backend calls by outcome", ["outcome"]
)

_OUTCOMES = {
    "Unavailable": "unavailable",
    "AuthFailed": "auth_failed",
    "ApiError": "refused",
    "NotSignedIn": "not_signed_in",
}


def backend_call(fn):
    """Decorator of actions.backend.request: count each call's outcome."""

    @functools.wraps(fn)
    async def wrapper(*args, **kwargs):
        try:
            result = await fn(*args, **kwargs)
        except Exception as e:
            BACKEND_CALLS.labels(_OUTCOMES.get(type(e).__name__, "error")).inc()
            raise
        BACKEND_CALLS.labels("ok").inc()
        return result

    return wrapper


def backend_ready() -> tuple[bool, str]:
    url = settings.ops().backend_url + "/api/health"
    try:
        with urllib.request.urlopen(url, timeout=2) as r:
            return r.status == 200, f"backend answered {r.status}"
    except OSError as e:
        return False, f"backend unreachable: {e}"[:200]


def patch() -> None:
    from rasa_sdk.executor import ActionExecutor

    if getattr(ActionExecutor.run, "_metrics", False):
        return
    run = ActionExecutor.run

    @functools.wraps(run)
    async def timed_run(self, action_call, *args, **kwargs):
        name = (action_call or {}).get("next_action")
        label = name if name in self.actions else "unknown"
        t0 = time.perf_counter()
        try:
            return await run(self, action_call, *args, **kwargs)
        except Exception as e:
            ACTION_ERRORS.labels(label, type(e).__name__[:40]).inc()
            raise
        finally:
            ACTION_LATENCY.labels(label).observe(time.perf_counter() - t0)

    timed_run._metrics = True  # type: ignore[attr-defined]
    ActionExecutor.run = timed_run


def serving_process() -> bool:
    """rasa_sdk (Sanic 25) imports the actions in its main process and again in each server worker it spawns;
    the workers run the actions, so a worker serves the metrics (the first of several workers to bind)."""
    from sanic.worker.process import WorkerProcess

    # worker names: "Sanic-Server-0-0" (the reloader, inspector and others have other labels)
    return settings.ops().sanic_worker_name.startswith(f"Sanic-{WorkerProcess.SERVER_LABEL}-")


def install() -> bool:
    from ops import exporter

    patch()
    return serving_process() and exporter.start("actions", backend_ready) is not None
