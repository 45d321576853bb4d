"""档案邮寄申请: eligibility, one active request per student, ship / deliver by staff, cancel by the
student."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from backend import models as M
from backend import workdays
from backend.core import clock
from backend.core.auth import Principal
from backend.core.errors import APIError, invalid, not_found, wrong_state
from backend.schemas import MailingCreatedOut, MailingOut, MailingPage, MyMailingOut
from backend.services import notice_events as notices
from backend.services.changes import open_changes
from backend.services.common import audit, check_scope, lock_student, page
from backend.services.records import get_archive
from backend.validators import check_ems
from contracts import vocabulary as V

MS, R = V.MailingState, V.MailingReason


def active_mailing(s: Session, student_id: str) -> M.MailingRequest | None:
    return s.scalar(select(M.MailingRequest).where(M.MailingRequest.active_key == student_id))


def eligibility(s: Session, st: M.Student) -> dict:
    arch = get_archive(s, st.id)
    eligible_from = None
    estimated = False
    if st.national_confirmed_on and not st.needs_reconfirm:
        efrom, estimated = workdays.next_workday_info(st.national_confirmed_on)
        eligible_from = efrom.isoformat()
    reason = None
    if active_mailing(s, st.id):
        reason = R.already_requested
    elif not arch or arch.state != V.RecordState.school_approved:
        reason = R.archive_not_approved
    elif st.national_confirmed_on is None:
        reason = R.not_confirmed
    elif st.needs_reconfirm:
        reason = R.needs_reconfirm
    elif open_changes(s, st.id):
        reason = R.change_pending
    elif eligible_from is not None and clock.today() < dt.date.fromisoformat(eligible_from):
        reason = R.too_early
    return {
        "eligible": reason is None,
        "eligible_from": eligible_from,
        "reason": reason,
        "reason_message": V.mailing_reason_message(reason, eligible_from),
        "estimated": estimated,
    }


def archive_details(st: M.Student, arch: M.Archive | None) -> dict | None:
    if not arch or not arch.data:
        return None
    d = dict(arch.data)
    return {
        "student_name": st.name,
        "student_id": st.id,
        **{k: d.get(k) for k in V.ARCHIVE_FIELDS},
        "hukou_choice_label": V.HUKOU_CHOICES.get(d.get("hukou_choice") or ""),
        "labels": V.ARCHIVE_FIELDS,
    }


def mailing_out(m: M.MailingRequest | None) -> MailingOut | None:
    return MailingOut.model_validate(m) if m else None


def my_mailing(s: Session, st: M.Student) -> MyMailingOut:
    return MyMailingOut(
        request=mailing_out(active_mailing(s, st.id)),
        eligibility=eligibility(s, st),
        archive=archive_details(st, get_archive(s, st.id)),
    )


def create_mailing(s: Session, p: Principal, idem_key: str | None) -> tuple[int, MailingCreatedOut]:
    st = lock_student(s, p.id)
    existing = active_mailing(s, st.id)
    if existing:
        return 200, MailingCreatedOut(already_submitted=True, request=mailing_out(existing))
    el = eligibility(s, st)
    if el["reason"] == R.already_requested:  # another request committed in between
        return 200, MailingCreatedOut(already_submitted=True, request=mailing_out(active_mailing(s, st.id)))
    if not el["eligible"]:
        raise APIError(
            409, "not_eligible", el["reason_message"], reason=el["reason"], eligible_from=el["eligible_from"]
        )
    m = M.MailingRequest(
        student_id=st.id,
        active_key=st.id,
        idempotency_key=(idem_key or None),
        state=MS.submitted.value,
        archive_snapshot=archive_details(st, get_archive(s, st.id)) or {},
        created_at=clock.now(),
    )
    s.add(m)
    try:
        s.flush()
        audit(s, p, st.id, "mailing", m.id, "create", None, mailing_out(m))
        s.commit()
    except IntegrityError:
        s.rollback()
        existing = active_mailing(s, st.id)
        if existing is None:  # pragma: no cover - would mean the constraint fired for another reason
            raise
        return 200, MailingCreatedOut(already_submitted=True, request=mailing_out(existing))
    return 201, MailingCreatedOut(already_submitted=False, request=mailing_out(m))


def cancel_mailing(s: Session, p: Principal) -> MailingOut:
    """The student withdraws a request that has not been shipped yet (races with ship: one of them wins)."""
    st = lock_student(s, p.id)
    m = active_mailing(s, st.id)
    if m is None:
        last = s.scalar(
            select(M.MailingRequest)
            .where(M.MailingRequest.student_id == st.id)
            .order_by(M.MailingRequest.id.desc())
            .limit(1)
        )
        if last is not None and last.state == MS.cancelled:
            raise wrong_state("您的档案邮寄申请已取消，无需重复取消。")
        raise not_found("您没有可以取消的档案邮寄申请。")
    if m.state != MS.submitted:
        raise wrong_state(
            f"档案{V.MAILING_STATE_LABELS[m.state]}，不能取消申请；如有问题请联系学院就业工作负责老师。"
        )
    return _move(s, p, m, "cancel", None, state=MS.cancelled.value, active_key=None, cancelled_at=clock.now())


def _move(
    s: Session, p: Principal, m: M.MailingRequest, action: str, notify: Callable | None, **values: Any
) -> MailingOut:
    """One transition of a request: its new values, the audit row and the student's notice, one
    transaction."""
    before = mailing_out(m)
    for k, v in values.items():
        setattr(m, k, v)
    audit(s, p, m.student_id, "mailing", m.id, action, before, mailing_out(m))
    if notify:
        notify(s, m)
    s.commit()
    return MailingOut.model_validate(m)


def _mailing_for_staff(s: Session, p: Principal, mid: int) -> M.MailingRequest:
    sid = s.scalar(select(M.MailingRequest.student_id).where(M.MailingRequest.id == mid))
    if not sid:
        raise not_found("没有这条档案邮寄申请。")
    check_scope(p, lock_student(s, sid), "没有这条档案邮寄申请。")
    return s.get_one(M.MailingRequest, mid, populate_existing=True)  # its student_id was just read


def ship_mailing(s: Session, p: Principal, mid: int, ems_no: str) -> MailingOut:
    m = _mailing_for_staff(s, p, mid)
    errs = check_ems(ems_no)
    if errs:
        raise invalid(errs)
    if m.state != MS.submitted:
        raise wrong_state(f"该申请当前状态为“{V.MAILING_STATE_LABELS[m.state]}”，只有已提交的申请可以寄出。")
    return _move(
        s,
        p,
        m,
        "ship",
        notices.on_shipped,
        state=MS.shipped.value,
        ems_no=ems_no.strip().upper(),
        shipped_at=clock.now(),
    )


def deliver_mailing(s: Session, p: Principal, mid: int) -> MailingOut:
    m = _mailing_for_staff(s, p, mid)
    if m.state != MS.shipped:
        raise wrong_state(
            f"该申请当前状态为“{V.MAILING_STATE_LABELS[m.state]}”，只有已寄出的申请可以标记送达。"
        )
    return _move(s, p, m, "deliver", notices.on_delivered, state=MS.delivered.value, delivered_at=clock.now())


def list_mailing(s: Session, p: Principal, state: str | None, limit: int, offset: int) -> MailingPage:
    q = select(M.MailingRequest).join(M.Student, M.MailingRequest.student_id == M.Student.id)
    if p.role == V.Role.counselor:
        q = q.where(M.Student.college_code == p.college_code)
    if state:
        q = q.where(M.MailingRequest.state == state)
    total, rows = page(s, q, M.MailingRequest.id, limit, offset)
    return MailingPage(total=total, limit=limit, offset=offset, items=[mailing_out(m) for m in rows])
