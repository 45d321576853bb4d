"""A queued conversation nobody took within HANDOFF_WAIT_MINUTES: at the student's next message
(conversation.`_timed_out`) or by the backend's sweep (`sweep`, services/handoff/delivery.py runs it), it
becomes a ticket or is closed."""

from __future__ import annotations

import logging

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from backend import models as M
from backend.core import clock
from backend.core.db import rowcount
from backend.services.handoff.common import (
    TEXT_TIMEOUT_ANON,
    TEXT_TIMEOUT_CLOSED,
    TEXT_TIMEOUT_TICKET,
    TEXT_TIMEOUT_WECHAT,
    add_message,
    audit,
    wait_limit,
)

logger = logging.getLogger("backend.handoff")


SWEEP_ACTOR = ("system", "handoff-sweep")  # who the audit log names for a timeout found by the sweep


def _overdue(h: M.HandoffSession) -> bool:
    return h.state == "waiting" and clock.now() - clock.aware(h.created_at) > wait_limit()


def _time_out(s: Session, h: M.HandoffSession, actor: tuple[str, str], swept: bool) -> str | None:
    """Nobody took the queued conversation in time (the one transition for both paths: the student's next
    message, `inbound`, and the backend's periodic `sweep`). A student's (signed-in or WeChat) conversation in
    which they wrote something while queued becomes a ticket (answered later, like one left outside office
    hours); otherwise it is closed. Each step is one conditional UPDATE on state = 'waiting': a counselor's
    take (or any other transition) committed first wins and nothing changes here (None, rolled back); the
    first UPDATE also takes SQLite's write lock, so no student message can slip in between the two. Commits;
    returns the new state. The closed case always leaves a system message (the widget polls while queued and
    shows it); the sweep also leaves one for a ticket (the student is not writing, so no note goes with a bot
    answer), and in a WeChat conversation the sweep's message goes out as a customer-service message (a reply
    to the student's request, inside the 48-hour window; services/handoff/delivery.py)."""
    HS, HM = M.HandoffSession, M.HandoffMessage
    said = select(HM.id).where(HM.session_id == HS.id, HM.sender == "student").exists()
    res = s.execute(
        update(HS)
        .where(
            HS.id == h.id,
            HS.state == "waiting",
            said,
            (HS.student_id.is_not(None)) | (HS.channel == "wechat"),
        )
        .values(state="ticket_open", open_key=None)
        .execution_options(synchronize_session=False)
    )
    state = "ticket_open"
    if rowcount(res) != 1:
        res = s.execute(
            update(HS)
            .where(HS.id == h.id, HS.state == "waiting")
            .values(state="closed", open_key=None, closed_at=clock.now(), closed_by="timeout")
            .execution_options(synchronize_session=False)
        )
        state = "closed"
    if rowcount(res) != 1:  # taken (or closed, or timed out by another process) just before
        s.rollback()
        return None
    h = s.get_one(HS, h.id, populate_existing=True)
    wechat_anon = h.channel == "wechat" and not h.student_id
    if state == "ticket_open":
        if swept:
            add_message(s, h, "system", TEXT_TIMEOUT_WECHAT if wechat_anon else TEXT_TIMEOUT_TICKET)
        audit(s, *actor, h, "timeout_ticket", {"state": "ticket_open", "by": "sweep" if swept else "message"})
    else:
        add_message(
            s,
            h,
            "system",
            TEXT_TIMEOUT_ANON if not (h.student_id or h.channel == "wechat") else TEXT_TIMEOUT_CLOSED,
            to_wechat=None if swept else False,
        )
        audit(s, *actor, h, "timeout_close", {"state": "closed", "by": "sweep" if swept else "message"})
    s.commit()
    return state


SWEEP_BATCH = 200


def sweep(s: Session) -> int:
    """Time out every conversation waiting longer than the wait limit, without waiting for the student's next
    message (run periodically by each backend process, services/handoff/delivery.py). Each session is locked
    (PostgreSQL) and transitioned by `_time_out`, so processes sweeping at once, a counselor's take and the
    student's own message never transition it twice. Returns how many were timed out."""
    cutoff = clock.now() - wait_limit()
    ids = list(
        s.scalars(
            select(M.HandoffSession.id)
            .where(M.HandoffSession.state == "waiting", M.HandoffSession.created_at < cutoff)
            .order_by(M.HandoffSession.id)
            .limit(SWEEP_BATCH)
        )
    )
    s.rollback()
    done = 0
    for sid in ids:
        h = s.scalar(
            select(M.HandoffSession)
            .where(M.HandoffSession.id == sid)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        if h is None or not _overdue(h):
            s.rollback()
            continue
        if _time_out(s, h, SWEEP_ACTOR, swept=True) is not None:
            done += 1
    return done
