"""Notices the calendar causes (synced to the national platform, the first day mailing is possible: found by
`sweep`) and the deadline reminders staff set."""

from __future__ import annotations

import datetime as dt
import logging

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend import models as M
from backend.core import clock
from backend.core.db import SessionLocal, read_session
from backend.models import Deadline, Notice
from backend.services import mailing, records, status
from backend.services.notice_events import add, cn_date

logger = logging.getLogger("backend.notices")


# --- events the calendar causes ----------------------------------------------------------------------------
def due_computed(s: Session) -> list[tuple[str, str, str, str, str]]:
    """(student, event key, kind, title, body) of every sync that happened and every first day mailing is
    possible, as of today."""
    out = []
    both = (
        select(M.Student)
        .join(M.Destination, M.Destination.student_id == M.Student.id)
        .join(M.Archive, M.Archive.student_id == M.Student.id)
        .where(M.Destination.state == "school_approved", M.Archive.state == "school_approved")
    )
    for st in s.scalars(both):
        sync = status.sync_info(st, records.get_destination(s, st.id), records.get_archive(s, st.id))
        if sync["synced"]:
            out.append(
                (
                    st.id,
                    f"sync:{sync['sync_date']}",
                    "synced",
                    "已同步到国家平台",
                    f"你的毕业去向和户档信息已于{cn_date(sync['sync_date'])}同步到国家平台。"
                    "请登录国家平台确认毕业去向信息（信息有误请在学校平台修改）。",
                )
            )
        el = mailing.eligibility(s, st)
        if el["eligible"] and el["eligible_from"]:
            out.append(
                (
                    st.id,
                    f"mailing_open:{el['eligible_from']}",
                    "mailing_open",
                    "可以申请档案邮寄了",
                    f"从{cn_date(el['eligible_from'])}起你可以申请档案邮寄了：在“智能咨询”里说“申请档案邮寄”，"
                    "或在学校平台“档案邮寄申请”里提交。",
                )
            )
    today = clock.today()
    soon = select(Deadline).where(Deadline.due_on >= today, Deadline.due_on <= today + REMIND_BEFORE)
    for d in s.scalars(soon):
        # who it concerns now: a student who finished in the meantime is not reminded
        for sid in concerned(s, d.audience, d.college_code):
            out.append(
                (
                    sid,
                    f"deadline:{d.id}:soon",
                    "deadline",
                    f"即将截止：{d.title}"[:100],
                    f"{d.title}将于{cn_date(d.due_on)}截止，请尽快完成。",
                )
            )
    return out


def sweep() -> int:
    """Write the computed notices not written yet (read first: no write transaction when nothing is new)."""
    with read_session() as r:
        due = due_computed(r)
        have = set(
            r.execute(
                select(Notice.student_id, Notice.event_key).where(
                    Notice.kind.in_(["synced", "mailing_open", "deadline"])
                )
            ).all()
        )
    new = [d for d in due if (d[0], d[1]) not in have]
    if not new:
        return 0
    with SessionLocal() as s:
        made = sum(add(s, *d) for d in new)  # another worker may have written some: the constraint keeps one
        s.commit()
    return made


# --- deadline reminders -------------------------------------------------------------------------------------
REMIND_BEFORE = dt.timedelta(days=3)  # a second reminder this many days before the deadline
AUDIENCES = {
    "destination_open": "毕业去向登记未完成学校审核的学生",
    "archive_open": "户档信息登记未完成学校审核的学生",
    "mailing_not_requested": "还没有申请档案邮寄的学生",
    "all": "全部学生",
}


def concerned(s: Session, audience: str, college_code: str | None) -> list[str]:
    q = select(M.Student.id)
    if college_code:
        q = q.where(M.Student.college_code == college_code)
    if audience == "destination_open":
        done = select(M.Destination.student_id).where(M.Destination.state == "school_approved")
        q = q.where(M.Student.id.not_in(done))
    elif audience == "archive_open":
        done = select(M.Archive.student_id).where(M.Archive.state == "school_approved")
        q = q.where(M.Student.id.not_in(done))
    elif audience == "mailing_not_requested":
        asked = select(M.MailingRequest.student_id).where(M.MailingRequest.active_key.is_not(None))
        q = q.where(M.Student.id.not_in(asked))
    return list(s.scalars(q.order_by(M.Student.id)))


def add_deadline(
    s: Session, actor_id: str, title: str, due_on: dt.date, audience: str, college_code: str | None
) -> dict:
    d = Deadline(
        title=title,
        due_on=due_on,
        audience=audience,
        college_code=college_code,
        created_at=clock.now(),
        created_by=actor_id,
    )
    s.add(d)
    s.flush()
    ids = concerned(s, audience, college_code)
    for sid in ids:
        add(
            s,
            sid,
            f"deadline:{d.id}",
            "deadline",
            f"截止提醒：{title}"[:100],
            f"{title}，截止日期：{cn_date(due_on)}。请在截止日期前完成。",
        )
    return {
        "id": d.id,
        "title": title,
        "due_on": due_on.isoformat(),
        "audience": audience,
        "college_code": college_code,
        "students": len(ids),
    }
