"""A process's operations port on loopback (METRICS_PORT; METRICS_HOST, default 127.0.0.1), a thread of the
process, separate from the public routes: GET /metrics (Prometheus text format), /health (the process is
alive: 200) and /ready (it can serve: 200, else 503 with the reason; used by the launcher, systemd and the
cluster before a process gets traffic).

Several processes of one service (uvicorn --workers) share PROMETHEUS_MULTIPROC_DIR: prometheus_client's
multiprocess mode; the first to bind the port serves everyone's metrics, the others skip the port.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from wsgiref.simple_server import WSGIRequestHandler, make_server

from prometheus_client import REGISTRY, CollectorRegistry, disable_created_metrics, make_wsgi_app
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.exposition import ThreadingWSGIServer

from contracts import settings

logger = logging.getLogger(__name__)
disable_created_metrics()  # the *_created series double the output and no rule or panel uses them

ReadyCheck = Callable[[], tuple[bool, str]]  # (ready, reason)


class _Quiet(WSGIRequestHandler):
    def log_message(self, *args) -> None:  # a scrape every few seconds is not worth a log line
        pass


def registry_for_process(extra: tuple = ()) -> CollectorRegistry:
    """The registry a scrape reads: the process's own, or all processes' in multiprocess mode; plus `extra`
    collectors computed at scrape time (e.g. the outbox backlog read from the database)."""
    if settings.ops().multiprocess_dir:
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        registry = REGISTRY
    for c in extra:
        registry.register(c)
    return registry


class ReadyCollector:
    """zhineng_ready 1/0 at scrape time: the same check as /ready (alert ZhinengNotReady)."""

    def __init__(self, ready: ReadyCheck | None) -> None:
        self.ready = ready

    def describe(self):
        yield GaugeMetricFamily("zhineng_ready", "")

    def collect(self):
        yield GaugeMetricFamily(
            "zhineng_ready",
            "1 when the process can serve (its /ready), else 0",
            value=1 if check(self.ready)[0] else 0,
        )


def check(ready: ReadyCheck | None) -> tuple[bool, str]:
    try:
        return ready() if ready is not None else (True, "ready")
    except Exception as e:  # noqa: BLE001 - a failing check means "not ready", never a crash
        return False, f"{type(e).__name__}: {e}"[:200]


def app(ready: ReadyCheck | None, registry: CollectorRegistry):
    metrics = make_wsgi_app(registry)

    def wsgi(environ, start_response):
        path = environ.get("PATH_INFO", "")
        if path == "/health":
            ok, reason = True, "alive"
        elif path == "/ready":
            ok, reason = check(ready)
        else:
            return metrics(environ, start_response)
        body = json.dumps({"status": "ok" if ok else "unavailable", "reason": reason}).encode()
        start_response(
            "200 OK" if ok else "503 Service Unavailable",
            [("Content-Type", "application/json"), ("Content-Length", str(len(body)))],
        )
        return [body]

    return wsgi


def start(service: str, ready: ReadyCheck | None = None, extra: tuple = ()) -> ThreadingWSGIServer | None:
    """Serve the operations port in a daemon thread; None when METRICS_PORT is unset or the port is taken (by
    another worker of the same service)."""
    s = settings.ops()
    port, host = s.metrics_port, s.metrics_host
    if not port:
        return None
    try:
        server = make_server(
            host,
            int(port),
            app(ready, registry_for_process(extra + (ReadyCollector(ready),))),
            ThreadingWSGIServer,
            handler_class=_Quiet,
        )
    except OSError as e:
        logger.info("%s metrics: %s:%s not bound (%s); another worker serves it", service, host, port, e)
        return None
    threading.Thread(target=server.serve_forever, name=f"{service}-metrics", daemon=True).start()
    logger.info(
        "%s metrics, health and readiness on http://%s:%s/{metrics,health,ready}", service, host, port
    )
    return server
