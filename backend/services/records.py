"""The student's own records: 个人信息完善 (profile), 毕业去向登记 (destination), 户档信息登记 (archive).

Destination and archive share one save and one submit (`save_record`, `submit_record`), driven by a small
`RecordSpec` per record: how a partial save merges and validates, what a submission needs, and the wording.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session, object_session

from backend import models as M
from backend.core import clock
from backend.core.auth import Principal
from backend.core.errors import invalid, wrong_state
from backend.schemas import ArchiveOut, DestinationOut, ProfileOut, RecordOut, RosterOut
from backend.services.common import audit, lock_student, personal_of, student_ctx
from backend.validators import FieldError, validate_archive, validate_destination, validate_profile
from contracts import vocabulary as V

RS = V.RecordState


# --- views -------------------------------------------------------------------------------------------------
def profile_view(st: M.Student) -> ProfileOut:
    roster = RosterOut.model_validate(
        {**{k: getattr(st, k) for k in RosterOut.model_fields if k != "college"}, "college": st.college.name}
    )
    return ProfileOut(
        roster=roster,
        personal=personal_of(st),
        missing=[k for k, v in personal_of(st).items() if not v],
        updated_at=st.profile_updated_at,
        locked=profile_locked_reason(st) is not None,
    )


# --- loading -----------------------------------------------------------------------------------------------
def get_destination(s: Session, student_id: str) -> M.Destination | None:
    return s.scalar(select(M.Destination).where(M.Destination.student_id == student_id))


def get_archive(s: Session, student_id: str) -> M.Archive | None:
    return s.scalar(select(M.Archive).where(M.Archive.student_id == student_id))


# --- profile (个人信息完善) ---------------------------------------------------------------------------------
def profile_locked_reason(st: M.Student, dest: M.Destination | None = None) -> str | None:
    if dest is None:
        sess = object_session(st)
        dest = get_destination(sess, st.id) if sess else None
    if dest and dest.state == RS.school_approved:
        return (
            "您的毕业去向已经学校审核通过，个人信息已用于国家平台同步。如需修改，请提交“个人信息完善”变更申请"
            "（POST /api/me/change-requests，kind=personal_info），经院校两级审核后生效。"
        )
    return None


def put_profile(s: Session, p: Principal, data: dict) -> ProfileOut:
    st = lock_student(s, p.id)
    reason = profile_locked_reason(st)
    if reason:
        raise wrong_state(reason, right_path=V.ChangeKind.personal_info)
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


# --- merging a partial save ---------------------------------------------------------------------------------
def norm_unit(unit: dict | None) -> dict | None:
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


def norm_archive(data: dict) -> dict:
    out: dict[str, Any] = {}
    for k, v in data.items():
        if isinstance(v, str):
            v = v.strip()
        if isinstance(v, list):
            v = (
                [x.strip() for x in v if isinstance(x, str) and x.strip()]
                if all(isinstance(x, str) for x in v)
                else v
            )
        if v not in (None, "", []):
            out[k] = v
    return out


def merge_destination(st: M.Student, rec: M.Destination | None, data: dict) -> tuple[dict, str | None, bool]:
    """PATCH semantics (the chat form sends only its own fields): a field left out keeps its stored value, a
    field sent as null or "" is cleared; a type without a unit drops the stored unit. (new columns, type,
    complete)"""
    t = data["destination_type"] if "destination_type" in data else (rec.destination_type if rec else None)
    t = str(t) if t is not None else None
    stored_unit = dict((rec.unit if rec else None) or {})
    unit_in = data.get("unit")
    errs = validate_destination(
        {"destination_type": t, "unit": norm_unit(unit_in)},
        partial=True,
        override_code=st.credit_code_override,
    )
    if errs:
        raise invalid(errs)
    if "unit" in data:
        unit = norm_unit({**stored_unit, **unit_in}) if unit_in is not None else None
    else:
        unit = stored_unit or None
    if t not in V.UNIT_TYPES:
        unit = None
    payload = {"destination_type": t, "unit": unit}
    errs = validate_destination(payload, partial=True, override_code=st.credit_code_override)
    if errs:
        raise invalid(errs)
    complete = t is not None and not validate_destination(payload, False, st.credit_code_override)
    return payload, t, complete


def merge_archive(stored: dict | None, data: dict) -> dict:
    """PATCH semantics for 户档信息 (the chat form sends only its own fields): a field left out keeps its
    stored value, a field sent as null/""/[] is cleared. Stored fields that no longer apply are dropped unless
    sent: the evidence not accepted for a new 档案转寄类型, the address fields for a type without an address,
    the 户口迁移 具体地址 once another 户口迁移地址 option is chosen."""
    stored = dict(stored or {})
    merged = {**stored, **norm_archive(data)}
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


def _merge_archive_record(st: M.Student, rec: M.Archive | None, data: dict) -> tuple[dict, str | None, bool]:
    payload = merge_archive(rec.data if rec else None, data)
    errs = validate_archive(payload, student_ctx(st), partial=True)
    if errs:
        raise invalid(errs)
    complete = "transfer_type" in payload and not validate_archive(payload, student_ctx(st), partial=False)
    return {"data": payload}, payload.get("transfer_type"), complete


# --- one save and one submit for both records ---------------------------------------------------------------
def _not_editable_msg(what: str, state: str, change_kind: str) -> str:
    if state == RS.college_approved:
        return f"{what}已经学院审核通过，正在等待学校审核，此时不能修改。如需修改请联系学院就业工作负责老师。"
    return (
        f"{what}已经学校审核通过，不能直接修改。请提交“{V.CHANGE_KINDS[change_kind]}”申请"
        f"（kind={change_kind}），经院校两级审核后生效。"
    )


_RecordT = TypeVar("_RecordT", bound=RecordOut)


@dataclass(frozen=True)
class RecordSpec(Generic[_RecordT]):
    kind: V.RecordKind
    model: type
    out: type[_RecordT]  # DestinationOut | ArchiveOut
    load: Callable[[Session, str], Any]
    merge: Callable[
        [M.Student, Any, dict], tuple[dict, str | None, bool]
    ]  # -> (columns, chosen type, complete)
    errors: Callable[[M.Student, Any], list[FieldError]]  # of the stored record, for a submission
    locked: Callable[[str], str]  # why a record in this (reviewed) state cannot be saved
    submitted: str  # a repeated submission
    reviewed: Callable[[str], str]  # a submission after the counselor's review
    empty: Callable[[Any], bool]  # nothing to submit yet
    empty_message: str
    incomplete: str  # prefix of the message for an incomplete submission
    needs: Callable[[Session, M.Student], str | None] = lambda s, st: (
        None
    )  # another record that must come first


DESTINATION = RecordSpec(
    kind=V.RecordKind.destination,
    model=M.Destination,
    out=DestinationOut,
    load=get_destination,
    merge=merge_destination,
    errors=lambda st, rec: validate_destination(
        {"destination_type": rec.destination_type, "unit": rec.unit}, False, st.credit_code_override
    ),
    locked=lambda state: _not_editable_msg("毕业去向登记", state, V.ChangeKind.unit_change),
    submitted="毕业去向登记已提交，正在等待学院审核，无需重复提交。",
    reviewed=lambda state: _not_editable_msg("毕业去向登记", state, V.ChangeKind.unit_change),
    empty=lambda rec: rec is None or rec.destination_type is None,
    empty_message="请先选择毕业去向类型并填写签约信息，再提交。",
    incomplete="信息尚未填写完整或有误，请补充后再提交：",
)


def _destination_first(s: Session, st: M.Student) -> str | None:
    dest = get_destination(s, st.id)
    if dest is None or dest.destination_type is None:
        return "请先完成“毕业去向登记”（选择去向类型），再提交户档信息。"
    return None


ARCHIVE = RecordSpec(
    kind=V.RecordKind.archive,
    model=M.Archive,
    out=ArchiveOut,
    load=get_archive,
    merge=_merge_archive_record,
    errors=lambda st, rec: validate_archive(rec.data, student_ctx(st), partial=False),
    locked=lambda state: (
        "辅导员已审核户档信息，不能再直接修改。"
        + (
            "如需修改请提交“户档信息修改”申请（kind=archive_edit）。"
            if state == RS.school_approved
            else "如需修改请联系辅导员老师。"
        )
    ),
    submitted="户档信息已提交，正在等待辅导员审核；审核前仍可修改后重新提交。",
    reviewed=lambda state: "户档信息已经辅导员审核，不能重复提交。",
    empty=lambda rec: rec is None or not rec.data,
    empty_message="请先填写户档信息，再提交。",
    incomplete="户档信息尚未填写完整或有误，请补充后再提交：",
    needs=_destination_first,
)


def save_record(s: Session, p: Principal, spec: RecordSpec[_RecordT], data: dict) -> _RecordT:
    """A partial save by the student (web form or chat): editable until the counselor's review."""
    st = lock_student(s, p.id)
    rec = spec.load(s, st.id)
    state = rec.state if rec else RS.not_started
    if state not in V.EDITABLE:
        raise wrong_state(spec.locked(state))
    columns, chosen, complete = spec.merge(st, rec, data)
    if rec is None:
        rec = spec.model(student_id=st.id, state=RS.not_started.value)
        s.add(rec)
        s.flush()
    before = spec.out.of(rec)
    for k, v in columns.items():
        setattr(rec, k, v)
    if state not in V.REJECTED:  # a rejected record stays rejected (with its reason) until it is resubmitted
        rec.state = (RS.filled if complete else RS.type_chosen if chosen else RS.not_started).value
    rec.updated_at = clock.now()
    audit(s, p, st.id, spec.kind.value, rec.id, "save", before, spec.out.of(rec))
    s.commit()
    return spec.out.of(rec)


def submit_record(s: Session, p: Principal, spec: RecordSpec[_RecordT]) -> _RecordT:
    st = lock_student(s, p.id)
    rec = spec.load(s, st.id)
    state = rec.state if rec else RS.not_started
    if state == RS.submitted:
        raise wrong_state(spec.submitted)
    if state in V.REVIEWED:
        raise wrong_state(spec.reviewed(state))
    problem = spec.needs(s, st) or (spec.empty_message if spec.empty(rec) else None)
    if problem:
        raise wrong_state(problem)
    errs = spec.errors(st, rec)
    if errs:
        raise invalid(errs, spec.incomplete + "；".join(e.message for e in errs[:3]))
    before = spec.out.of(rec)
    rec.state, rec.rejection_reason, rec.submitted_at = RS.submitted.value, None, clock.now()
    rec.updated_at = rec.submitted_at
    audit(s, p, st.id, spec.kind.value, rec.id, "submit", before, spec.out.of(rec))
    s.commit()
    return spec.out.of(rec)
