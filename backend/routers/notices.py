"""Notices (issue 15 §1): the student's own (from the token only), WeChat on/off, staff deadline reminders."""
from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import clock
from .. import models as M
from .. import notices as N
from .. import services as S
from ..auth import Principal, current_staff, current_student, integration_key
from ..db import get_session
from ..errors import FieldError, forbidden, invalid

router = APIRouter(prefix="/api", tags=["notices"])


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ReadIn(_In):
    ids: list[Annotated[int, Field(ge=1, le=2**31 - 1)]] = Field(min_length=1, max_length=200)


class SettingsIn(_In):
    wechat_enabled: bool


class WechatNoticesIn(_In):
    openid: str = Field(min_length=1, max_length=64)
    enabled: bool


class DeadlineIn(_In):
    title: str = Field(min_length=2, max_length=60)
    due_on: dt.date
    audience: Literal["destination_open", "archive_open", "mailing_not_requested", "all"]
    college_code: str | None = Field(default=None, max_length=40)


@router.get("/me/notices")
def my_notices(p: Principal = Depends(current_student), s: Session = Depends(get_session)) -> dict:
    """Unread first, newest first; `wechat`: whether WeChat notices are on and the account is bound."""
    return N.list_for(s, p.id)


@router.post("/me/notices/read")
def mark_read(body: ReadIn, p: Principal = Depends(current_student), s: Session = Depends(get_session)) -> dict:
    return {"marked": N.mark_read(s, p.id, body.ids)}


@router.put("/me/notices/settings")
def put_settings(body: SettingsIn, p: Principal = Depends(current_student),
                 s: Session = Depends(get_session)) -> dict:
    S.lock_student(s, p.id)
    before = N.wechat_setting(s, p.id)
    out = N.set_wechat(s, p.id, body.wechat_enabled)
    S.audit(s, p, p.id, "notices", p.id, "wechat_on" if body.wechat_enabled else "wechat_off", before, out)
    s.commit()
    return out


@router.post("/integration/wechat/notices", tags=["wechat"], dependencies=[Depends(integration_key)])
def wechat_notices(body: WechatNoticesIn, s: Session = Depends(get_session)) -> dict:
    """The chat command 关闭通知 / 开启通知 in WeChat (the student from the binding)."""
    b = S.binding(s, body.openid)
    S.lock_student(s, b.student_id)
    before = N.wechat_setting(s, b.student_id)
    out = N.set_wechat(s, b.student_id, body.enabled)
    N.touch_inbound(s, body.openid)
    S.audit(s, S.SYSTEM, b.student_id, "notices", b.student_id, "wechat_on" if body.enabled else "wechat_off",
            before, out)
    s.commit()
    return out


@router.post("/staff/notices/deadlines", status_code=201)
def add_deadline(body: DeadlineIn, p: Principal = Depends(current_staff), s: Session = Depends(get_session)) -> dict:
    """A deadline reminder to the students it concerns: counselors for their own college only."""
    college = body.college_code
    if p.role == "counselor":
        if college and college != p.college_code:
            raise forbidden("辅导员只能给本学院学生发送截止提醒。")
        college = p.college_code
    elif college and s.get(M.College, college) is None:
        raise invalid([FieldError("college_code", "unknown", "没有这个学院代码。")])
    if body.due_on < clock.today():
        raise invalid([FieldError("due_on", "date_in_past", "截止日期不能早于今天。")])
    title = " ".join(body.title.split())
    if len(title) < 2:
        raise invalid([FieldError("title", "too_short", "请填写截止事项（至少2个字），例如“毕业去向修改截止”。")])
    out = N.add_deadline(s, p.id, title, body.due_on, body.audience, college)
    S.audit(s, p, None, "notice_deadline", out["id"], "create", None, out)
    s.commit()
    return out


@router.get("/staff/notices/deadlines")
def list_deadlines(p: Principal = Depends(current_staff), s: Session = Depends(get_session)) -> dict:
    q = select(N.Deadline).order_by(N.Deadline.id.desc()).limit(100)
    if p.role == "counselor":
        q = q.where(N.Deadline.college_code == p.college_code)
    return {"deadlines": [{"id": d.id, "title": d.title, "due_on": d.due_on.isoformat(), "audience": d.audience,
                           "audience_label": N.AUDIENCES[d.audience], "college_code": d.college_code}
                          for d in s.scalars(q)]}
