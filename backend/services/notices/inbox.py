"""What the student sees: the widget's notice list, marking read, the WeChat notice setting; the last
inbound WeChat message (the customer-service window)."""

from __future__ import annotations

import logging

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from backend import models as M
from backend.core import clock
from backend.core.db import rowcount
from backend.models import Notice, NoticeSetting, WechatInbound

logger = logging.getLogger("backend.notices")


# --- what the student sees ---------------------------------------------------------------------------------
def view(n: Notice) -> dict:
    return {
        "id": n.id,
        "kind": n.kind,
        "title": n.title,
        "body": n.body,
        "created_at": n.created_at.isoformat() if n.created_at else None,
        "read": n.read_at is not None,
    }


def list_for(s: Session, student_id: str, limit: int = 20) -> dict:
    rows = list(
        s.scalars(
            select(Notice)
            .where(Notice.student_id == student_id)
            .order_by(Notice.read_at.is_not(None), Notice.created_at.desc(), Notice.id.desc())
            .limit(limit)
        )
    )
    unread = (
        s.scalar(select(Notice.id).where(Notice.student_id == student_id, Notice.read_at.is_(None)).limit(1))
        is not None
    )
    return {"notices": [view(n) for n in rows], "has_unread": unread, "wechat": wechat_setting(s, student_id)}


def mark_read(s: Session, student_id: str, ids: list[int]) -> int:
    """Only the student's own notices (the id comes from the token, never from the body)."""
    res = s.execute(
        update(Notice)
        .where(Notice.student_id == student_id, Notice.id.in_(ids), Notice.read_at.is_(None))
        .values(read_at=clock.now())
    )
    s.commit()
    return rowcount(res) or 0


def wechat_setting(s: Session, student_id: str) -> dict:
    row = s.get(NoticeSetting, student_id)
    bound = (
        s.scalar(select(M.WechatBinding.openid).where(M.WechatBinding.student_id == student_id)) is not None
    )
    return {"enabled": True if row is None else row.wechat_enabled, "bound": bound}


def set_wechat(s: Session, student_id: str, enabled: bool) -> dict:
    row = s.get(NoticeSetting, student_id, with_for_update=True)
    if row is None:
        s.add(NoticeSetting(student_id=student_id, wechat_enabled=enabled, updated_at=clock.now()))
    else:
        row.wechat_enabled, row.updated_at = enabled, clock.now()
    s.flush()
    return wechat_setting(s, student_id)


def touch_inbound(s: Session, openid: str) -> None:
    """Record that the openid just wrote to the account (called by the WeChat integration routes)."""
    now = clock.now()
    row = s.get(WechatInbound, openid)
    if row is None:
        s.add(WechatInbound(openid=openid, at=now))
    else:
        row.at = now
