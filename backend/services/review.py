"""Staff: the two-level review (counselor, then school), listings in scope, the audit log, credit-code
override."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend import models as M
from backend.core import clock
from backend.core.auth import Principal
from backend.core.errors import APIError, forbidden, invalid, not_found, wrong_state
from backend.schemas import (
    AuditOut,
    AuditPage,
    CreditOverrideOut,
    RecordsPage,
    StaffArchiveOut,
    StaffChangeOut,
    StaffDestinationOut,
    ts,
)
from backend.services import notice_events as notices
from backend.services.changes import apply_change
from backend.services.common import audit, check_scope, get_student, lock_student, page
from backend.validators import FieldError, check_credit_code
from contracts import vocabulary as V

RK, RS = V.RecordKind, V.RecordState
KIND_MODELS: dict[str, type[M.Destination] | type[M.Archive] | type[M.ChangeRequest]] = {
    RK.destination: M.Destination,
    RK.archive: M.Archive,
    RK.change: M.ChangeRequest,
}
STAFF_OUT: dict[str, type[StaffDestinationOut] | type[StaffArchiveOut] | type[StaffChangeOut]] = {
    RK.destination: StaffDestinationOut,
    RK.archive: StaffArchiveOut,
    RK.change: StaffChangeOut,
}
KIND_MSG = "记录类型应为 destination、archive 或 change。"
STALE_MSG = "记录已更新，请刷新后再审核"


def _view(kind: str, rec: Any) -> StaffDestinationOut | StaffArchiveOut | StaffChangeOut:
    return STAFF_OUT[kind].of(rec)


def _model(kind: str) -> Any:
    model = KIND_MODELS.get(kind)
    if model is None:
        raise not_found(KIND_MSG)
    return model


def staff_record(
    s: Session, p: Principal, kind: str, rid: int
) -> StaffDestinationOut | StaffArchiveOut | StaffChangeOut:
    """One record as a reviewer opens it; its `version` goes back with the review."""
    rec = s.get(_model(kind), rid)
    if rec is None:
        raise not_found()
    check_scope(p, rec.student)
    return _view(kind, rec)


def review(
    s: Session, p: Principal, kind: str, rid: int, approve: bool, reason: str | None, version: int
) -> StaffDestinationOut | StaffArchiveOut | StaffChangeOut:
    model = _model(kind)
    sid = s.scalar(select(model.student_id).where(model.id == rid))
    if sid is None:
        raise not_found()
    check_scope(p, lock_student(s, sid))  # then read the record as the last writer left it
    rec = s.get_one(model, rid, populate_existing=True)  # its student_id was just read
    college = p.role == V.Role.counselor
    expected = RS.submitted if college else RS.college_approved
    if rec.state != expected:
        who = "学院（辅导员）" if college else "学校"
        raise wrong_state(
            f"该记录当前状态为“{V.STATE_LABELS.get(rec.state, rec.state)}”，"
            f"{who}只能审核状态为“{V.STATE_LABELS[expected]}”的记录。"
        )
    if rec.version != version:
        raise APIError(409, "stale_version", STALE_MSG, version=rec.version)
    if not approve and not (reason or "").strip():
        raise invalid(
            [FieldError("reason", "required", "审核不通过时请填写原因，学生将按原因修改后再次提交。")]
        )
    before = _view(kind, rec)
    now = clock.now()
    if college:
        rec.college_reviewed_at, rec.college_reviewer = now, p.id
        rec.state = (RS.college_approved if approve else RS.college_rejected).value
    else:
        rec.school_reviewed_at, rec.school_reviewer = now, p.id
        rec.state = (RS.school_approved if approve else RS.school_rejected).value
    rec.rejection_reason = None if approve else (reason or "").strip()  # required above when rejecting
    rec.updated_at = now
    if kind == RK.change and rec.state in V.DECIDED_CHANGE:
        rec.open_key = None
    if rec.state == RS.school_approved:
        rec.approved_on = clock.today()
        if kind == RK.change:
            apply_change(s, p, rec)
    audit(
        s,
        p,
        rec.student_id,
        "change_request" if kind == RK.change else kind,
        rec.id,
        "approve" if approve else "reject",
        before,
        _view(kind, rec),
    )
    notices.on_review(s, kind, rec)  # same transaction
    s.commit()
    return _view(kind, rec)


def list_records(
    s: Session, p: Principal, kind: str, state: str | None, college: str | None, limit: int, offset: int
) -> RecordsPage:
    model = KIND_MODELS.get(kind)
    if model is None:
        raise invalid([FieldError("kind", "invalid_choice", KIND_MSG)])
    q = select(model).join(M.Student, model.student_id == M.Student.id).join(M.College)
    if p.role == V.Role.counselor:
        if (
            college
            and college != p.college_code
            and not s.scalar(
                select(M.College).where(M.College.code == p.college_code, M.College.name == college)
            )
        ):
            raise not_found(
                "没有这个学院，或不是你负责的学院。"
            )  # 404 like an unknown college: not enumerable
        q = q.where(M.Student.college_code == p.college_code)
    elif college:
        q = q.where((M.College.code == college) | (M.College.name == college))
    if state:
        q = q.where(model.state == state)
    total, rows = page(s, q, model.id, limit, offset)
    return RecordsPage(total=total, limit=limit, offset=offset, items=[_view(kind, r) for r in rows])


def audit_entries(s: Session, p: Principal, student_id: str | None, limit: int, offset: int) -> AuditPage:
    q = select(M.AuditLog)
    if student_id:
        check_scope(p, get_student(s, student_id), "没有这名学生。")
        q = q.where(M.AuditLog.student_id == student_id)
    elif p.role == V.Role.counselor:
        q = q.join(M.Student, M.AuditLog.student_id == M.Student.id).where(
            M.Student.college_code == p.college_code
        )
    total, rows = page(s, q, M.AuditLog.id, limit, offset)
    return AuditPage(
        total=total,
        items=[
            AuditOut.model_validate({**{k: getattr(a, k) for k in AuditOut.model_fields}, "at": ts(a.at)})
            for a in rows
        ],
    )


def set_credit_override(s: Session, p: Principal, student_id: str, code: str) -> CreditOverrideOut:
    if p.role != V.Role.school:
        raise forbidden("只有学校就业工作老师可以人工放行统一社会信用代码。")
    st = get_student(s, student_id)
    code = (code or "").strip().upper()
    errs = list(check_credit_code(code, "credit_code", allow_checksum_override=True))
    if errs:
        raise invalid(errs)
    before = {"credit_code_override": st.credit_code_override}
    st.credit_code_override = code
    audit(s, p, st.id, "student", st.id, "credit_code_override", before, {"credit_code_override": code})
    s.commit()
    return CreditOverrideOut(student_id=st.id, credit_code_override=code)
