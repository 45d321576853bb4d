"""FastAPI application."""
from __future__ import annotations

from html import escape
from pathlib import Path

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles

from deploy import logs

from . import errors, metrics
from .config import ROOT, settings
from . import notices
from .routers import answers, insights, notices as notices_router, public, staff, student
from .routers import handoff as handoff_router
from .handoff import delivery as handoff_delivery


MAX_BODY = 1024 * 1024  # 1 MiB: the largest honest request (a full form) is a few KiB
TOO_LARGE = {"code": "too_large", "message": "请求内容太大（超过1 MiB），请精简后重试。"}
NUL_MSG = "输入中含有不可见的控制字符（NUL），请删除后重试。"


class RejectNul:
    """Body guard in front of the app: bodies over MAX_BODY get 413 before they are buffered (a declared
    Content-Length is checked up front, a chunked body is counted while it streams), and NUL characters, which
    PostgreSQL text cannot hold, get a 422 up front instead of failing later."""

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
        if bad or b"\x00" in body or b"\\u0000" in body:
            resp = JSONResponse({"code": "validation_error", "message": NUL_MSG,
                                 "fields": [{"field": "body", "code": "nul_character", "message": NUL_MSG}]},
                                status_code=422)
            return await resp(scope, receive, send)
        sent = False

        async def replay():
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        return await self.app(scope, replay, send)


def demo_page(index: Path):
    """The demo page with the widget pointed at this deployment's Rasa server (RASA_PUBLIC_URL / RASA_PORT)."""
    html = index.read_text(encoding="utf-8")
    port = settings.rasa_port if settings.rasa_port.isdigit() else "5005"
    html = html.replace('data-rasa-port=""', f'data-rasa-port="{port}"', 1)
    if settings.rasa_public_url:
        html = html.replace('data-rasa-url=""', f'data-rasa-url="{escape(settings.rasa_public_url, quote=True)}"', 1)

    def serve() -> HTMLResponse:
        return HTMLResponse(html, headers={"Cache-Control": "no-cache"})

    return serve


def create_app() -> FastAPI:
    logs.setup("backend")  # INFO to stderr (uvicorn sets up only its own loggers), secrets masked
    app = FastAPI(title="学校平台（毕业去向登记）后端", version="1.0.0",
                  description="The school platform's system of record: 个人信息完善, 毕业去向登记, 户档信息登记, "
                              "two-level review, national-platform sync and confirmation, change requests, "
                              "档案邮寄申请. Error bodies: {code, message, fields}.")
    errors.install(app)
    app.add_middleware(RejectNul)
    # only the job site's origins (CHAT_ALLOWED_ORIGINS), never `*`: another site's page gets no CORS grant
    app.add_middleware(CORSMiddleware, allow_origins=list(settings.allowed_origins), allow_methods=["*"],
                       allow_headers=["Authorization", "Content-Type", "Idempotency-Key", "X-Handoff-Secret"])
    app.add_middleware(metrics.Middleware)  # outermost: every request counted and timed (issue 23)
    app.include_router(public.router)
    app.include_router(student.router)
    app.include_router(staff.router)
    app.include_router(answers.router)
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
