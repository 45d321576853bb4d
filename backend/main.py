"""FastAPI application."""
from __future__ import annotations

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from fastapi.staticfiles import StaticFiles

from . import errors
from .config import ROOT, settings
from .routers import public, staff, student


def create_app() -> FastAPI:
    app = FastAPI(title="学校平台（毕业去向登记）后端", version="1.0.0",
                  description="The school platform's system of record: 个人信息完善, 毕业去向登记, 户档信息登记, "
                              "two-level review, national-platform sync and confirmation, change requests, "
                              "档案邮寄申请. Error bodies: {code, message, fields}.")
    errors.install(app)
    app.add_middleware(CORSMiddleware, allow_origins=["*"], allow_methods=["*"],
                       allow_headers=["Authorization", "Content-Type", "Idempotency-Key"])
    app.include_router(public.router)
    app.include_router(student.router)
    app.include_router(staff.router)
    web = ROOT / "web"
    if settings.demo_mode and web.is_dir():
        # the demo job-site page and the chat widget (issue "channels"), same origin as the API
        app.mount("/", StaticFiles(directory=web, html=True), name="web")
    return app


app = create_app()
