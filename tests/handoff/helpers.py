"""Helpers of the handoff tests: the calls the action server and the channels make to the backend's handoff
endpoints (with the actions' service key and a student's action token), and the widget's handoff payload."""

from __future__ import annotations

import datetime as dt
import uuid

import jwt

from tests.backend.helpers import AUTH_SECRET, INTEGRATION_KEY, ok

SATURDAY = dt.date(2026, 12, 5)  # not a working day: tickets instead of the queue
SERVICE = {"X-Actions-Service-Key": "demo-actions-service-key"}
INTEGRATION = {"X-Integration-Key": INTEGRATION_KEY}


def action_token(student_id: str) -> str:
    now = dt.datetime.now(dt.timezone.utc)
    return jwt.encode(
        {
            "sub": student_id,
            "role": "student",
            "aud": "actions",
            "iat": now,
            "exp": now + dt.timedelta(minutes=5),
        },
        AUTH_SECRET,
        algorithm="HS256",
    )


def ask_person(srv, conversation: str, student: str | None = None, channel: str = "web", transcript=None):
    headers = dict(SERVICE)
    if student:
        headers["Authorization"] = f"Bearer {action_token(student)}"
    return srv.http.post(
        "/api/integration/handoff",
        headers=headers,
        json={
            "conversation": conversation,
            "channel": channel,
            "transcript": transcript
            if transcript is not None
            else [{"who": "student", "text": "档案寄到哪里"}, {"who": "bot", "text": "寄到接收单位。"}],
        },
    )


def say(srv, conversation: str, text: str, channel: str = "web") -> dict:
    return ok(
        srv.http.post(
            "/api/integration/handoff/inbound",
            headers=INTEGRATION,
            json={"conversation": conversation, "channel": channel, "text": text},
        )
    )


def anon() -> str:
    return "anon:" + uuid.uuid4().hex[:16]


def payload(msgs: list[dict]) -> dict | None:
    return next(
        (
            m["custom"]["handoff"]
            for m in msgs
            if isinstance(m.get("custom"), dict) and "handoff" in m["custom"]
        ),
        None,
    )
