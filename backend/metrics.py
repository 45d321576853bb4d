"""The backend's Prometheus metrics (issue 23), served on its operations port (ops/exporter.py, METRICS_PORT).

- requests by route template (never the raw path: no student number in a label), method and status; latency
- database errors by driver exception class (SQLAlchemy's handle_error event)
- WeChat errors of the outboxes by errcode (services/wechat/outbox.py calls `wechat_error`)
- read from the database at scrape time: the notice and handoff-reply outboxes' backlog and oldest age, the
  handoff queue's waiting students and the oldest wait
Readiness: the database answers `SELECT 1`.
"""

from __future__ import annotations

import re
import time

from prometheus_client import Counter, Histogram
from prometheus_client.core import GaugeMetricFamily
from sqlalchemy import event, func, select, text

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

REQUESTS = Counter(
    "zhineng_backend_requests_total",
    "Backend HTTP requests by route template and status",
    ["route", "method", "status"],
)
LATENCY = Histogram(
    "zhineng_backend_request_duration_seconds",
    "Backend HTTP request latency by route template",
    ["route", "method"],
    buckets=LATENCY_BUCKETS,
)
DB_ERRORS = Counter("zhineng_backend_db_errors_total", "Database errors by driver exception class", ["error"])
WECHAT_ERRORS = Counter(
    "zhineng_wechat_errors_total", "WeChat sends that failed, by outbox and errcode", ["outbox", "code"]
)

_ERRCODE = re.compile(r"errcode (-?\d{1,6})")


def route_of(scope: dict) -> str:
    """The matched route's template (/api/students/{student_id}), or "unmatched": a label never holds the
    raw path (student numbers, scanners' junk)."""
    route = scope.get("route")
    path = getattr(route, "path", None)
    return (path or "/") if route is not None else "unmatched"


class Middleware:
    """Pure ASGI: counts and times every HTTP request (outermost, so 413s of the body guard count too)."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        status = [500]

        async def send_status(msg):
            if msg["type"] == "http.response.start":
                status[0] = msg["status"]
            await send(msg)

        t0 = time.perf_counter()
        try:
            await self.app(scope, receive, send_status)
        finally:
            route, method = route_of(scope), scope.get("method", "")
            LATENCY.labels(route, method).observe(time.perf_counter() - t0)
            REQUESTS.labels(route, method, str(status[0])).inc()


def wechat_error(outbox: str, error: str | None) -> None:
    """Count a failed WeChat send of `outbox` (its table); `error` as stored in wechat_error ("errcode 45015
    ...", "wechat_not_configured"): the label is the errcode, or the reason's word."""
    if not error:
        return
    m = _ERRCODE.search(error)
    WECHAT_ERRORS.labels(
        outbox, m.group(1) if m else re.sub(r"[^a-z_]", "", error.lower())[:30] or "other"
    ).inc()


class QueueCollector:
    """Outbox backlog/oldest age and the handoff queue, read at scrape time (one small query each)."""

    def describe(self):  # the names, without a query (the registry asks when the collector is registered)
        for name in (
            "zhineng_outbox_backlog",
            "zhineng_outbox_oldest_age_seconds",
            "zhineng_handoff_waiting",
            "zhineng_handoff_oldest_wait_seconds",
        ):
            yield GaugeMetricFamily(name, "")

    def collect(self):
        from backend.core import clock
        from backend.core.db import read_session
        from backend.models import HandoffMessage, HandoffSession, Notice

        backlog = GaugeMetricFamily(
            "zhineng_outbox_backlog", "WeChat sends waiting to be delivered", labels=["outbox"]
        )
        oldest = GaugeMetricFamily(
            "zhineng_outbox_oldest_age_seconds",
            "Age of the oldest undelivered WeChat send",
            labels=["outbox"],
        )
        waiting = GaugeMetricFamily("zhineng_handoff_waiting", "Students waiting in the handoff queue")
        wait = GaugeMetricFamily(
            "zhineng_handoff_oldest_wait_seconds", "How long the longest-waiting student waits"
        )
        now = clock.now()

        def age(t) -> float:
            if t is None:
                return 0.0
            if t.tzinfo is None:
                t = t.replace(tzinfo=now.tzinfo)
            return max(0.0, (now - t).total_seconds())

        with read_session() as s:
            for name, created in (("notices", Notice.created_at), ("handoff_messages", HandoffMessage.at)):
                model = created.class_
                n, first = s.execute(
                    select(func.count(), func.min(created)).where(model.wechat_state == "pending")
                ).one()
                backlog.add_metric([name], n)
                oldest.add_metric([name], age(first))
            n, first = s.execute(
                select(func.count(), func.min(HandoffSession.created_at)).where(
                    HandoffSession.state == "waiting"
                )
            ).one()
            waiting.add_metric([], n)
            wait.add_metric([], age(first))
        yield from (backlog, oldest, waiting, wait)


def database_ready() -> tuple[bool, str]:
    from backend.core.db import engine

    with engine.connect() as c:
        c.execute(text("SELECT 1"))
    return True, "database reachable"


def install_db_errors(engine) -> None:
    @event.listens_for(engine, "handle_error")
    def _count(ctx):  # pragma: no cover - driver hook
        DB_ERRORS.labels(type(ctx.original_exception).__name__[:40]).inc()


_started: list = []


def start() -> None:
    """The backend's start-up hook (once per process): database error counting and the operations port."""
    from backend.core.db import engine
    from ops import exporter

    if _started:
        return
    _started.append(True)
    install_db_errors(engine)
    exporter.start("backend", database_ready, extra=(QueueCollector(),))
