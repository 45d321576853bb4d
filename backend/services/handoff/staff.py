"""The counselors' side of a handoff: the queue and tickets in their scope, take, reply, close; retention."""

from __future__ import annotations

import datetime as dt
import logging

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from backend import models as M
from backend.core import clock
from backend.core.auth import Principal
from backend.core.db import rowcount
from backend.core.errors import APIError, not_found
from backend.services import notice_events
from backend.services.handoff.common import (
    CLOSED,
    TEXT_CLOSED,
    TEXT_TAKEN,
    _ts,
    add_message,
    audit,
    message_view,
    teacher,
)

logger = logging.getLogger("backend.handoff")


# --- staff --------------------------------------------------------------------------------------------------
def _scoped(q, p: Principal):
    if p.role == "counselor":
        return q.where(M.HandoffSession.college_code == p.college_code)
    return q


def _get(s: Session, p: Principal, sid: int, lock: bool = False) -> M.HandoffSession:
    q = _scoped(select(M.HandoffSession).where(M.HandoffSession.id == sid), p)
    if lock:
        q = q.with_for_update()
    h = s.scalar(q.execution_options(populate_existing=True))
    if h is None:  # another college's session looks like no session
        raise not_found("没有这个人工咨询会话，或不属于你负责的学院。")
    return h


VIEWS = {"queue": ("waiting", "active"), "tickets": ("ticket_open",), "closed": CLOSED}


PER_PAGE = 50


def staff_list(s: Session, p: Principal, view: str, page: int = 1, per_page: int = PER_PAGE) -> dict:
    """One page of a view, with the total: nothing is cut off silently. Queue and tickets: signed-in (and
    bound WeChat) students first, then anonymous ones, each oldest first, so no anonymous flood pushes a
    student out of view; closed: newest first."""
    HS = M.HandoffSession
    q = _scoped(select(HS).where(HS.state.in_(VIEWS[view])), p)
    total = s.scalar(select(func.count()).select_from(q.subquery())) or 0
    signed_in = (
        s.scalar(select(func.count()).select_from(q.where(HS.student_id.is_not(None)).subquery())) or 0
    )
    order = (HS.id.desc(),) if view == "closed" else (HS.student_id.is_(None), HS.id)
    rows = list(s.scalars(q.order_by(*order).limit(per_page).offset((page - 1) * per_page)))
    names = _students(s, [h.student_id for h in rows if h.student_id])
    out = []
    for h in rows:
        last = s.scalar(
            select(M.HandoffMessage)
            .where(M.HandoffMessage.session_id == h.id, M.HandoffMessage.sender == "student")
            .order_by(M.HandoffMessage.id.desc())
            .limit(1)
        )
        out.append({**_staff_head(h, names), "last_student_text": last.text[:80] if last else None})
    return {
        "view": view,
        "sessions": out,
        "total": total,
        "signed_in": signed_in,
        "page": page,
        "per_page": per_page,
        "pages": max(1, -(-total // per_page)),
    }


def _students(s: Session, ids: list[str]) -> dict[str, M.Student]:
    if not ids:
        return {}
    return {st.id: st for st in s.scalars(select(M.Student).where(M.Student.id.in_(set(ids))))}


def _staff_head(h: M.HandoffSession, students: dict[str, M.Student]) -> dict:
    st = students.get(h.student_id) if h.student_id else None
    return {
        "id": h.id,
        "kind": h.kind,
        "state": h.state,
        "channel": h.channel,
        "student": {"id": st.id, "name": st.name, "college": st.college.name, "major": st.major}
        if st
        else None,
        "college_code": h.college_code,
        "staff_id": h.staff_id,
        "staff_name": h.staff_name,
        "created_at": _ts(h.created_at),
        "taken_at": _ts(h.taken_at),
        "closed_at": _ts(h.closed_at),
    }


def staff_detail(s: Session, p: Principal, sid: int) -> dict:
    h = _get(s, p, sid)
    msgs = s.scalars(
        select(M.HandoffMessage).where(M.HandoffMessage.session_id == h.id).order_by(M.HandoffMessage.id)
    )
    head = _staff_head(h, _students(s, [h.student_id] if h.student_id else []))
    return {
        **head,
        "transcript": h.transcript or [],
        "messages": [
            {**message_view(m), "staff_id": m.staff_id, "wechat_state": m.wechat_state} for m in msgs
        ],
    }


def take(s: Session, p: Principal, sid: int) -> dict:
    h = _get(s, p, sid)
    # atomic: exactly one staff member's UPDATE matches the waiting row
    res = s.execute(
        update(M.HandoffSession)
        .where(M.HandoffSession.id == h.id, M.HandoffSession.state == "waiting")
        .values(state="active", staff_id=p.id, staff_name=teacher(p.name), taken_at=clock.now())
    )
    if rowcount(res) != 1:
        s.rollback()
        cur = _get(s, p, sid)
        who = f"（{cur.staff_name}已接入）" if cur.state == "active" and cur.staff_name else ""
        raise APIError(
            409,
            "already_taken" if cur.state == "active" else "wrong_state",
            f"这个会话已经不在等待队列中{who}，请刷新列表。",
        )
    h = _get(s, p, sid)
    add_message(s, h, "system", TEXT_TAKEN.format(name=teacher(p.name)))
    audit(s, p.role, p.id, h, "take", {"staff_id": p.id})
    s.commit()
    return staff_detail(s, p, sid)


def reply(s: Session, p: Principal, sid: int, text: str) -> dict:
    h = _get(s, p, sid, lock=True)
    if h.state == "ticket_open":
        return _answer_ticket(s, p, h, text)
    if h.state != "active":
        raise APIError(409, "wrong_state", "这个会话不在进行中：请先接入（等待中）或刷新（已结束）。")
    if h.staff_id != p.id:
        raise APIError(409, "not_holder", f"这个会话由{h.staff_name or '其他老师'}接待，你不能在其中回复。")
    m = add_message(s, h, "staff", text, staff_id=p.id)
    audit(s, p.role, p.id, h, "reply", {"message_id": m.id, "text": text})
    s.commit()
    return staff_detail(s, p, sid)


def _answer_ticket(s: Session, p: Principal, h: M.HandoffSession, text: str) -> dict:
    res = s.execute(
        update(M.HandoffSession)
        .where(M.HandoffSession.id == h.id, M.HandoffSession.state == "ticket_open")
        .values(
            state="answered", staff_id=p.id, staff_name=teacher(p.name), closed_at=clock.now(), closed_by=p.id
        )
    )
    if rowcount(res) != 1:
        s.rollback()
        raise APIError(409, "already_answered", "这条留言已经有老师回复了，请刷新列表。")
    h = _get(s, p, h.id)
    question = (
        s.scalar(
            select(M.HandoffMessage.text)
            .where(M.HandoffMessage.session_id == h.id, M.HandoffMessage.sender == "student")
            .order_by(M.HandoffMessage.id)
            .limit(1)
        )
        or ""
    )
    # a student: a notice (widget at the next visit; WeChat through the notices' delivery when bound);
    # a WeChat conversation without a student: a customer-service message to the OpenID
    m = add_message(
        s, h, "staff", text, staff_id=p.id, to_wechat=h.student_id is None and h.channel == "wechat"
    )
    if h.student_id:
        short = question if len(question) <= 60 else question[:60] + "…"
        notice_events.add(
            s,
            h.student_id,
            f"handoff:{h.id}:answer",
            "handoff",
            "老师回复了你的留言",
            f"你的留言：{short}\n{teacher(p.name)}回复：{text}",
        )
    audit(s, p.role, p.id, h, "ticket_answer", {"message_id": m.id, "text": text})
    s.commit()
    return staff_detail(s, p, h.id)


def close(s: Session, p: Principal, sid: int) -> dict:
    h = _get(s, p, sid, lock=True)
    if h.state not in ("waiting", "active"):
        raise APIError(409, "wrong_state", "这个会话已经结束。")
    if h.state == "active" and h.staff_id != p.id and p.role != "school":
        raise APIError(409, "not_holder", f"这个会话由{h.staff_name or '其他老师'}接待，只有该老师可以结束。")
    before = {"state": h.state}
    h.state, h.open_key, h.closed_at, h.closed_by = "closed", None, clock.now(), p.id
    add_message(s, h, "system", TEXT_CLOSED)
    audit(s, p.role, p.id, h, "close", {"state": "closed"}, before)
    s.commit()
    return staff_detail(s, p, sid)


def counts(s: Session, p: Principal) -> dict[str, int]:
    q = _scoped(
        select(M.HandoffSession.state, func.count()).where(
            M.HandoffSession.state.in_(("waiting", "active", "ticket_open"))
        ),
        p,
    ).group_by(M.HandoffSession.state)
    return {state: n for state, n in s.execute(q)}


# --- retention ---------------------------------------------------------------------------------------------
REDACTED = "（已超过保留期限，内容已删除）"


def purge(s: Session, cutoff: dt.datetime) -> dict:
    """Closed sessions (closed, answered, cancelled) closed before `cutoff` (the turn log's retention,
    services/insights/): their messages and the session (with the chat before the request) are deleted; their
    audit entries stay (who did what, when) with the message text replaced. Held sessions are never touched.
    The caller commits."""
    ids = list(
        s.scalars(
            select(M.HandoffSession.id).where(
                M.HandoffSession.state.in_(CLOSED), M.HandoffSession.closed_at < cutoff
            )
        )
    )
    msgs = 0
    for i in range(0, len(ids), 500):
        chunk = ids[i : i + 500]
        for a in s.scalars(
            select(M.AuditLog).where(
                M.AuditLog.entity == "handoff", M.AuditLog.entity_id.in_([str(x) for x in chunk])
            )
        ):
            if isinstance(a.after, dict) and "text" in a.after:
                a.after = {**a.after, "text": REDACTED}
        msgs += (
            rowcount(s.execute(delete(M.HandoffMessage).where(M.HandoffMessage.session_id.in_(chunk)))) or 0
        )
        s.execute(delete(M.HandoffSession).where(M.HandoffSession.id.in_(chunk)))
    return {"handoff_sessions_deleted": len(ids), "handoff_messages_deleted": msgs}
