"""Writing a notice (`add`) and the notices written when a student's case moves (a review decision, the
national confirmation, the archive shipped or delivered): in the same transaction as the change; one per
(student, event key). Below the services that change a case (status, mailing, review, handoff) and the
notices package (its calendar sweep and deadlines write through `add`), so none of them imports upward."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from backend import models as M
from backend.core import clock
from backend.core.db import rowcount
from backend.models import Notice
from contracts import vocabulary as V

logger = logging.getLogger("backend.notices")


# --- writing notices ---------------------------------------------------------------------------------------
def _insert(s: Session):
    name = s.get_bind().dialect.name
    return (postgresql.insert if name == "postgresql" else sqlite.insert)(Notice)


def add(s: Session, student_id: str, event_key: str, kind: str, title: str, body: str) -> bool:
    """Write a notice in the caller's transaction; False when this event was noticed already."""
    stmt = _insert(s).values(
        student_id=student_id,
        event_key=event_key[:120],
        kind=kind,
        title=title[:100],
        body=body,
        created_at=clock.now(),
        wechat_state="pending",
        wechat_attempts=0,
    )
    res = s.execute(stmt.on_conflict_do_nothing(index_elements=["student_id", "event_key"]))
    return bool(rowcount(res))


def cn_date(d: dt.date | str | None) -> str:
    if not d:
        return ""
    if isinstance(d, str):
        d = dt.date.fromisoformat(d)
    return f"{d.year}年{d.month}月{d.day}日"


def on_review(s: Session, kind: str, rec: Any) -> None:
    """A counselor's or the school's decision on a record or change request (called before the commit)."""
    name = V.CHANGE_KINDS.get(rec.kind, "变更申请") if kind == "change" else V.RECORD_NAMES.get(kind, kind)
    state = rec.state
    who = "学院" if state.startswith("college") else "学校"
    if state.endswith("approved"):
        title = f"{name}：{who}审核通过"
        body = (
            f"你的{name}已通过{who}审核，等待学校审核。"
            if who == "学院"
            else f"你的{name}已通过学校审核。" + ("修改已生效。" if kind == "change" else "")
        )
    else:
        title = f"{name}：{who}审核未通过"
        body = (
            f"你的{name}未通过{who}审核，原因：{rec.rejection_reason or '未注明'}。"
            f"请按原因在学校平台修改后再次提交。"
        )
    add(s, rec.student_id, f"review:{kind}:{rec.id}:{rec.version}:{state}", "review", title, body)


def on_national_confirmed(s: Session, st: M.Student, eligible_from: str | None) -> None:
    extra = f"确认一个工作日后（{cn_date(eligible_from)}起）可以申请档案邮寄。" if eligible_from else ""
    add(
        s,
        st.id,
        f"national:{st.national_confirmed_on}",
        "national",
        "国家平台确认已记录",
        f"已记录你于{cn_date(st.national_confirmed_on)}在国家平台确认毕业去向。{extra}",
    )


def on_shipped(s: Session, m: M.MailingRequest) -> None:
    add(
        s,
        m.student_id,
        f"mailing:{m.id}:shipped",
        "shipped",
        "档案已寄出",
        f"你的档案已寄出，EMS单号 {m.ems_no}，可在中国邮政EMS官网查询物流。",
    )


def on_delivered(s: Session, m: M.MailingRequest) -> None:
    add(
        s,
        m.student_id,
        f"mailing:{m.id}:delivered",
        "delivered",
        "档案已送达",
        f"你的档案已送达（EMS单号 {m.ems_no}）。如有疑问请联系学院就业工作负责老师。",
    )
