"""Turns and feedback coming in (the channels, the widget, WeChat), with the feedback limits."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from backend import clients
from backend import models as M
from backend.core import clock
from backend.core.auth import Principal
from backend.core.config import settings
from backend.core.errors import APIError, invalid
from backend.services.insights.retention import REASONS, _last_purge, purge
from backend.validators import FieldError
from contracts.masking import (
    mask,
    storable,  # noqa: F401 - storable: the turn ingestion (routers/insights.py)
)


# --- ingestion ---------------------------------------------------------------------------------------------
def _parse_at(v: Any) -> dt.datetime:
    if isinstance(v, (int, float)) and 0 < v < 10**11:
        return dt.datetime.fromtimestamp(v, clock.TZ)
    return clock.now()


def add_turns(s: Session, turns: list[dict]) -> dict:
    known = set(
        s.scalars(
            select(M.Student.id).where(
                M.Student.id.in_({t["student_id"] for t in turns if t.get("student_id")} or {""})
            )
        )
    )
    for t in turns:
        conf = t.get("confidence")
        s.add(
            M.TurnLog(
                at=_parse_at(t.get("at")),
                channel=t["channel"],
                conversation=t["conversation"],
                student_id=t.get("student_id") if t.get("student_id") in known else None,
                question=mask(t.get("question") or ""),
                intent=t.get("intent"),
                confidence=float(conf) if isinstance(conf, (int, float)) else None,
                answer_key=t.get("answer_key"),
                fallback=bool(t.get("fallback")),
                handoff=bool(t.get("handoff")),
            )
        )
    s.commit()
    out = {"stored": len(turns)}
    if time.monotonic() - _last_purge[0] > 3600:
        _last_purge[0] = time.monotonic()
        out.update(purge(s))
    return out


def _answer_key_of(text: str) -> str | None:
    """The answer a feedback is about, when its text is one of the current answers' texts."""
    from backend.services.answers import SOURCE_PREFIX, cache

    body = text.split("\n" + SOURCE_PREFIX)[0].strip()
    cache.get("")  # make sure the copy is loaded
    for key, (variations, _src) in cache.data.items():
        if any((v.get("text") or "").strip() == body for v in variations):
            return key
    return None


FEEDBACK_WINDOW = dt.timedelta(minutes=1)
FEEDBACK_LOCK = (
    0x666565646261  # PostgreSQL advisory lock: the count and the insert of a new row, one at a time
)
TOO_MANY_FEEDBACK = "反馈提交太频繁了，请{wait}后再试。"


def _feedback_guard(s: Session, conversation: str, student_id: str | None, client: str | None) -> None:
    """Limits on new feedback rows per minute, counted in the database so they hold across processes: a
    signed-in student FEEDBACK_PER_PRINCIPAL by their id, a WeChat user as many by their conversation (from
    the openid); an anonymous visitor FEEDBACK_PER_CLIENT by address and all anonymous ones FEEDBACK_ANONYMOUS
    together. Never by a conversation id the client chooses. The check and the insert are serialised (SQLite:
    the write lock taken at BEGIN; PostgreSQL: an advisory lock held to the end of the transaction). A flood
    gets 429 `too_many_feedback` and stores nothing."""
    if s.get_bind().dialect.name == "postgresql":
        s.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": FEEDBACK_LOCK})
    F = M.Feedback

    def check(conditions: list, most: int) -> None:
        clients.limit(s, F.at, conditions, most, FEEDBACK_WINDOW, "too_many_feedback", TOO_MANY_FEEDBACK)

    if student_id is not None:
        return check([F.student_id == student_id], settings.feedback_per_principal)
    if conversation.startswith("wechat:"):
        check([F.conversation == conversation], settings.feedback_per_principal)
    else:
        check([F.client_hash == client, F.student_id.is_(None)], settings.feedback_per_client)
    check([F.student_id.is_(None)], settings.feedback_anonymous)


def feedback_key(p: Principal | None, conversation: str) -> str:
    """The conversation a feedback row of the widget is filed under: a signed-in student's own
    (`student:<id>`, whatever the client sent), else the client's id under `anon:`, so no anonymous request
    can name a student's row (or a WeChat one)."""
    return f"student:{p.id}" if p is not None and p.role == "student" else "anon:" + conversation


def add_feedback(
    s: Session, p: Principal | None, body: dict, client: str | None = None, conversation: str | None = None
) -> dict:
    """A new row, or a changed vote on the caller's own row: a student's rows are keyed by the student; an
    anonymous row is changed only from the address that made it (409 `not_yours` otherwise). `client`: the
    keyed hash of the caller's address; `conversation`: the server's key (WeChat), else `feedback_key`."""
    rating, reason = body["rating"], body.get("reason")
    if rating == "down" and reason not in REASONS:
        raise invalid([FieldError("reason", "required", "请选择一个原因：" + "、".join(REASONS) + "。")])
    if rating == "up":
        reason = None
    student_id = p.id if p and p.role == "student" else None
    conversation = conversation or feedback_key(p, body["conversation"])
    answer = (body.get("answer") or "").strip()
    values = dict(
        at=clock.now(),
        student_id=student_id,
        question=mask(body.get("question") or ""),
        answer=mask(answer, 4000),
        answer_key=_answer_key_of(answer),
        rating=rating,
        reason=reason,
        comment=mask(body.get("comment") or "", 500) or None,
    )
    where = (
        M.Feedback.channel == body["channel"],
        M.Feedback.conversation == conversation,
        M.Feedback.message_id == body["message_id"],
    )
    for _ in range(2):
        fb = s.scalar(select(M.Feedback).where(*where))
        if fb is None:  # a new row (changing one's vote on an answer is never refused)
            _feedback_guard(s, conversation, student_id, client)
            fb = M.Feedback(
                channel=body["channel"],
                conversation=conversation,
                message_id=body["message_id"],
                client_hash=client,
                **values,
            )
            s.add(fb)
        elif fb.student_id != student_id or (student_id is None and fb.client_hash != client):
            s.rollback()
            raise APIError(409, "not_yours", "这条反馈不是从你这里提交的，不能修改。")
        else:
            for k, v in values.items():
                setattr(fb, k, v)
        try:
            s.commit()
            break
        except IntegrityError:  # the same feedback twice at once: the second updates the first
            s.rollback()
    assert fb is not None  # set (found or added) on every pass of the loop
    return {"id": fb.id, "rating": fb.rating, "reason": fb.reason, "answer_key": fb.answer_key}


def add_wechat_feedback(s: Session, body: dict) -> dict:
    import hashlib

    binding = s.get(M.WechatBinding, body["openid"])
    p = Principal("student", binding.student_id, "", None) if binding else None
    conv = "wechat:" + hashlib.sha256(body["openid"].encode()).hexdigest()[:24]
    return add_feedback(
        s, p, {**{k: v for k, v in body.items() if k != "openid"}, "channel": "wechat"}, conversation=conv
    )
