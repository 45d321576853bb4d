"""Notices (issue 15 §1): the student's own (from the token only), WeChat on/off, staff deadline reminders."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query
from pydantic import Field
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from backend import models as M
from backend import services as S
from backend.core import clock
from backend.core.auth import Principal
from backend.core.deps import (
    IntegrationKey,
    SessionDep,
    StaffDep,
    StudentDep,
)
from backend.core.errors import APIError, FieldError, forbidden, invalid, not_found
from backend.schemas.base import BaseIn
from backend.schemas.notices import (
    DeadlineCreatedOut,
    DeadlineDetailOut,
    DeadlinePreviewOut,
    DeadlinesOut,
    MarkedOut,
    MyNoticesOut,
    NoticeSettingOut,
)
from backend.services.notices import inbox, schedule

router = APIRouter(prefix="/api", tags=["notices"])


class ReadIn(BaseIn):
    ids: list[Annotated[int, Field(ge=1, le=2**31 - 1)]] = Field(min_length=1, max_length=200)


class SettingsIn(BaseIn):
    wechat_enabled: bool


class WechatNoticesIn(BaseIn):
    openid: str = Field(min_length=1, max_length=64)
    enabled: bool


class DeadlineIn(BaseIn):
    title: str = Field(min_length=2, max_length=60)
    due_on: dt.date
    audience: Literal["destination_open", "archive_open", "mailing_not_requested", "all"]
    college_code: str | None = Field(default=None, max_length=40)


@router.get("/me/notices", response_model=MyNoticesOut)
def my_notices(p: StudentDep, s: SessionDep) -> dict:
    """Unread first, newest first; `wechat`: whether WeChat notices are on and the account is bound."""
    return inbox.list_for(s, p.id)


@router.post("/me/notices/read")
def mark_read(body: ReadIn, p: StudentDep, s: SessionDep) -> MarkedOut:
    return MarkedOut(marked=inbox.mark_read(s, p.id, body.ids))


@router.put("/me/notices/settings")
def put_settings(body: SettingsIn, p: StudentDep, s: SessionDep) -> NoticeSettingOut:
    S.lock_student(s, p.id)
    before = inbox.wechat_setting(s, p.id)
    out = inbox.set_wechat(s, p.id, body.wechat_enabled)
    S.audit(s, p, p.id, "notices", p.id, "wechat_on" if body.wechat_enabled else "wechat_off", before, out)
    s.commit()
    return NoticeSettingOut(**out)


@router.post("/integration/wechat/notices", tags=["wechat"], dependencies=[IntegrationKey])
def wechat_notices(body: WechatNoticesIn, s: SessionDep) -> NoticeSettingOut:
    """The chat command 关闭通知 / 开启通知 in WeChat (the student from the binding)."""
    b = S.binding(s, body.openid)
    S.lock_student(s, b.student_id)
    before = inbox.wechat_setting(s, b.student_id)
    out = inbox.set_wechat(s, b.student_id, body.enabled)
    inbox.touch_inbound(s, body.openid)
    S.audit(
        s,
        S.SYSTEM,
        b.student_id,
        "notices",
        b.student_id,
        "wechat_on" if body.enabled else "wechat_off",
        before,
        out,
    )
    s.commit()
    return NoticeSettingOut(**out)


AUDIENCE = Literal["destination_open", "archive_open", "mailing_not_requested", "all"]


def _career_center(p: Principal) -> None:
    if p.role != "school":
        raise forbidden("截止提醒由学校就业指导中心设置；学院老师如需提醒学生，请联系学校就业指导中心。")


def _college(s: Session, code: str | None) -> str | None:
    code = (code or "").strip() or None
    if code and s.get(M.College, code) is None:
        raise invalid([FieldError("college_code", "unknown", "没有这个学院代码。")])
    return code


def _students(s: Session, ids: list[str]) -> list[dict]:
    colleges = dict(s.execute(select(M.College.code, M.College.name)).tuples().all())
    rows = (
        s.execute(
            select(M.Student.id, M.Student.name, M.Student.college_code)
            .where(M.Student.id.in_(ids))
            .order_by(M.Student.id)
        ).all()
        if ids
        else []
    )
    return [{"id": i, "name": n, "college_code": c, "college": colleges.get(c, c)} for i, n, c in rows]


@router.get("/staff/notices/deadlines/preview", response_model=DeadlinePreviewOut)
def preview_deadline(
    audience: AUDIENCE,
    p: StaffDep,
    s: SessionDep,
    college_code: str | None = Query(default=None, max_length=40),
) -> dict:
    """Who a deadline with this audience would concern now (career center only), at most 200 listed."""
    _career_center(p)
    ids = schedule.concerned(s, audience, _college(s, college_code))
    return {
        "audience": audience,
        "audience_label": schedule.AUDIENCES[audience],
        "count": len(ids),
        "students": _students(s, ids[:200]),
    }


@router.post("/staff/notices/deadlines", status_code=201, response_model=DeadlineCreatedOut)
def add_deadline(body: DeadlineIn, p: StaffDep, s: SessionDep) -> dict:
    """A deadline reminder to the students it concerns: the career center (school staff) only."""
    _career_center(p)
    college = _college(s, body.college_code)
    if body.due_on < clock.today():
        raise invalid([FieldError("due_on", "date_in_past", "截止日期不能早于今天。")])
    title = " ".join(body.title.split())
    if len(title) < 2:
        raise invalid(
            [FieldError("title", "too_short", "请填写截止事项（至少2个字），例如“毕业去向修改截止”。")]
        )
    if (
        s.get_bind().dialect.name == "postgresql"
    ):  # the check below and the insert, one at a time (SQLite: BEGIN)
        s.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": 0x646561646C6E})
    same = s.scalar(
        select(M.Deadline.id)
        .where(
            M.Deadline.title == title,
            M.Deadline.due_on == body.due_on,
            M.Deadline.audience == body.audience,
            M.Deadline.college_code.is_(None) if college is None else M.Deadline.college_code == college,
        )
        .limit(1)
    )
    if same is not None:  # a second click or a second tab: the students were reminded already
        raise APIError(
            409,
            "duplicate_deadline",
            "已经设置过完全相同的截止提醒（事项、日期、对象和学院都相同），学生已收到提醒，不会重复发送。",
            deadline_id=same,
        )
    out = schedule.add_deadline(s, p.id, title, body.due_on, body.audience, college)
    S.audit(s, p, None, "notice_deadline", out["id"], "create", None, out)
    s.commit()
    return out


def _deadline_view(d: M.Deadline, students: int, colleges: dict) -> dict:
    return {
        "id": d.id,
        "title": d.title,
        "due_on": d.due_on.isoformat(),
        "audience": d.audience,
        "audience_label": schedule.AUDIENCES[d.audience],
        "college_code": d.college_code,
        "college": colleges.get(d.college_code) if d.college_code else None,
        "created_at": d.created_at.isoformat() if d.created_at else None,
        "created_by": d.created_by,
        "students": students,
    }


@router.get("/staff/notices/deadlines", response_model=DeadlinesOut)
def list_deadlines(p: StaffDep, s: SessionDep) -> dict:
    """Newest first (100); counselors see the ones of their college. `audiences` and `colleges` for the
    form."""
    q = select(M.Deadline).order_by(M.Deadline.id.desc()).limit(100)
    if p.role == "counselor":
        q = q.where(M.Deadline.college_code == p.college_code)
    deadlines = list(s.scalars(q))
    keys = [f"deadline:{d.id}" for d in deadlines]
    counts = (
        dict(
            s.execute(
                select(M.Notice.event_key, func.count())
                .where(M.Notice.event_key.in_(keys))
                .group_by(M.Notice.event_key)
            )
            .tuples()
            .all()
        )
        if keys
        else {}
    )
    colleges = dict(s.execute(select(M.College.code, M.College.name).order_by(M.College.code)).tuples().all())
    return {
        "deadlines": [_deadline_view(d, counts.get(f"deadline:{d.id}", 0), colleges) for d in deadlines],
        "audiences": schedule.AUDIENCES,
        "colleges": [{"code": c, "name": n} for c, n in colleges.items()],
        "can_create": p.role == "school",
        "remind_days_before": schedule.REMIND_BEFORE.days,
    }


@router.get("/staff/notices/deadlines/{deadline_id}", response_model=DeadlineDetailOut)
def deadline_detail(p: StaffDep, s: SessionDep, deadline_id: int = Path(ge=1, le=2**31 - 1)) -> dict:
    """The deadline and the students its reminder went to (read in the widget or not, WeChat delivery)."""
    d = s.get(M.Deadline, deadline_id)
    if d is None or (p.role == "counselor" and d.college_code != p.college_code):
        raise not_found("没有这个截止提醒。")
    notes = {
        n.student_id: n for n in s.scalars(select(M.Notice).where(M.Notice.event_key == f"deadline:{d.id}"))
    }
    colleges = dict(s.execute(select(M.College.code, M.College.name)).tuples().all())
    students = _students(s, list(notes))
    for st in students:
        n = notes[st["id"]]
        st.update(read=n.read_at is not None, wechat=n.wechat_state)
    return {**_deadline_view(d, len(students), colleges), "recipients": students}
