"""A person in the chat (issue 15 §2): the action server opens a session, the channels ask before each message
whether the conversation is held, the widget polls for the counselor's replies, staff take / reply / close.
Logic and states: backend/services/handoff/; design: docs/handoff.md."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Header, Path, Query
from pydantic import Field, field_validator
from sqlalchemy import select

from backend import clients
from backend import models as M
from backend.core.auth import (
    Principal,
    _bearer,
    principal_from_token,
    service_key_ok,
)
from backend.core.db import SessionLocal, read_session
from backend.core.deps import (
    IntegrationKey,
    SessionDep,
    StaffDep,
)
from backend.core.errors import APIError, FieldError, forbidden, invalid
from backend.schemas.base import BaseIn
from backend.schemas.handoff import (
    BotAnswerOut,
    HandoffRequestOut,
    HeldOut,
    InboundOut,
    StaffHandoffListOut,
    StaffHandoffOut,
    WidgetMessagesOut,
)
from backend.services.handoff import common, conversation, staff
from backend.services.notices import inbox

router = APIRouter(prefix="/api", tags=["handoff"])
SessionId = Annotated[int, Path(ge=1, le=2**31 - 1)]
Conversation = Annotated[str, Field(min_length=5, max_length=80, pattern=common.CONVERSATION_RE.pattern)]


class Line(BaseIn):
    who: Literal["student", "bot"]
    text: str = Field(max_length=2000)


class RequestIn(BaseIn):
    conversation: Conversation
    channel: Literal["web", "wechat"]
    transcript: list[Line] = Field(default_factory=list, max_length=40)
    client: str | None = Field(
        default=None,
        max_length=64,
        description="the web visitor's address as the chat channel saw it (limits)",
    )


class InboundIn(BaseIn):
    conversation: Conversation
    channel: Literal["web", "wechat"]
    text: str = Field(min_length=1, max_length=1000)


class BotAnswerIn(BaseIn):
    conversation: Conversation
    channel: Literal["web", "wechat"]
    session_id: int = Field(ge=1, le=2**31 - 1)
    texts: list[Annotated[str, Field(min_length=1, max_length=conversation.BOT_TEXT_MAX)]] = Field(
        min_length=1, max_length=10
    )


class ReplyIn(BaseIn):
    text: str = Field(min_length=1, max_length=1000)

    @field_validator("text")
    @classmethod
    def _not_blank(cls, v: str) -> str:
        v = v.strip()
        if not v:
            raise ValueError("回复内容不能为空。")
        return v


# --- the action server ------------------------------------------------------------------------------------
def action_caller(
    s: SessionDep,
    authorization: str | None = Header(default=None),
    x_actions_service_key: str | None = Header(default=None, include_in_schema=False),
) -> Principal | None:
    """Only the action server (its service key); the student from its action token, when there is one."""
    if not service_key_ok(x_actions_service_key):
        raise APIError(401, "service_key_invalid", "服务密钥无效。")
    token = _bearer(authorization)
    return principal_from_token(token, s, service=True) if token else None


ActionCallerDep = Annotated[Principal | None, Depends(action_caller)]


def _check_channel(conversation: str, channel: str) -> None:
    """A WeChat conversation (wechat:<openid>) comes only through the WeChat channel, every other one through
    the web."""
    if (conversation.split(":", 1)[0] == "wechat") != (channel == "wechat"):
        raise invalid([FieldError("channel", "mismatch", "渠道与会话不一致。")])


@router.post(
    "/integration/handoff",
    tags=["integration"],
    response_model=HandoffRequestOut,
    response_model_exclude_unset=True,
)
def request_person(body: RequestIn, p: ActionCallerDep, s: SessionDep) -> dict:
    """转人工: queue (office hours) or ticket (outside; signed-in or WeChat) for the conversation."""
    kind = body.conversation.split(":", 1)[0]
    if p is not None and p.role != "student":
        raise forbidden("人工咨询仅供学生使用。")
    if kind == "student" and (p is None or body.conversation != f"student:{p.id}"):
        raise forbidden("只能为本人的会话申请人工咨询。")
    if kind == "anon" and p is not None:
        raise forbidden("已登录学生的会话不是匿名会话。")
    _check_channel(body.conversation, body.channel)
    student = s.get(M.Student, p.id) if p else None
    if body.channel == "wechat":
        inbox.touch_inbound(s, body.conversation.split(":", 1)[1])
    return conversation.request(
        s,
        body.conversation,
        body.channel,
        student,
        [line.model_dump() for line in body.transcript],
        clients.client_hash(body.client),
    )


# --- the channels (every student message, before Rasa) ------------------------------------------------------
@router.post(
    "/integration/handoff/inbound",
    tags=["integration"],
    dependencies=[IntegrationKey],
    response_model=InboundOut,
    response_model_exclude_unset=True,
)
def inbound(body: InboundIn) -> dict:
    """{held: false}: let the bot answer. Checked with a read first: no write transaction for the usual
    conversation that no person holds."""
    with read_session() as r:
        held = r.scalar(select(M.HandoffSession.id).where(M.HandoffSession.open_key == body.conversation))
    if held is None:
        return {"held": False}
    with SessionLocal() as s:
        if body.channel == "wechat":
            inbox.touch_inbound(s, body.conversation.split(":", 1)[1])
        return conversation.inbound(s, body.conversation, body.channel, body.text)


@router.post(
    "/integration/handoff/bot",
    tags=["integration"],
    dependencies=[IntegrationKey],
    response_model=BotAnswerOut,
)
def bot_answer(body: BotAnswerIn, s: SessionDep) -> dict:
    """The bot's answer to a message stored while queued (`inbound` answered `stored: true` with
    `session_id`): kept for the counselor's view only (never polled by the widget, never sent to WeChat). 404
    `not_found` for another conversation's session; 409 `wrong_state` once the session has ended."""
    _check_channel(body.conversation, body.channel)
    return conversation.bot_answer(s, body.conversation, body.session_id, body.texts)


@router.get(
    "/integration/handoff/held", tags=["integration"], dependencies=[IntegrationKey], response_model=HeldOut
)
def held() -> dict:
    """The conversations a person holds now (the channels poll this, so a turn of a conversation nobody holds
    needs no call to the backend)."""
    with read_session() as r:
        keys = list(
            r.scalars(
                select(M.HandoffSession.open_key)
                .where(M.HandoffSession.open_key.is_not(None))
                .limit(common.HELD_LIST_MAX)
            )
        )
    return {"conversations": keys, "complete": len(keys) < common.HELD_LIST_MAX}


# --- the widget ---------------------------------------------------------------------------------------------
@router.get("/handoff/messages", response_model=WidgetMessagesOut)
def widget_messages(
    s: SessionDep,
    after: int = Query(default=0, ge=0, le=2**31 - 1),
    authorization: str | None = Header(default=None),
    x_handoff_secret: str | None = Header(default=None, max_length=100),
) -> dict:
    """The counselor's replies for the widget: a signed-in student by the web token, an anonymous conversation
    by the secret it was given when it asked for a person."""
    token = _bearer(authorization)
    if token:
        p = principal_from_token(token, s)
        if p.role != "student":
            raise forbidden("此功能仅供毕业生本人使用。")
        return conversation.for_widget(s, f"student:{p.id}", None, after)
    if x_handoff_secret:
        return conversation.for_widget(s, None, x_handoff_secret, after)
    raise APIError(401, "not_authenticated", "请先登录，或在同一个聊天窗口中查看老师的回复。")


# --- staff --------------------------------------------------------------------------------------------------
@router.get("/staff/handoff", response_model=StaffHandoffListOut)
def staff_list(
    p: StaffDep,
    s: SessionDep,
    view: Literal["queue", "tickets", "closed"] = "queue",
    page: int = Query(default=1, ge=1, le=100000, description="1-based"),
    per_page: int = Query(default=staff.PER_PAGE, ge=1, le=200),
) -> dict:
    """Counselors: their college's conversations; school staff (career center): all, anonymous ones included.
    Paged (`total`, `pages`); queue and tickets list signed-in students before anonymous visitors."""
    open_now, label = common.office_hours()
    return {
        **staff.staff_list(s, p, view, page, per_page),
        "counts": staff.counts(s, p),
        "office_hours": {"open": open_now, "label": label},
    }


@router.get("/staff/handoff/{sid}", response_model=StaffHandoffOut)
def staff_detail(sid: SessionId, p: StaffDep, s: SessionDep) -> dict:
    return staff.staff_detail(s, p, sid)


@router.post("/staff/handoff/{sid}/take", response_model=StaffHandoffOut)
def take(sid: SessionId, p: StaffDep, s: SessionDep) -> dict:
    """One staff member wins a waiting conversation; the others get 409 already_taken."""
    return staff.take(s, p, sid)


@router.post("/staff/handoff/{sid}/reply", response_model=StaffHandoffOut)
def reply(sid: SessionId, body: ReplyIn, p: StaffDep, s: SessionDep) -> dict:
    """A reply in the conversation the caller holds, or the answer to a ticket (once)."""
    return staff.reply(s, p, sid, body.text)


@router.post("/staff/handoff/{sid}/close", response_model=StaffHandoffOut)
def close(sid: SessionId, p: StaffDep, s: SessionDep) -> dict:
    """End the conversation: the bot answers the student again."""
    return staff.close(s, p, sid)
