"""The student's side of a handoff (through the action server and the channels): asking for a person, messages
while queued or held, the bot's answers, tickets, the queue's timeout and sweep, the widget's view."""

from __future__ import annotations

import datetime as dt
import logging
import secrets

from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from backend import clients
from backend import models as M
from backend.core import clock
from backend.core.config import settings
from backend.core.errors import APIError, not_found
from backend.services.handoff.common import (
    CANCEL_RE,
    TEXT_DRAFT_EXPIRED,
    TEXT_STUDENT_CLOSED,
    TEXT_TICKET_CANCELLED,
    TEXT_TICKET_LEFT,
    TEXT_TICKET_LEFT_WECHAT,
    TEXT_TIMEOUT_CLOSED,
    TEXT_TIMEOUT_TICKET,
    TEXT_TIMEOUT_WECHAT,
    _expired_draft,
    _hash,
    _open,
    add_message,
    audit,
    draft_minutes,
    message_view,
    office_hours,
    student_view,
    wait_limit,
)
from backend.services.handoff.timeout import _overdue, _time_out

logger = logging.getLogger("backend.handoff")

# --- the student's side (through the action server and the channels) ----------------------------------------
OPEN = (
    "waiting",
    "active",
    "ticket_draft",
    "ticket_open",
)  # a student has at most one of these (issue 21 §1)
TEXT_TICKET_PENDING = "你已经给老师留过言了，老师会在工作时间回复你（回复会出现在消息通知里），不用再次留言。"
TEXT_TOO_MANY = "你转人工太频繁了，请{wait}后再试；着急的话可以直接联系下面的老师。"
TEXT_TOO_MANY_CLIENT = "这个网络转人工太频繁了，请{wait}后再试；着急的话可以直接联系下面的老师。"
TEXT_QUEUE_FULL = (
    "现在排队等待人工服务的人太多了，请{wait}后再试，或登录后再说“转人工”；着急的话可以直接联系下面的老师。"
)
ANON_LOCK = 0x68616E646F6666  # PostgreSQL advisory lock: one anonymous request at a time counts and inserts


def _answer(h: M.HandoffSession, label: str, already: bool) -> dict:
    out = {
        "state": h.state,
        "session_id": h.id,
        "already": already,
        "hours": label,
        "staff_name": h.staff_name,
        "draft_minutes": draft_minutes(),
    }
    if h.state == "ticket_open":
        out["message"] = TEXT_TICKET_PENDING
    return out


def _limits(
    s: Session, conversation: str, channel: str, student: M.Student | None, client: str | None
) -> None:
    """Before a new session is made: at most HANDOFF_PER_STUDENT per student, HANDOFF_PER_OPENID per WeChat
    user, HANDOFF_PER_CLIENT per address (anonymous web) in HANDOFF_LIMIT_MINUTES, and at most
    HANDOFF_ANON_MAX anonymous sessions open at once (the queue cannot be buried); 429 with the wait in
    Chinese otherwise. Counted in the database: every backend process sees the same rows."""
    HS = M.HandoffSession
    window = dt.timedelta(minutes=settings.handoff_limit_minutes)
    if student is not None:
        clients.limit(
            s,
            HS.created_at,
            [HS.student_id == student.id],
            settings.handoff_per_student,
            window,
            "too_many_handoffs",
            TEXT_TOO_MANY,
        )
    if channel == "wechat":
        clients.limit(
            s,
            HS.created_at,
            [HS.conversation == conversation],
            settings.handoff_per_openid,
            window,
            "too_many_handoffs",
            TEXT_TOO_MANY,
        )
    if student is None and channel == "web" and client:
        clients.limit(
            s,
            HS.created_at,
            [HS.client_hash == client],
            settings.handoff_per_client,
            window,
            "too_many_handoffs",
            TEXT_TOO_MANY_CLIENT,
        )
    if student is None:
        n = (
            s.scalar(
                select(func.count())
                .select_from(HS)
                .where(HS.student_id.is_(None), HS.state.in_(("waiting", "ticket_draft")))
            )
            or 0
        )
        if n >= settings.handoff_anon_max:
            s.rollback()
            wait = min(int(wait_limit().total_seconds()), 300)
            raise APIError(
                429, "queue_full", TEXT_QUEUE_FULL.format(wait=f"{wait // 60}分钟"), retry_after=wait
            )


def request(
    s: Session,
    conversation: str,
    channel: str,
    student: M.Student | None,
    transcript: list[dict],
    client: str | None = None,
) -> dict:
    """The student asked for a person: join the queue (office hours), or start a ticket, or (anonymous web
    outside office hours) nothing. A second request while one is open returns the open one: per conversation,
    and per student across their conversations (web and WeChat) including a ticket not answered yet. A new
    session must pass the limits (`_limits`). `client`: the keyed hash of an anonymous visitor's address."""
    if (
        student is not None
    ):  # one request of a student at a time (PostgreSQL: row lock; SQLite: BEGIN IMMEDIATE)
        s.scalar(select(M.Student.id).where(M.Student.id == student.id).with_for_update())
    elif s.get_bind().dialect.name == "postgresql":
        s.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": ANON_LOCK})
    existing = _open(s, conversation, lock=True)
    open_now, label = office_hours()
    if existing is not None and _expired_draft(existing):  # a stale draft: a new request starts afresh
        _expire_draft(s, existing)
        existing = None
    if existing is None and student is not None:
        existing = s.scalar(
            select(M.HandoffSession)
            .where(M.HandoffSession.student_id == student.id, M.HandoffSession.state.in_(OPEN))
            .order_by(M.HandoffSession.id.desc())
            .limit(1)
        )
        if existing is not None and _expired_draft(existing):
            _expire_draft(s, existing)
            existing = None
    if existing is not None:
        s.commit()
        return _answer(existing, label, True)
    if not open_now and student is None and channel == "web":
        return {"state": "closed_hours", "session_id": None, "already": False, "hours": label}
    _limits(s, conversation, channel, student, client)
    secret = secrets.token_urlsafe(24) if (student is None and channel == "web") else None
    h = M.HandoffSession(
        conversation=conversation,
        channel=channel,
        kind="chat" if open_now else "ticket",
        state="waiting" if open_now else "ticket_draft",
        open_key=conversation,
        student_id=student.id if student else None,
        college_code=student.college_code if student else None,
        secret_hash=_hash(secret) if secret else None,
        transcript=transcript,
        created_at=clock.now(),
        client_hash=client if student is None else None,
    )
    s.add(h)
    try:
        s.flush()
    except IntegrityError:  # another process opened one for this conversation at the same moment
        s.rollback()
        existing = _open(s, conversation)
        if existing is None:
            raise APIError(409, "conflict", "请稍后再试。") from None
        return _answer(existing, label, True)
    audit(
        s,
        "student" if student else "anonymous",
        student.id if student else conversation[:60],
        h,
        "request" if h.kind == "chat" else "ticket_start",
        {"channel": channel, "state": h.state},
    )
    s.commit()
    out = _answer(h, label, False)
    out["staff_name"] = None
    if secret:
        out["secret"] = secret
    return out


def _expire_draft(s: Session, h: M.HandoffSession) -> None:
    h.state, h.open_key, h.closed_at, h.closed_by = "cancelled", None, clock.now(), "timeout"
    audit(
        s,
        "student" if h.student_id else "anonymous",
        h.student_id or h.conversation[:60],
        h,
        "ticket_expired",
        {"state": "cancelled"},
    )
    s.flush()


def inbound(s: Session, conversation: str, channel: str, text: str) -> dict:
    """A student's message, before Rasa sees it. {held: False} lets the bot answer; {held: False, stored:
    True} too, the message is also kept for the counselor (in the queue); {held: True, reply} means the
    message was kept for a person and the bot is not asked (reply: what the student is told now, may be None).
    `note`: a line the channel shows before the bot's answer."""
    h = _open(s, conversation, lock=True)
    if h is None:
        return {"held": False}
    actor = ("student", h.student_id) if h.student_id else ("anonymous", conversation[:60])
    if CANCEL_RE.match(text):
        state = "cancelled" if h.state == "ticket_draft" else "closed"
        h.state, h.open_key, h.closed_at, h.closed_by = state, None, clock.now(), "student"
        add_message(s, h, "student", text)
        audit(s, *actor, h, "cancel" if state == "cancelled" else "close", {"by": "student", "state": state})
        s.commit()
        return {
            "held": True,
            "state": state,
            "reply": TEXT_TICKET_CANCELLED if state == "cancelled" else TEXT_STUDENT_CLOSED,
        }
    if _overdue(h):
        return _timed_out(s, h, actor, text, conversation, channel)
    if _expired_draft(h):  # nothing written in time: this message is for the bot
        _expire_draft(s, h)
        s.commit()
        return {
            "held": False,
            "state": "cancelled",
            "note": TEXT_DRAFT_EXPIRED.format(minutes=draft_minutes()),
        }
    m = add_message(s, h, "student", text)
    if h.state == "ticket_draft":
        h.state, h.open_key = "ticket_open", None
        audit(s, *actor, h, "ticket_left", {"message_id": m.id, "text": text})
        s.commit()
        return {
            "held": True,
            "state": "ticket_open",
            "reply": TEXT_TICKET_LEFT_WECHAT
            if h.channel == "wechat" and not h.student_id
            else TEXT_TICKET_LEFT,
        }
    audit(s, *actor, h, "student_message", {"message_id": m.id, "text": text})
    s.commit()
    if (
        h.state == "waiting"
    ):  # in the queue: the counselor will see it, and the bot answers it now (the channel
        # then stores that answer for the counselor too: bot_answer with this session_id)
        return {"held": False, "stored": True, "state": "waiting", "session_id": h.id}
    return {"held": True, "state": h.state, "reply": None}


BOT_TEXT_MAX = 4000


def bot_answer(s: Session, conversation: str, session_id: int, texts: list[str]) -> dict:
    """What the bot answered a message stored while queued (the channel posts it after the turn): kept as
    sender "bot" so the counselor sees the assistant's answers in order with the student's messages. Shown on
    the staff page only: never in the widget's poll, never sent to WeChat (the student already got it from the
    bot). The session must be this conversation's and still waiting (or just taken: the answer was given
    before)."""
    h = s.scalar(
        select(M.HandoffSession)
        .where(M.HandoffSession.id == session_id, M.HandoffSession.conversation == conversation)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if h is None:
        raise not_found("没有这个人工咨询会话。")
    if h.state not in ("waiting", "active"):
        raise APIError(409, "wrong_state", "这个会话已经结束，不再保存智能助手的回答。")
    ids = [add_message(s, h, "bot", t[:BOT_TEXT_MAX], to_wechat=False).id for t in texts]
    s.commit()
    return {"stored": len(ids), "message_ids": ids}


def for_widget(s: Session, conversation: str | None, secret: str | None, after: int) -> dict:
    """The widget's poll: the conversation's latest chat session and the staff/system messages after
    `after`."""
    q = select(M.HandoffSession).where(M.HandoffSession.kind == "chat")
    if secret:
        q = q.where(M.HandoffSession.secret_hash == _hash(secret))
    else:
        q = q.where(M.HandoffSession.conversation == conversation)
    h = s.scalar(q.order_by(M.HandoffSession.id.desc()).limit(1))
    if h is None:
        if secret:
            raise APIError(404, "not_found", "人工咨询会话不存在或已过期。")
        return {"session": None, "messages": []}
    # the counselor's and the system's messages only: the student's own and the bot's answers (stored for the
    # counselor) were already shown to the student by the chat itself
    msgs = s.scalars(
        select(M.HandoffMessage)
        .where(
            M.HandoffMessage.session_id == h.id,
            M.HandoffMessage.id > after,
            M.HandoffMessage.sender.in_(("staff", "system")),
        )
        .order_by(M.HandoffMessage.id)
        .limit(100)
    )
    return {"session": student_view(h), "messages": [message_view(m) for m in msgs]}


def _timed_out(
    s: Session, h: M.HandoffSession, actor: tuple, text: str, conversation: str, channel: str
) -> dict:
    """The student wrote after the wait limit: the timeout, then the bot answers this message either way (a
    student is told about the ticket first by the note; the widget shows why a closed queue ended)."""
    state = _time_out(s, h, actor, swept=False)
    if state is None:  # a counselor took it a moment ago (SQLite: no row lock): handle the message as such
        return inbound(s, conversation, channel, text)
    if state == "ticket_open":
        return {
            "held": False,
            "state": "ticket_open",
            "note": TEXT_TIMEOUT_WECHAT
            if h.channel == "wechat" and not h.student_id
            else TEXT_TIMEOUT_TICKET,
        }
    return {"held": False, "state": "closed", "note": TEXT_TIMEOUT_CLOSED if h.channel == "wechat" else None}
