"""What students ask and their feedback (issue 14 §3, §4): feedback from the widget, turns from the Rasa
process, the staff overview and CSV exports."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from pydantic import Field, ValidationError, field_validator

from backend import clients
from backend.core.deps import (
    IntegrationKey,
    OptionalPrincipalDep,
    SessionDep,
    StaffDep,
)
from backend.schemas.base import BaseIn
from backend.schemas.insights import FeedbackOut, InsightsOut, TurnsOut
from backend.services import insights as I
from contracts.masking import storable

router = APIRouter(tags=["insights"])

ID = r"^[A-Za-z0-9_.:\-]{1,72}$"  # stored under "anon:" (80 characters at most)


class FeedbackIn(BaseIn):
    channel: Literal["web", "wechat"] = "web"
    conversation: str = Field(pattern=ID, description="the widget's conversation id")
    message_id: str = Field(
        pattern=r"^[A-Za-z0-9_.\-]{1,64}$", description="id of the answer shown (client-made)"
    )
    question: str = Field(default="", max_length=1000)
    answer: str = Field(max_length=4000, description="the answer's text as shown")
    rating: Literal["up", "down"]
    reason: Literal["答非所问", "内容缺失", "没有帮助", "事实错误"] | None = None
    comment: str | None = Field(default=None, max_length=500)


class WechatFeedbackIn(BaseIn):
    openid: str = Field(pattern=r"^[A-Za-z0-9_\-]{1,64}$")
    message_id: str = Field(pattern=r"^[A-Za-z0-9_.\-]{1,64}$")
    question: str = Field(default="", max_length=1000)
    answer: str = Field(max_length=4000)
    rating: Literal["up", "down"]
    reason: Literal["答非所问", "内容缺失", "没有帮助", "事实错误"] | None = None
    comment: str | None = Field(default=None, max_length=500)


class TurnIn(BaseIn):
    at: float | None = Field(default=None, description="UNIX time of the student's message")
    channel: str = Field(max_length=20)
    conversation: str = Field(max_length=80)
    student_id: str | None = Field(default=None, max_length=20)
    question: str = Field(default="", max_length=4000)
    intent: str | None = Field(default=None, max_length=80)
    confidence: float | None = Field(default=None, ge=0, le=1)
    answer_key: str | None = Field(default=None, max_length=120)
    fallback: bool = False
    handoff: bool = False

    @field_validator("*", mode="before")
    @classmethod
    def _storable(cls, v: Any) -> Any:
        """NUL and lone surrogates (no database text holds them) are dropped, not refused (issue 21 §2)."""
        return storable(v) if isinstance(v, str) else v


class TurnsIn(BaseIn):
    turns: list[dict[str, Any]] = Field(
        max_length=500,
        description=(
            "turns, each checked on its own (an off-contract one is counted in `rejected`): at (UNIX time), "
            "channel*, conversation*, student_id, question, intent, confidence (0-1), answer_key, fallback, "
            "handoff"
        ),
    )


@router.post("/api/feedback", response_model=FeedbackOut)
def feedback(
    body: FeedbackIn,
    request: Request,
    p: OptionalPrincipalDep,
    s: SessionDep,
) -> dict:
    """👍/👎 under an answer; 👎 needs one of four reasons. Signed-in students' feedback carries their id
    (from the token only). Sending it again for the same answer changes it (only the student's own, or an
    anonymous one from the same address: 409 `not_yours`). Limits per student or per address: 429
    `too_many_feedback`."""
    return I.add_feedback(s, p, body.model_dump(), clients.client_hash(clients.address(request)))


@router.post("/api/integration/feedback", dependencies=[IntegrationKey], response_model=FeedbackOut)
def wechat_feedback(body: WechatFeedbackIn, s: SessionDep) -> dict:
    """👍/👎 sent in WeChat (bot/feedback.py); the student is the one the openid is bound to, if any."""
    return I.add_wechat_feedback(s, body.model_dump())


@router.post(
    "/api/integration/turns",
    dependencies=[IntegrationKey],
    response_model=TurnsOut,
    response_model_exclude_unset=True,
)
def turns(body: TurnsIn, s: SessionDep) -> dict:
    """Turns logged by the Rasa process (bot/turnlog.py), in batches. Each turn is checked on its own: one
    that does not fit the contract is counted in `rejected` (with its position and reason in `errors`) and the
    others are stored, so one bad message never drops other students' turns."""
    good, errors = [], []
    for i, raw in enumerate(body.turns):
        try:
            good.append(TurnIn.model_validate(raw).model_dump())
        except ValidationError as e:
            errors.append(
                {"index": i, "fields": [".".join(str(x) for x in err["loc"]) for err in e.errors()]}
            )
    return {**I.add_turns(s, good), "rejected": len(errors), "errors": errors[:20]}


DAYS = Query(default=7, ge=1, le=180, description="the last N days, today included")


@router.get("/api/staff/insights", response_model=InsightsOut)
def overview(p: StaffDep, s: SessionDep, days: int = DAYS) -> dict:
    return I.overview(s, p, days)


def _csv(text: str, name: str) -> Response:
    return Response(
        text,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"},
    )


@router.get("/api/staff/insights/turns.csv")
def turns_csv(p: StaffDep, s: SessionDep, days: int = DAYS):
    return _csv(I.turns_csv(s, p, days), f"turns-{days}d.csv")


@router.get("/api/staff/insights/feedback.csv")
def feedback_csv(p: StaffDep, s: SessionDep, days: int = DAYS):
    return _csv(I.feedback_csv(s, p, days), f"feedback-{days}d.csv")
