"""FastAPI application."""

from __future__ import annotations

import re
from html import escape
from pathlib import Path
from urllib.parse import urlsplit

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.datastructures import MutableHeaders

from backend import metrics
from backend.core import errors
from backend.core.config import ROOT, settings
from backend.routers import answers, insights, knowledge, public, staff, student
from backend.routers import handoff as handoff_router
from backend.routers import notices as notices_router
from backend.services.handoff import delivery as handoff_delivery
from backend.services.notices import delivery as notices
from contracts import logs

MAX_BODY = 1024 * 1024  # 1 MiB: the largest honest request (a full form) is a few KiB
TOO_LARGE = {"code": "too_large", "message": "请求内容太大（超过1 MiB），请精简后重试。"}
NUL_MSG = "输入中含有不可见的控制字符（NUL），请删除后重试。"
# a JSON escape of NUL (\u0000 after an even number of backslashes); the six characters `\u0000` typed as text
# arrive as `\\u0000` and are ordinary text (issue 21 §2)
ESCAPED_NUL = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000")
# routes that clean NUL item by item instead: one bad turn must not drop the batch (routers/insights.py)
CLEANS_NUL = {"/api/integration/turns"}
MAX_DEPTH = 32  # JSON nesting: the deepest honest body (an NLG request's tracker) is about 5 levels
TOO_DEEP_MSG = f"请求内容的嵌套层数太多（超过{MAX_DEPTH}层），请检查格式。"
TOO_DEEP = {
    "code": "too_deep",
    "message": TOO_DEEP_MSG,
    "fields": [{"field": "body", "code": "too_deep", "message": TOO_DEEP_MSG}],
}
_JSON_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"')
_BRACKETS = re.compile(rb"[\[\]{}]")


def json_depth(body: bytes, limit: int = MAX_DEPTH) -> int:
    """How deep the brackets of a JSON text nest (strings skipped); bodies with few brackets cost one
    count."""
    if body.count(b"[") + body.count(b"{") <= limit:
        return 0
    depth = deepest = 0
    for b in _BRACKETS.findall(_JSON_STRING.sub(b"", body)):
        depth += 1 if b in (b"[", b"{") else -1
        deepest = max(deepest, depth)
    return deepest


class RejectNul:
    """Body guard in front of the app: bodies over MAX_BODY get 413 before they are buffered (a declared
    Content-Length is checked up front, a chunked body is counted while it streams), NUL characters, which
    PostgreSQL text cannot hold, get a 422 up front instead of failing later (except on CLEANS_NUL routes),
    and JSON nested deeper than MAX_DEPTH gets 422 `too_deep` before any parser recurses into it (issue 21 §8:
    `[` x 5000 was a 500)."""

    def __init__(self, app, max_body: int = MAX_BODY) -> None:
        self.app, self.max_body = app, max_body

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        for name, value in scope.get("headers", ()):
            if name == b"content-length" and (not value.isdigit() or int(value) > self.max_body):
                return await JSONResponse(TOO_LARGE, status_code=413)(scope, receive, send)
        bad = b"%00" in scope.get("query_string", b"") or "\x00" in scope.get("path", "")
        chunks, size, more = [], 0, True
        while more and not bad:
            msg = await receive()
            if msg["type"] == "http.disconnect":
                return None
            chunk = msg.get("body", b"")
            size += len(chunk)
            if size > self.max_body:
                return await JSONResponse(TOO_LARGE, status_code=413)(scope, receive, send)
            chunks.append(chunk)
            more = msg.get("more_body", False)
        body = b"".join(chunks)
        if not bad and scope.get("path") not in CLEANS_NUL:
            bad = b"\x00" in body or ESCAPED_NUL.search(body) is not None
        if bad:
            resp = JSONResponse(
                {
                    "code": "validation_error",
                    "message": NUL_MSG,
                    "fields": [{"field": "body", "code": "nul_character", "message": NUL_MSG}],
                },
                status_code=422,
            )
            return await resp(scope, receive, send)
        if json_depth(body) > MAX_DEPTH:
            return await JSONResponse(TOO_DEEP, status_code=422)(scope, receive, send)
        sent = False

        async def replay():
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        return await self.app(scope, replay, send)


HOST_RE = re.compile(r"^[A-Za-z0-9.\-]{1,253}$|^\[[0-9A-Fa-f:.]{2,45}\]$")
NO_CSP = (
    "/docs",
    "/redoc",
)  # FastAPI's documentation pages load their scripts from a CDN (off in production)


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme in ("http", "https") and parts.netloc else ""


def content_security_policy(scope) -> str:
    """The pages' policy: their own scripts and styles only (no inline code), the API on this origin and the
    chat on Rasa's (RASA_PUBLIC_URL, else this host at RASA_PORT, as the widget computes it), bot images from
    https, and no framing by other sites."""
    rasa = _origin(settings.rasa_public_url) if settings.rasa_public_url else ""
    if not rasa:
        host = dict(scope.get("headers") or ()).get(b"host", b"").decode("latin-1").rsplit(":", 1)[0]
        if host.endswith("]") or ":" not in host:
            port = settings.rasa_port if settings.rasa_port.isdigit() else "5005"
            rasa = f"{scope.get('scheme', 'http')}://{host}:{port}" if HOST_RE.match(host) else ""
    return (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: https:; "
        f"connect-src 'self'{' ' + rasa if rasa else ''}; frame-ancestors 'none'; base-uri 'none'; "
        "form-action 'self'; object-src 'none'"
    )


class SecurityHeaders:
    """Every response: X-Content-Type-Options: nosniff; every HTML page (the demo page, the staff pages):
    Content-Security-Policy and X-Frame-Options: DENY (issue 21 §11)."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def send_with_headers(msg) -> None:
            if msg["type"] == "http.response.start":
                headers = MutableHeaders(scope=msg)
                headers["X-Content-Type-Options"] = "nosniff"
                if headers.get("content-type", "").startswith("text/html") and not scope["path"].startswith(
                    NO_CSP
                ):
                    headers["Content-Security-Policy"] = content_security_policy(scope)
                    headers["X-Frame-Options"] = "DENY"
            await send(msg)

        return await self.app(scope, receive, send_with_headers)


def demo_page(index: Path):
    """The demo page with the widget pointed at this deployment's Rasa server (RASA_PUBLIC_URL /
    RASA_PORT)."""
    html = index.read_text(encoding="utf-8")
    port = settings.rasa_port if settings.rasa_port.isdigit() else "5005"
    html = html.replace('data-rasa-port=""', f'data-rasa-port="{port}"', 1)
    if settings.rasa_public_url:
        html = html.replace(
            'data-rasa-url=""', f'data-rasa-url="{escape(settings.rasa_public_url, quote=True)}"', 1
        )

    def serve() -> HTMLResponse:
        return HTMLResponse(html, headers={"Cache-Control": "no-cache"})

    return serve


def create_app() -> FastAPI:
    logs.setup("backend")  # INFO to stderr (uvicorn sets up only its own loggers), secrets masked
    docs = settings.api_docs if settings.api_docs is not None else not settings.production
    app = FastAPI(
        title="学校平台（毕业去向登记）后端",
        version="1.0.0",
        # /docs, /redoc, /openapi.json: off in production unless API_DOCS=1 (issue 21 §11)
        docs_url="/docs" if docs else None,
        redoc_url="/redoc" if docs else None,
        openapi_url="/openapi.json" if docs else None,
        description="The school platform's system of record: 个人信息完善, 毕业去向登记, 户档信息登记, "
        "two-level review, national-platform sync and confirmation, change requests, "
        "档案邮寄申请. Error bodies: {code, message, fields}.",
    )
    errors.install(app)
    app.add_middleware(RejectNul)
    app.add_middleware(SecurityHeaders)
    # only the job site's origins (CHAT_ALLOWED_ORIGINS), never `*`: another site's page gets no CORS grant
    app.add_middleware(
        CORSMiddleware,
        allow_origins=list(settings.allowed_origins),
        allow_methods=["*"],
        allow_headers=["Authorization", "Content-Type", "Idempotency-Key", "X-Handoff-Secret"],
    )
    app.add_middleware(metrics.Middleware)  # outermost: every request counted and timed (issue 23)
    app.include_router(public.router)
    app.include_router(student.router)
    app.include_router(staff.router)
    app.include_router(answers.router)
    app.include_router(knowledge.router)
    app.include_router(insights.router)
    app.include_router(notices_router.router)
    app.include_router(handoff_router.router)
    # /metrics, /health, /ready on the operations port (METRICS_PORT, loopback; backend/metrics.py)
    app.router.on_startup.append(metrics.start)
    # the notice delivery worker (issue 15 §1) as a thread of each backend process; NOTICE_WORKER=0: none
    app.router.on_startup.append(notices.start_background)
    app.router.on_shutdown.append(notices.stop_background)
    # counselors' replies to WeChat conversations (issue 15 §2); HANDOFF_WORKER=0: none
    app.router.on_startup.append(handoff_delivery.start_background)
    app.router.on_shutdown.append(handoff_delivery.stop_background)
    # the queue's timeout without waiting for the student's next message; HANDOFF_SWEEP=0: none
    app.router.on_startup.append(handoff_delivery.start_sweep)
    app.router.on_shutdown.append(handoff_delivery.stop_sweep)
    web = ROOT / "web"
    if (web / "staff").is_dir():
        # the staff pages (issue 14): static, no data in them; every call they make is checked by the API
        app.mount("/staff", StaticFiles(directory=web / "staff", html=True), name="staff")
    if settings.demo_mode and web.is_dir():
        # the demo job-site page and the chat widget (issue "channels"), same origin as the API
        page = demo_page(web / "index.html")
        app.add_api_route("/", page, methods=["GET", "HEAD"], include_in_schema=False)
        app.add_api_route("/index.html", page, methods=["GET", "HEAD"], include_in_schema=False)
        app.mount("/", StaticFiles(directory=web, html=True), name="web")
    return app


app = create_app()
