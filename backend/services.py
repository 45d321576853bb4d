"""Business rules: record states, reviews, sync, national confirmation, change paths, mailing, audit."""
from __future__ import annotations

import datetime as dt
import re
import secrets
from typing import Any

from sqlalchemy import delete, func, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from . import vocabulary as V
from . import clock, workdays
from . import models as M
from . import notices
from .auth import Principal
from .errors import APIError, forbidden, invalid, not_found, wrong_state
from .validators import (FieldError, check_ems, validate_archive, validate_destination, validate_profile)

SYSTEM = Principal("system", "system", "系统", None)


# --- serialisation helpers ---------------------------------------------------------------------
def ts(value: dt.datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=clock.TZ)
    return value.astimezone(clock.TZ).isoformat(timespec="seconds")


def ds(value: dt.date | None) -> str | None:
    return value.isoformat() if value else None


def _jsonable(v: Any) -> Any:
    if isinstance(v, dt.datetime):
        return ts(v)
    if isinstance(v, dt.date):
        return v.isoformat()
    if isinstance(v, dict):
        return {k: _jsonable(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_jsonable(x) for x in v]
    return v


def audit(s: Session, actor: Principal, student_id: str | None, entity: str, entity_id: Any, action: str,
          before: dict | None, after: dict | None) -> None:
    s.add(M.AuditLog(at=clock.now(), actor_role=actor.role, actor_id=actor.id, student_id=student_id,
                     entity=entity, entity_id=str(entity_id), action=action,
                     before=_jsonable(before), after=_jsonable(after)))


def student_ctx(st: M.Student) -> dict:
    d = {k: getattr(st, k) for k in V.PERSONAL_FIELDS}
    d.update(name=st.name, home_address=st.home_address, id=st.id)
    return d


def personal_of(st: M.Student) -> dict:
    return {k: getattr(st, k) for k in V.PERSONAL_FIELDS}


def profile_view(st: M.Student) -> dict:
    roster = {
        "id": st.id, "name": st.name, "exam_no": st.exam_no, "gender": st.gender, "college": st.college.name,
        "college_code": st.college_code, "major": st.major, "degree": st.degree, "level": st.level,
        "graduation_date": ds(st.graduation_date), "ethnicity": st.ethnicity, "id_number": st.id_number,
        "birth_date": ds(st.birth_date), "schooling_years": st.schooling_years, "enrolled_on": st.enrolled_on,
        "training_mode": st.training_mode, "home_address": st.home_address,
    }
    return {"roster": roster, "personal": personal_of(st), "labels": {**V.ROSTER_FIELDS, **V.PERSONAL_FIELDS},
            "missing": [k for k, v in personal_of(st).items() if not v], "updated_at": ts(st.profile_updated_at),
            "locked": profile_locked_reason(st) is not None}


def _record_base(rec: Any | None) -> dict:
    state = rec.state if rec else "not_started"
    return {
        "id": rec.id if rec else None, "state": state, "step": V.STATE_STEPS[state],
        "state_label": V.STATE_LABELS[state], "rejection_reason": rec.rejection_reason if rec else None,
        "submitted_at": ts(rec.submitted_at) if rec else None,
        "college_reviewed_at": ts(rec.college_reviewed_at) if rec else None,
        "school_reviewed_at": ts(rec.school_reviewed_at) if rec else None,
        "approved_on": ds(rec.approved_on) if rec else None, "updated_at": ts(rec.updated_at) if rec else None,
        "version": rec.version if rec else None,
    }


def destination_view(rec: M.Destination | None) -> dict:
    d = _record_base(rec)
    t = rec.destination_type if rec else None
    d.update(destination_type=t, destination_type_label=V.DESTINATION_TYPES.get(t or ""),
             unit=(rec.unit if rec else None), unit_required=(t in V.UNIT_TYPES) if t else None)
    return d


def archive_view(rec: M.Archive | None) -> dict:
    d = _record_base(rec)
    data = dict(rec.data or {}) if rec else {}
    for k in V.ARCHIVE_FIELDS:
        d[k] = data.get(k)
    d["hukou_choice_label"] = V.HUKOU_CHOICES.get(data.get("hukou_choice") or "")
    d["evidence_needed"] = V.ARCHIVE_TYPES.get(data.get("transfer_type") or "", {}).get("evidence")
    return d


def summary(d: dict) -> dict:
    return {k: d[k] for k in ("state", "step", "state_label", "rejection_reason")}


# --- loading ---------------------------------------------------------------------------------------
def get_student(s: Session, student_id: str) -> M.Student:
    st = s.get(M.Student, student_id)
    if not st:
        raise not_found("没有这名学生。")
    return st


def lock_student(s: Session, student_id: str) -> M.Student:
    """The student's row, locked for the rest of the transaction (SELECT ... FOR UPDATE OF students on PostgreSQL;
    SQLite's BEGIN IMMEDIATE already serialises writers). Every change to a student's records, by the student or
    by staff, takes this lock first, so transitions on one student's records run one at a time and each sees the
    state the previous one committed (and lock order is always student, then record: no deadlocks)."""
    st = s.scalar(select(M.Student).where(M.Student.id == student_id).with_for_update(of=M.Student)
                  .execution_options(populate_existing=True))
    if not st:
        raise not_found("没有这名学生。")
    return st


def get_destination(s: Session, student_id: str) -> M.Destination | None:
    return s.scalar(select(M.Destination).where(M.Destination.student_id == student_id))


def get_archive(s: Session, student_id: str) -> M.Archive | None:
    return s.scalar(select(M.Archive).where(M.Archive.student_id == student_id))


def active_mailing(s: Session, student_id: str) -> M.MailingRequest | None:
    return s.scalar(select(M.MailingRequest).where(M.MailingRequest.active_key == student_id))


def open_changes(s: Session, student_id: str) -> list[M.ChangeRequest]:
    return list(s.scalars(select(M.ChangeRequest).where(M.ChangeRequest.student_id == student_id,
                                                          M.ChangeRequest.state.in_(V.OPEN_CHANGE))
                          .order_by(M.ChangeRequest.id)))


# --- profile (个人信息完善) --------------------------------------------------------------------------
def profile_locked_reason(st: M.Student, dest: M.Destination | None = None) -> str | None:
    if dest is None:
        from sqlalchemy.orm import object_session
        sess = object_session(st)
        dest = get_destination(sess, st.id) if sess else None
    if dest and dest.state == "school_approved":
        return ("您的毕业去向已经学校审核通过，个人信息已用于国家平台同步。如需修改，请提交“个人信息完善”变更申请"
                "（POST /api/me/change-requests，kind=personal_info），经院校两级审核后生效。")
    return None


def put_profile(s: Session, p: Principal, data: dict) -> dict:
    st = lock_student(s, p.id)
    reason = profile_locked_reason(st)
    if reason:
        raise wrong_state(reason, right_path="personal_info")
    # PATCH semantics: a field left out keeps its stored value, a field sent as null is cleared
    data = {**personal_of(st), **{k: v for k, v in data.items() if k in V.PERSONAL_FIELDS}}
    errs = validate_profile(data, student_ctx(st))
    if errs:
        raise invalid(errs)
    before = personal_of(st)
    for k in V.PERSONAL_FIELDS:
        setattr(st, k, data[k].strip())
    st.profile_updated_at = clock.now()
    audit(s, p, st.id, "profile", st.id, "update", before, personal_of(st))
    s.commit()
    return profile_view(st)


# --- destination (毕业去向登记) ------------------------------------------------------------------------
def _norm_unit(unit: dict | None) -> dict | None:
    if not unit:
        return None
    out = {}
    for k, v in unit.items():
        if isinstance(v, str):
            v = v.strip()
            if k == "credit_code":
                v = v.upper()
        if v not in (None, ""):
            out[k] = v
    return out or None


def _not_editable_msg(what: str, state: str, change_kind: str) -> str:
    if state == "college_approved":
        return f"{what}已经学院审核通过，正在等待学校审核，此时不能修改。如需修改请联系学院就业工作负责老师。"
    return (f"{what}已经学校审核通过，不能直接修改。请提交“{V.CHANGE_KINDS[change_kind]}”申请"
            f"（kind={change_kind}），经院校两级审核后生效。")


def put_destination(s: Session, p: Principal, data: dict) -> dict:
    st = lock_student(s, p.id)
    rec = get_destination(s, st.id)
    state = rec.state if rec else "not_started"
    if state not in V.EDITABLE:
        raise wrong_state(_not_editable_msg("毕业去向登记", state, "unit_change"))
    # PATCH semantics (the chat form sends only its own fields): a field left out keeps its stored value, a field
    # sent as null or "" is cleared; a type without a unit drops the stored unit
    t = data["destination_type"] if "destination_type" in data else (rec.destination_type if rec else None)
    t = str(t) if t is not None else None
    stored_unit = dict((rec.unit if rec else None) or {})
    unit_in = data.get("unit")
    errs = validate_destination({"destination_type": t, "unit": _norm_unit(unit_in)}, partial=True,
                                override_code=st.credit_code_override)
    if errs:
        raise invalid(errs)
    if "unit" in data:
        unit = _norm_unit({**stored_unit, **unit_in}) if unit_in is not None else None
    else:
        unit = stored_unit or None
    if t not in V.UNIT_TYPES:
        unit = None
    payload = {"destination_type": t, "unit": unit}
    errs = validate_destination(payload, partial=True, override_code=st.credit_code_override)
    if errs:
        raise invalid(errs)
    complete = t is not None and not validate_destination(payload, False, st.credit_code_override)
    if rec is None:
        rec = M.Destination(student_id=st.id, state="not_started")
        s.add(rec)
        s.flush()
    before = destination_view(rec)
    rec.destination_type = t
    rec.unit = unit if t in V.UNIT_TYPES else None
    if state not in ("college_rejected", "school_rejected"):
        rec.state = "filled" if complete else ("type_chosen" if t else "not_started")
    rec.updated_at = clock.now()
    audit(s, p, st.id, "destination", rec.id, "save", before, destination_view(rec))
    s.commit()
    return destination_view(rec)


def submit_destination(s: Session, p: Principal) -> dict:
    st = lock_student(s, p.id)
    rec = get_destination(s, st.id)
    state = rec.state if rec else "not_started"
    if state == "submitted":
        raise wrong_state("毕业去向登记已提交，正在等待学院审核，无需重复提交。")
    if state in ("college_approved", "school_approved"):
        raise wrong_state(_not_editable_msg("毕业去向登记", state, "unit_change"))
    if rec is None or rec.destination_type is None:
        raise wrong_state("请先选择毕业去向类型并填写签约信息，再提交。")
    errs = validate_destination({"destination_type": rec.destination_type, "unit": rec.unit}, False,
                                st.credit_code_override)
    if errs:
        raise invalid(errs, "信息尚未填写完整或有误，请补充后再提交：" + "；".join(e.message for e in errs[:3]))
    before = destination_view(rec)
    rec.state, rec.rejection_reason, rec.submitted_at = "submitted", None, clock.now()
    rec.updated_at = rec.submitted_at
    audit(s, p, st.id, "destination", rec.id, "submit", before, destination_view(rec))
    s.commit()
    return destination_view(rec)


# --- archive (户档信息登记) -----------------------------------------------------------------------------
def _norm_archive(data: dict) -> dict:
    out: dict[str, Any] = {}
    for k, v in data.items():
        if isinstance(v, str):
            v = v.strip()
        if isinstance(v, list):
            v = [x.strip() for x in v if isinstance(x, str) and x.strip()] if all(isinstance(x, str) for x in v) else v
        if v not in (None, "", []):
            out[k] = v
    return out


def merge_archive(stored: dict | None, data: dict) -> dict:
    """PATCH semantics for 户档信息 (the chat form sends only its own fields): a field left out keeps its stored
    value, a field sent as null/""/[] is cleared. Stored fields that no longer apply are dropped unless sent: the
    evidence not accepted for a new 档案转寄类型, the address fields for a type without an address, the 户口迁移
    具体地址 once another 户口迁移地址 option is chosen."""
    stored = dict(stored or {})
    merged = {**stored, **_norm_archive(data)}
    for k, v in data.items():
        if v is None or v == [] or (isinstance(v, str) and not v.strip()):
            merged.pop(k, None)
    t = merged.get("transfer_type")
    if "transfer_type" in data and t != stored.get("transfer_type"):
        if "evidence" not in data and isinstance(merged.get("evidence"), list):
            accepted = V.ARCHIVE_TYPES.get(t or "", {}).get("evidence") or []
            kept = [e for e in merged["evidence"] if e in accepted]
            if kept:
                merged["evidence"] = kept
            else:
                merged.pop("evidence", None)
        if t not in V.ARCHIVE_TYPES_NEEDING_ADDRESS:
            for k in V.ARCHIVE_ADDRESS_FIELDS:
                if k not in data:
                    merged.pop(k, None)
    if merged.get("hukou_choice") != "address" and "hukou_address" not in data:
        merged.pop("hukou_address", None)
    return merged


def put_archive(s: Session, p: Principal, data: dict) -> dict:
    st = lock_student(s, p.id)
    rec = get_archive(s, st.id)
    state = rec.state if rec else "not_started"
    if state not in V.EDITABLE:
        raise wrong_state("辅导员已审核户档信息，不能再直接修改。" + (
            "如需修改请提交“户档信息修改”申请（kind=archive_edit）。" if state == "school_approved"
            else "如需修改请联系辅导员老师。"))
    payload = merge_archive(rec.data if rec else None, data)
    errs = validate_archive(payload, student_ctx(st), partial=True)
    if errs:
        raise invalid(errs)
    complete = "transfer_type" in payload and not validate_archive(payload, student_ctx(st), partial=False)
    if rec is None:
        rec = M.Archive(student_id=st.id, state="not_started")
        s.add(rec)
        s.flush()
    before = archive_view(rec)
    rec.data = payload
    if state not in ("college_rejected", "school_rejected"):
        rec.state = "filled" if complete else ("type_chosen" if payload.get("transfer_type") else "not_started")
    rec.updated_at = clock.now()
    audit(s, p, st.id, "archive", rec.id, "save", before, archive_view(rec))
    s.commit()
    return archive_view(rec)


def submit_archive(s: Session, p: Principal) -> dict:
    st = lock_student(s, p.id)
    rec = get_archive(s, st.id)
    state = rec.state if rec else "not_started"
    if state == "submitted":
        raise wrong_state("户档信息已提交，正在等待辅导员审核；审核前仍可修改后重新提交。")
    if state in ("college_approved", "school_approved"):
        raise wrong_state("户档信息已经辅导员审核，不能重复提交。")
    dest = get_destination(s, st.id)
    if dest is None or dest.destination_type is None:
        raise wrong_state("请先完成“毕业去向登记”（选择去向类型），再提交户档信息。")
    if rec is None or not rec.data:
        raise wrong_state("请先填写户档信息，再提交。")
    errs = validate_archive(rec.data, student_ctx(st), partial=False)
    if errs:
        raise invalid(errs, "户档信息尚未填写完整或有误，请补充后再提交：" + "；".join(e.message for e in errs[:3]))
    before = archive_view(rec)
    rec.state, rec.rejection_reason, rec.submitted_at = "submitted", None, clock.now()
    rec.updated_at = rec.submitted_at
    audit(s, p, st.id, "archive", rec.id, "submit", before, archive_view(rec))
    s.commit()
    return archive_view(rec)


# --- sync and national confirmation ---------------------------------------------------------------------
def sync_info(st: M.Student, dest: M.Destination | None, arch: M.Archive | None) -> dict:
    if not (dest and arch and dest.state == "school_approved" and arch.state == "school_approved"
            and dest.approved_on and arch.approved_on):
        return {"both_approved_on": None, "sync_date": None, "synced": False, "estimated": False}
    basis = max(d for d in (dest.approved_on, arch.approved_on, st.personal_approved_on) if d)
    sync_date, est = workdays.next_workday_info(basis)
    return {"both_approved_on": basis.isoformat(), "sync_date": sync_date.isoformat(),
            "synced": clock.today() >= sync_date, "estimated": est}


def national_view(st: M.Student) -> dict:
    return {"confirmed": st.national_confirmed_on is not None and not st.needs_reconfirm,
            "confirmed_on": ds(st.national_confirmed_on), "needs_reconfirm": st.needs_reconfirm}


def confirm_national(s: Session, student_id: str, confirmed_on: dt.date | None, actor: Principal) -> dict:
    st = lock_student(s, student_id)
    sync = sync_info(st, get_destination(s, st.id), get_archive(s, st.id))
    today = clock.today()
    if not sync["sync_date"]:
        raise wrong_state("该生的毕业去向或户档信息尚未经学校审核通过，国家平台上还没有可确认的信息。")
    if not sync["synced"]:
        raise wrong_state(f"信息将于{sync['sync_date']}同步至国家平台，同步前不能确认。")
    if st.national_confirmed_on and not st.needs_reconfirm:
        raise wrong_state(f"该生已于{st.national_confirmed_on.isoformat()}在国家平台确认，当前信息无需再次确认。")
    on = confirmed_on or today
    if on > today:
        raise invalid([FieldError("confirmed_on", "date_in_future", "确认日期不能晚于今天。")])
    if on < dt.date.fromisoformat(sync["sync_date"]):
        raise invalid([FieldError("confirmed_on", "date_before_sync",
                                  f"确认日期不能早于信息同步至国家平台的日期{sync['sync_date']}。")])
    before = national_view(st)
    st.national_confirmed_on, st.needs_reconfirm = on, False
    audit(s, actor, st.id, "national", st.id, "confirm", before, national_view(st))
    notices.on_national_confirmed(s, st, workdays.next_workday_info(on)[0].isoformat())  # same transaction
    s.commit()
    return {"student_id": st.id, **national_view(st)}


# --- mailing (档案邮寄申请) -------------------------------------------------------------------------------
def eligibility(s: Session, st: M.Student) -> dict:
    arch = get_archive(s, st.id)
    req = active_mailing(s, st.id)
    eligible_from = None
    estimated = False
    if st.national_confirmed_on and not st.needs_reconfirm:
        efrom, estimated = workdays.next_workday_info(st.national_confirmed_on)
        eligible_from = efrom.isoformat()
    reason = None
    if req:
        reason = "already_requested"
    elif not arch or arch.state != "school_approved":
        reason = "archive_not_approved"
    elif st.national_confirmed_on is None:
        reason = "not_confirmed"
    elif st.needs_reconfirm:
        reason = "needs_reconfirm"
    elif open_changes(s, st.id):
        reason = "change_pending"
    elif clock.today() < dt.date.fromisoformat(eligible_from):
        reason = "too_early"
    msg = V.mailing_reason_message(reason, eligible_from)
    return {"eligible": reason is None, "eligible_from": eligible_from, "reason": reason, "reason_message": msg,
            "estimated": estimated}


def archive_details(st: M.Student, arch: M.Archive | None) -> dict | None:
    if not arch or not arch.data:
        return None
    d = dict(arch.data)
    return {"student_name": st.name, "student_id": st.id, **{k: d.get(k) for k in V.ARCHIVE_FIELDS},
            "hukou_choice_label": V.HUKOU_CHOICES.get(d.get("hukou_choice") or ""), "labels": V.ARCHIVE_FIELDS}


def mailing_view(m: M.MailingRequest | None) -> dict | None:
    if m is None:
        return None
    return {"id": m.id, "student_id": m.student_id, "state": m.state, "state_label": V.MAILING_STATE_LABELS[m.state],
            "ems_no": m.ems_no, "created_at": ts(m.created_at), "shipped_at": ts(m.shipped_at),
            "delivered_at": ts(m.delivered_at), "cancelled_at": ts(m.cancelled_at), "version": m.version,
            "archive": m.archive_snapshot}


def create_mailing(s: Session, p: Principal, idem_key: str | None) -> tuple[int, dict]:
    st = lock_student(s, p.id)
    existing = active_mailing(s, st.id)
    if existing:
        return 200, {"already_submitted": True, "request": mailing_view(existing)}
    el = eligibility(s, st)
    if el["reason"] == "already_requested":  # another request committed in between
        return 200, {"already_submitted": True, "request": mailing_view(active_mailing(s, st.id))}
    if not el["eligible"]:
        raise APIError(409, "not_eligible", el["reason_message"], reason=el["reason"],
                       eligible_from=el["eligible_from"])
    arch = get_archive(s, st.id)
    m = M.MailingRequest(student_id=st.id, active_key=st.id, idempotency_key=(idem_key or None),
                         state="submitted", archive_snapshot=archive_details(st, arch) or {}, created_at=clock.now())
    s.add(m)
    try:
        s.flush()
        audit(s, p, st.id, "mailing", m.id, "create", None, mailing_view(m))
        s.commit()
    except IntegrityError:
        s.rollback()
        existing = active_mailing(s, st.id)
        if existing is None:  # pragma: no cover - would mean the constraint fired for another reason
            raise
        return 200, {"already_submitted": True, "request": mailing_view(existing)}
    return 201, {"already_submitted": False, "request": mailing_view(m)}


def _mailing_for_staff(s: Session, p: Principal, mid: int) -> M.MailingRequest:
    sid = s.scalar(select(M.MailingRequest.student_id).where(M.MailingRequest.id == mid))
    if not sid:
        raise not_found("没有这条档案邮寄申请。")
    check_scope(p, lock_student(s, sid))
    return s.get(M.MailingRequest, mid, populate_existing=True)


def cancel_mailing(s: Session, p: Principal) -> dict:
    """The student withdraws a request that has not been shipped yet (races with ship: one of them wins)."""
    st = lock_student(s, p.id)
    m = active_mailing(s, st.id)
    if m is None:
        last = s.scalar(select(M.MailingRequest).where(M.MailingRequest.student_id == st.id)
                        .order_by(M.MailingRequest.id.desc()).limit(1))
        if last is not None and last.state == "cancelled":
            raise wrong_state("您的档案邮寄申请已取消，无需重复取消。")
        raise not_found("您没有可以取消的档案邮寄申请。")
    if m.state != "submitted":
        raise wrong_state(f"档案{V.MAILING_STATE_LABELS[m.state]}，不能取消申请；如有问题请联系学院就业工作负责老师。")
    before = mailing_view(m)
    m.state, m.active_key, m.cancelled_at = "cancelled", None, clock.now()
    audit(s, p, st.id, "mailing", m.id, "cancel", before, mailing_view(m))
    s.commit()
    return mailing_view(m)


def ship_mailing(s: Session, p: Principal, mid: int, ems_no: str) -> dict:
    m = _mailing_for_staff(s, p, mid)
    errs = check_ems(ems_no)
    if errs:
        raise invalid(errs)
    if m.state != "submitted":
        raise wrong_state(f"该申请当前状态为“{V.MAILING_STATE_LABELS[m.state]}”，只有已提交的申请可以寄出。")
    before = mailing_view(m)
    m.state, m.ems_no, m.shipped_at = "shipped", ems_no.strip().upper(), clock.now()
    audit(s, p, m.student_id, "mailing", m.id, "ship", before, mailing_view(m))
    notices.on_shipped(s, m)  # same transaction
    s.commit()
    return mailing_view(m)


def deliver_mailing(s: Session, p: Principal, mid: int) -> dict:
    m = _mailing_for_staff(s, p, mid)
    if m.state != "shipped":
        raise wrong_state(f"该申请当前状态为“{V.MAILING_STATE_LABELS[m.state]}”，只有已寄出的申请可以标记送达。")
    before = mailing_view(m)
    m.state, m.delivered_at = "delivered", clock.now()
    audit(s, p, m.student_id, "mailing", m.id, "deliver", before, mailing_view(m))
    notices.on_delivered(s, m)  # same transaction
    s.commit()
    return mailing_view(m)


# --- change requests (the four change paths) ------------------------------------------------------------
def change_view(cr: M.ChangeRequest) -> dict:
    d = _record_base(cr)
    d["state_label"] = V.CHANGE_STATE_LABELS.get(cr.state, d["state_label"])
    d.update(kind=cr.kind, kind_label=V.CHANGE_KINDS[cr.kind], changes=cr.changes, before=cr.before,
             created_at=ts(cr.created_at), student_id=cr.student_id)
    return d


def _wrong_path(kind: str, right: str, why: str) -> APIError:
    return APIError(409, "wrong_change_path",
                    f"{why}不能通过“{V.CHANGE_KINDS[kind]}”修改，请使用“{V.CHANGE_KINDS[right]}”。",
                    right_path=right, right_path_label=V.CHANGE_KINDS[right])


def create_change(s: Session, p: Principal, kind: str, changes: dict) -> dict:
    st = lock_student(s, p.id)
    if kind not in V.CHANGE_KINDS:
        raise invalid([FieldError("kind", "invalid_choice",
                                  "修改类型应为：unit_change（改签申请（单位变更））、destination_edit（毕业去向修改（单位不变））、"
                                  "archive_edit（户档信息修改）、personal_info（个人信息完善）。")])
    if not isinstance(changes, dict) or not changes:
        raise invalid([FieldError("changes", "required", "请填写要修改的内容。")])
    dest, arch = get_destination(s, st.id), get_archive(s, st.id)
    # classify what is actually being changed
    unknown = [k for k in changes if k not in ("destination_type", "unit") and k not in V.ARCHIVE_FIELDS
               and k not in V.PERSONAL_FIELDS]
    if unknown:
        raise invalid([FieldError(k, "unknown_field", f"没有“{k}”这一项，请检查字段名。") for k in unknown])
    unit_in = changes.get("unit") or {}
    if not isinstance(unit_in, dict):
        raise invalid([FieldError("unit", "type", "单位信息格式不正确。")])
    cur_unit = dict((dest.unit if dest else None) or {})
    cur_type = dest.destination_type if dest else None
    type_changed = "destination_type" in changes and str(changes["destination_type"]) != cur_type
    name_changed = "name" in unit_in and (unit_in.get("name") or "").strip() != cur_unit.get("name")
    other_unit = [k for k in unit_in if k != "name" and unit_in[k] != cur_unit.get(k)]
    archive_keys = [k for k in changes if k in V.ARCHIVE_FIELDS and k not in ("destination_type", "unit")]
    personal_keys = [k for k in changes if k in V.PERSONAL_FIELDS]
    if kind != "archive_edit" and archive_keys:
        raise _wrong_path(kind, "archive_edit", "户档信息")
    if kind != "personal_info" and personal_keys:
        raise _wrong_path(kind, "personal_info", "个人信息（如政治面貌）")
    if kind == "destination_edit" and (type_changed or name_changed):
        raise _wrong_path(kind, "unit_change", "毕业去向类型或单位名称")
    if kind in ("archive_edit", "personal_info") and (type_changed or name_changed):
        raise _wrong_path(kind, "unit_change", "毕业去向类型或单位名称")
    if kind in ("archive_edit", "personal_info") and other_unit:
        raise _wrong_path(kind, "destination_edit", "单位信息")
    if kind == "unit_change" and not (type_changed or name_changed):
        if other_unit:
            raise _wrong_path(kind, "destination_edit", "单位名称不变时，单位的其他信息")
        raise invalid([FieldError("changes", "no_changes", "改签申请需要修改毕业去向类型或单位名称，您填写的内容与现有信息相同。")])
    # the target record must already be reviewed
    target = V.CHANGE_TARGET[kind]
    if target == "destination":
        if not dest or dest.state != "school_approved":
            state = dest.state if dest else "not_started"
            raise wrong_state("毕业去向登记尚未完成院校两级审核，请直接在“毕业去向登记”中修改后提交。"
                              if state != "college_approved" else
                              "毕业去向登记正在学校审核中，请等待审核结果后再申请修改。")
    elif target == "archive":
        if not arch or arch.state != "school_approved":
            state = arch.state if arch else "not_started"
            raise wrong_state("户档信息尚未经辅导员审核，请直接在“户档信息登记”中修改后重新提交。"
                              if state not in ("college_approved",) else
                              "户档信息正在学校审核中，请等待审核结果后再申请修改。")
    else:
        if profile_locked_reason(st, dest) is None:
            raise wrong_state("个人信息目前可以直接修改：请在“个人信息完善”中修改后提交（PUT /api/me/profile）。")
    # validate the merged result, and keep only what changes
    if target == "destination":
        new_type = str(changes.get("destination_type", cur_type))
        merged_unit = {**cur_unit, **_norm_unit(unit_in)} if new_type in V.UNIT_TYPES else None
        if new_type in V.UNIT_TYPES and type_changed and cur_type not in V.UNIT_TYPES:
            merged_unit = _norm_unit(unit_in)
        errs = validate_destination({"destination_type": new_type, "unit": merged_unit}, False,
                                    st.credit_code_override)
        clean = {}
        if type_changed:
            clean["destination_type"] = new_type
        if unit_in:
            clean["unit"] = _norm_unit(unit_in) or {}
        before = {"destination_type": cur_type, "unit": cur_unit or None}
        if kind == "destination_edit" and not other_unit:
            raise invalid([FieldError("changes", "no_changes", "您填写的单位信息与现有信息相同，无需修改。")])
    elif target == "archive":
        merged = {**(arch.data or {}), **_norm_archive({k: changes[k] for k in archive_keys})}
        for k in archive_keys:
            if changes[k] in (None, "", []):
                merged.pop(k, None)
        errs = validate_archive(merged, student_ctx(st), partial=False)
        clean = {k: changes[k] for k in archive_keys if changes[k] != (arch.data or {}).get(k)}
        before = {k: (arch.data or {}).get(k) for k in clean}
    else:
        merged = {**personal_of(st), **{k: changes[k] for k in personal_keys}}
        errs = validate_profile(merged, student_ctx(st))
        clean = {k: changes[k].strip() if isinstance(changes[k], str) else changes[k] for k in personal_keys
                 if changes[k] != getattr(st, k)}
        before = {k: getattr(st, k) for k in clean}
    if errs:
        raise invalid(errs)
    if not clean:
        raise invalid([FieldError("changes", "no_changes", "您填写的内容与现有信息相同，无需修改。")])
    now = clock.now()
    cr = M.ChangeRequest(student_id=st.id, kind=kind, changes=clean, before=before, state="submitted",
                         submitted_at=now, created_at=now, updated_at=now, open_key=f"{st.id}:{target}")
    s.add(cr)
    try:
        s.flush()
    except IntegrityError:
        s.rollback()
        raise wrong_state("您已有一条针对同一信息、尚未审核完成的修改申请，请等待审核结果后再提交新的申请。")
    audit(s, p, st.id, "change_request", cr.id, "create", None, change_view(cr))
    s.commit()
    return change_view(cr)


def _apply_change(s: Session, actor: Principal, cr: M.ChangeRequest) -> None:
    st = cr.student
    today = clock.today()
    if cr.kind in ("unit_change", "destination_edit"):
        dest = get_destination(s, st.id)
        before = destination_view(dest)
        new_type = cr.changes.get("destination_type", dest.destination_type)
        if new_type in V.UNIT_TYPES:
            base = {} if (dest.destination_type not in V.UNIT_TYPES) else dict(dest.unit or {})
            dest.unit = {**base, **(cr.changes.get("unit") or {})}
        else:
            dest.unit = None
        dest.destination_type = new_type
        dest.approved_on, dest.updated_at = today, clock.now()
        audit(s, actor, st.id, "destination", dest.id, "apply_change", before, destination_view(dest))
    elif cr.kind == "archive_edit":
        arch = get_archive(s, st.id)
        before = archive_view(arch)
        merged = {**(arch.data or {}), **cr.changes}
        arch.data = {k: v for k, v in merged.items() if v not in (None, "", [])}
        arch.approved_on, arch.updated_at = today, clock.now()
        audit(s, actor, st.id, "archive", arch.id, "apply_change", before, archive_view(arch))
    else:
        before = personal_of(st)
        for k, v in cr.changes.items():
            setattr(st, k, v)
        st.personal_approved_on, st.profile_updated_at = today, clock.now()
        audit(s, actor, st.id, "profile", st.id, "apply_change", before, personal_of(st))
    if st.national_confirmed_on is not None and not st.needs_reconfirm:
        st.needs_reconfirm = True
        audit(s, actor, st.id, "national", st.id, "needs_reconfirm", {"needs_reconfirm": False},
              {"needs_reconfirm": True})


# --- staff review ------------------------------------------------------------------------------------------
KIND_MODELS = {"destination": M.Destination, "archive": M.Archive, "change": M.ChangeRequest}


def check_scope(p: Principal, st: M.Student) -> None:
    if p.role == "counselor" and st.college_code != p.college_code:
        raise forbidden("辅导员只能查看和审核本学院学生的记录。")


def _view(kind: str, rec: Any) -> dict:
    v = {"destination": destination_view, "archive": archive_view, "change": change_view}[kind](rec)
    v["student_id"] = rec.student_id
    v["student_name"] = rec.student.name
    v["college"] = rec.student.college.name
    v["kind_of_record"] = kind
    return v


STALE_MSG = "记录已更新，请刷新后再审核"


def staff_record(s: Session, p: Principal, kind: str, rid: int) -> dict:
    """One record as a reviewer opens it; its `version` goes back with the review."""
    model = KIND_MODELS.get(kind)
    if model is None:
        raise not_found("记录类型应为 destination、archive 或 change。")
    rec = s.get(model, rid)
    if rec is None:
        raise not_found()
    check_scope(p, rec.student)
    return _view(kind, rec)


def review(s: Session, p: Principal, kind: str, rid: int, approve: bool, reason: str | None,
           version: int) -> dict:
    model = KIND_MODELS.get(kind)
    if model is None:
        raise not_found("记录类型应为 destination、archive 或 change。")
    sid = s.scalar(select(model.student_id).where(model.id == rid))
    if sid is None:
        raise not_found()
    check_scope(p, lock_student(s, sid))  # then read the record as the last writer left it
    rec = s.get(model, rid, populate_existing=True)
    expected = "submitted" if p.role == "counselor" else "college_approved"
    if rec.state != expected:
        who = "学院（辅导员）" if p.role == "counselor" else "学校"
        raise wrong_state(f"该记录当前状态为“{V.STATE_LABELS.get(rec.state, rec.state)}”，"
                          f"{who}只能审核状态为“{V.STATE_LABELS[expected]}”的记录。")
    if rec.version != version:
        raise APIError(409, "stale_version", STALE_MSG, version=rec.version)
    if not approve and not (reason or "").strip():
        raise invalid([FieldError("reason", "required", "审核不通过时请填写原因，学生将按原因修改后再次提交。")])
    before = _view(kind, rec)
    now = clock.now()
    if p.role == "counselor":
        rec.college_reviewed_at, rec.college_reviewer = now, p.id
        rec.state = "college_approved" if approve else "college_rejected"
    else:
        rec.school_reviewed_at, rec.school_reviewer = now, p.id
        rec.state = "school_approved" if approve else "school_rejected"
    rec.rejection_reason = None if approve else reason.strip()
    rec.updated_at = now
    if kind == "change" and rec.state in ("school_approved", "college_rejected", "school_rejected"):
        rec.open_key = None
    if rec.state == "school_approved":
        rec.approved_on = clock.today()
        if kind == "change":
            _apply_change(s, p, rec)
    audit(s, p, rec.student_id, kind if kind != "change" else "change_request", rec.id,
          "approve" if approve else "reject", before, _view(kind, rec))
    notices.on_review(s, kind, rec)  # same transaction
    s.commit()
    return _view(kind, rec)


def list_records(s: Session, p: Principal, kind: str, state: str | None, college: str | None, limit: int,
                 offset: int) -> dict:
    model = KIND_MODELS.get(kind)
    if model is None:
        raise invalid([FieldError("kind", "invalid_choice", "记录类型应为 destination、archive 或 change。")])
    q = select(model).join(M.Student, model.student_id == M.Student.id).join(M.College)
    if p.role == "counselor":
        if college and college not in (p.college_code,) and not s.scalar(
                select(M.College).where(M.College.code == p.college_code, M.College.name == college)):
            raise forbidden("辅导员只能查看本学院学生的记录。")
        q = q.where(M.Student.college_code == p.college_code)
    elif college:
        q = q.where((M.College.code == college) | (M.College.name == college))
    if state:
        q = q.where(model.state == state)
    total = s.scalar(select(func.count()).select_from(q.subquery()))
    rows = s.scalars(q.order_by(model.id).limit(limit).offset(offset)).unique().all()
    return {"total": total, "limit": limit, "offset": offset, "items": [_view(kind, r) for r in rows]}


def list_mailing(s: Session, p: Principal, state: str | None, limit: int, offset: int) -> dict:
    q = select(M.MailingRequest).join(M.Student, M.MailingRequest.student_id == M.Student.id)
    if p.role == "counselor":
        q = q.where(M.Student.college_code == p.college_code)
    if state:
        q = q.where(M.MailingRequest.state == state)
    total = s.scalar(select(func.count()).select_from(q.subquery()))
    rows = s.scalars(q.order_by(M.MailingRequest.id).limit(limit).offset(offset)).unique().all()
    return {"total": total, "limit": limit, "offset": offset, "items": [mailing_view(m) for m in rows]}


def audit_entries(s: Session, p: Principal, student_id: str | None, limit: int, offset: int) -> dict:
    q = select(M.AuditLog)
    if student_id:
        st = get_student(s, student_id)
        check_scope(p, st)
        q = q.where(M.AuditLog.student_id == student_id)
    elif p.role == "counselor":
        q = q.join(M.Student, M.AuditLog.student_id == M.Student.id).where(M.Student.college_code == p.college_code)
    total = s.scalar(select(func.count()).select_from(q.subquery()))
    rows = s.scalars(q.order_by(M.AuditLog.id).limit(limit).offset(offset)).all()
    return {"total": total, "items": [{"id": a.id, "at": ts(a.at), "actor_role": a.actor_role, "actor_id": a.actor_id,
                                       "student_id": a.student_id, "entity": a.entity, "entity_id": a.entity_id,
                                       "action": a.action, "before": a.before, "after": a.after} for a in rows]}


def set_credit_override(s: Session, p: Principal, student_id: str, code: str) -> dict:
    if p.role != "school":
        raise forbidden("只有学校就业工作老师可以人工放行统一社会信用代码。")
    st = get_student(s, student_id)
    code = (code or "").strip().upper()
    from .validators import check_credit_code
    errs = [e for e in check_credit_code(code, "credit_code", allow_checksum_override=True)]
    if errs:
        raise invalid(errs)
    before = {"credit_code_override": st.credit_code_override}
    st.credit_code_override = code
    audit(s, p, st.id, "student", st.id, "credit_code_override", before, {"credit_code_override": code})
    s.commit()
    return {"student_id": st.id, "credit_code_override": code}


# --- status for the assistant ------------------------------------------------------------------------------
def status(s: Session, st: M.Student) -> dict:
    dest, arch = get_destination(s, st.id), get_archive(s, st.id)
    el = eligibility(s, st)
    return {
        "student": {"id": st.id, "name": st.name, "college": st.college.name},
        "today": clock.today().isoformat(),
        "destination": summary(destination_view(dest)),
        "archive": summary(archive_view(arch)),
        "sync": sync_info(st, dest, arch),
        "national": national_view(st),
        "mailing": {**el, "request": mailing_view(active_mailing(s, st.id))},
        "pending_changes": [{"id": c.id, "kind": c.kind, "kind_label": V.CHANGE_KINDS[c.kind], "state": c.state,
                             "state_label": V.CHANGE_STATE_LABELS[c.state]} for c in open_changes(s, st.id)],
    }


# --- WeChat binding ------------------------------------------------------------------------------------------
def binding(s: Session, openid: str) -> M.WechatBinding:
    """The student an OpenID is bound to, or 404 not_bound (for the channel's integration routes)."""
    b = s.get(M.WechatBinding, openid)
    if b is None:
        raise APIError(404, "not_bound", "该微信尚未绑定学生账号。")
    return b


# Codes: 8 characters of Crockford's base32 (no I, L, O, U: 32**8 = 2**40), shown as XXXX-XXXX. A student types
# them in WeChat in any case, with or without the hyphen or spaces; I and L are read as 1, O as 0.
CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_LEN = 8
CODE_TTL = dt.timedelta(minutes=10)
CODES_PER_HOUR = 5                  # issued per student
FAIL_WINDOW = dt.timedelta(minutes=10)
FAILS_PER_OPENID = 5                # failed guesses per openid in the window
FAILS_TOTAL = 200                   # failed guesses from all openids together in the window
_CODE_TYPOS = str.maketrans({"I": "1", "L": "1", "O": "0"})
_CODE_SEPARATORS = re.compile(r"[\s\-‐‑‒–—―－_·.。]+")
BAD_CODE_MSG = "绑定码应为8位字母和数字（网页上显示为“XXXX-XXXX”），请核对后重新发送；也可以在网页上重新获取。"


def _new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LEN))


def show_code(code: str) -> str:
    return f"{code[:4]}-{code[4:]}"


def normalise_code(text: str) -> str | None:
    """The stored form of a typed code, or None if it cannot be one."""
    code = _CODE_SEPARATORS.sub("", (text or "").strip()).upper().translate(_CODE_TYPOS)
    if len(code) != CODE_LEN or any(ch not in CODE_ALPHABET for ch in code):
        return None
    return code


def _retry_minutes(oldest: dt.datetime, now: dt.datetime) -> int:
    seconds = (_aware(oldest) + FAIL_WINDOW - now).total_seconds()
    return max(1, int(seconds + 59) // 60)


def new_bind_code(s: Session, p: Principal) -> dict:
    st = lock_student(s, p.id)  # issuing and its limit are serialised per student
    now = clock.now()
    recent = list(s.scalars(select(M.WechatBindCode.created_at).where(
        M.WechatBindCode.student_id == st.id, M.WechatBindCode.created_at > now - dt.timedelta(hours=1))
        .order_by(M.WechatBindCode.created_at)))
    if len(recent) >= CODES_PER_HOUR:
        retry = int((_aware(recent[0]) + dt.timedelta(hours=1) - now).total_seconds()) + 1
        raise APIError(429, "too_many_codes", f"一小时内最多获取{CODES_PER_HOUR}次绑定码，请在{max(1, (retry + 59) // 60)}分钟后再试；"
                       "之前获取的最新绑定码在10分钟内仍然有效。", retry_after=retry)
    # a new code voids the older ones
    s.execute(update(M.WechatBindCode).where(M.WechatBindCode.student_id == st.id,
                                             M.WechatBindCode.used_at.is_(None),
                                             M.WechatBindCode.voided_at.is_(None)).values(voided_at=now))
    for _ in range(10):  # unique constraint: on the (2**-40 per live code) chance of a collision, draw again
        bc = M.WechatBindCode(code=_new_code(), student_id=st.id, created_at=now, expires_at=now + CODE_TTL)
        try:
            with s.begin_nested():
                s.add(bc)
        except IntegrityError:
            continue
        break
    else:  # pragma: no cover - ten collisions in a row
        raise APIError(503, "try_again", "暂时无法生成绑定码，请稍后重试。")
    audit(s, p, p.id, "wechat", bc.id, "bind_code", None, {"expires_at": bc.expires_at})
    s.commit()
    return {"code": show_code(bc.code), "expires_at": ts(bc.expires_at)}


def _aware(v: dt.datetime) -> dt.datetime:
    return v.replace(tzinfo=clock.TZ) if v.tzinfo is None else v


def _bind_guard(s: Session, openid: str, now: dt.datetime) -> None:
    """Serialise binding attempts across processes and refuse them while too many guesses failed recently."""
    if s.get_bind().dialect.name == "postgresql":
        s.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": 0x7765636861})  # SQLite: BEGIN IMMEDIATE
    since = now - FAIL_WINDOW
    s.execute(delete(M.WechatBindFailure).where(M.WechatBindFailure.at < now - dt.timedelta(hours=1)))
    mine = list(s.scalars(select(M.WechatBindFailure.at).where(M.WechatBindFailure.openid == openid,
                                                               M.WechatBindFailure.at > since)
                          .order_by(M.WechatBindFailure.at)))
    total, oldest = s.execute(select(func.count(), func.min(M.WechatBindFailure.at))
                              .where(M.WechatBindFailure.at > since)).one()
    if len(mine) >= FAILS_PER_OPENID:
        oldest = mine[len(mine) - FAILS_PER_OPENID]
    elif total < FAILS_TOTAL:
        return
    minutes = _retry_minutes(oldest, now)
    s.rollback()
    raise APIError(429, "too_many_attempts", f"绑定码错误次数过多，为保护账号安全已暂停绑定，请在{minutes}分钟后再试。",
                   retry_after=minutes * 60)


def _bind_failed(s: Session, openid: str, now: dt.datetime, code: str, message: str) -> APIError:
    s.add(M.WechatBindFailure(openid=openid, at=now))
    s.commit()  # the failure counts even though the request fails
    return APIError(422, code, message, fields=[])


def bind_wechat(s: Session, openid: str, code: str) -> dict:
    now = clock.now()
    _bind_guard(s, openid, now)
    norm = normalise_code(code)
    if norm is None:
        raise _bind_failed(s, openid, now, "bind_code_invalid", BAD_CODE_MSG)
    sid = s.scalar(select(M.WechatBindCode.student_id).where(M.WechatBindCode.code == norm))
    if sid is None:
        raise _bind_failed(s, openid, now, "bind_code_invalid", "绑定码不正确，请核对后重新发送，或在网页上重新获取。")
    # lock order as everywhere: the student, then the code (issuing a new code for the student voids this one)
    st = lock_student(s, sid)
    bc = s.scalar(select(M.WechatBindCode).where(M.WechatBindCode.code == norm).with_for_update(of=M.WechatBindCode)
                  .execution_options(populate_existing=True))
    if bc.used_at is not None:
        raise APIError(422, "bind_code_used", "该绑定码已使用过，每个绑定码只能用一次；如需重新绑定请在网页上重新获取。",
                       fields=[])
    if bc.voided_at is not None:
        raise APIError(422, "bind_code_voided", "该绑定码已失效：你之后又获取了新的绑定码，请发送网页上显示的最新绑定码。",
                       fields=[])
    if _aware(bc.expires_at) < now:
        raise APIError(422, "bind_code_expired", "绑定码已过期（有效期10分钟），请在网页上重新获取。", fields=[])
    # single use, conditional in the database: of two requests racing for this code one updates the row
    used = s.execute(update(M.WechatBindCode).where(M.WechatBindCode.id == bc.id, M.WechatBindCode.used_at.is_(None),
                                                    M.WechatBindCode.voided_at.is_(None))
                     .values(used_at=now, used_by=openid).execution_options(synchronize_session=False))
    if used.rowcount != 1:  # pragma: no cover - the lock above already serialises
        s.rollback()
        raise APIError(422, "bind_code_used", "该绑定码已使用过，每个绑定码只能用一次；如需重新绑定请在网页上重新获取。",
                       fields=[])
    # one binding per openid and per student: replace what was there (a bulk delete: a concurrent unbind of the
    # same row is not an error)
    s.execute(delete(M.WechatBinding).where((M.WechatBinding.openid == openid) | (M.WechatBinding.student_id == st.id))
              .execution_options(synchronize_session=False))
    s.add(M.WechatBinding(openid=openid, student_id=st.id, bound_at=now))
    audit(s, SYSTEM, st.id, "wechat", openid, "bind", None, {"openid": openid})
    s.commit()
    return {"student_id": st.id, "name": st.name}
