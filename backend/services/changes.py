"""Change requests: the four change paths after a record has been reviewed (改签, 去向修改, 户档修改,
个人信息).

`create_change` runs the steps in order: shape, classification of what changes, the right path for it, the
target's state, the validated difference, then one insert (one open request per target: a unique key).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from backend import models as M
from backend.core import clock
from backend.core.auth import Principal
from backend.core.errors import APIError, invalid, wrong_state
from backend.schemas import ArchiveOut, ChangeOut, ChangesOut, DestinationOut
from backend.services.common import audit, lock_student, personal_of, student_ctx
from backend.services.records import (
    get_archive,
    get_destination,
    norm_archive,
    norm_unit,
    profile_locked_reason,
)
from backend.validators import FieldError, validate_archive, validate_destination, validate_profile
from contracts import vocabulary as V

K, T = V.ChangeKind, V.ChangeTarget


def open_changes(s: Session, student_id: str) -> list[M.ChangeRequest]:
    return list(
        s.scalars(
            select(M.ChangeRequest)
            .where(M.ChangeRequest.student_id == student_id, M.ChangeRequest.state.in_(V.OPEN_CHANGE))
            .order_by(M.ChangeRequest.id)
        )
    )


def my_changes(s: Session, student_id: str) -> ChangesOut:
    rows = s.scalars(
        select(M.ChangeRequest).where(M.ChangeRequest.student_id == student_id).order_by(M.ChangeRequest.id)
    )
    return ChangesOut(items=[ChangeOut.of(c) for c in rows])


@dataclass(frozen=True)
class _What:
    """What a change request actually changes, compared with the stored records."""

    unit_in: dict
    type_changed: bool
    name_changed: bool
    other_unit: list[str]  # unit fields other than the name that differ
    archive_keys: list[str]
    personal_keys: list[str]


def _classify(changes: dict, dest: M.Destination | None) -> _What:
    unknown = [
        k
        for k in changes
        if k not in ("destination_type", "unit") and k not in V.ARCHIVE_FIELDS and k not in V.PERSONAL_FIELDS
    ]
    if unknown:
        raise invalid([FieldError(k, "unknown_field", f"没有“{k}”这一项，请检查字段名。") for k in unknown])
    unit_in = changes.get("unit") or {}
    if not isinstance(unit_in, dict):
        raise invalid([FieldError("unit", "type", "单位信息格式不正确。")])
    cur_unit = dict((dest.unit if dest else None) or {})
    cur_type = dest.destination_type if dest else None
    return _What(
        unit_in=unit_in,
        type_changed="destination_type" in changes and str(changes["destination_type"]) != cur_type,
        name_changed="name" in unit_in and (unit_in.get("name") or "").strip() != cur_unit.get("name"),
        other_unit=[k for k in unit_in if k != "name" and unit_in[k] != cur_unit.get(k)],
        archive_keys=[k for k in changes if k in V.ARCHIVE_FIELDS],
        personal_keys=[k for k in changes if k in V.PERSONAL_FIELDS],
    )


def _wrong_path(kind: str, right: str, why: str) -> APIError:
    return APIError(
        409,
        "wrong_change_path",
        f"{why}不能通过“{V.CHANGE_KINDS[kind]}”修改，请使用“{V.CHANGE_KINDS[right]}”。",
        right_path=right,
        right_path_label=V.CHANGE_KINDS[right],
    )


def _check_path(kind: str, w: _What) -> None:
    """Each change goes by the one path the school allows for it."""
    if kind != K.archive_edit and w.archive_keys:
        raise _wrong_path(kind, K.archive_edit, "户档信息")
    if kind != K.personal_info and w.personal_keys:
        raise _wrong_path(kind, K.personal_info, "个人信息（如政治面貌）")
    if kind != K.unit_change and (w.type_changed or w.name_changed):
        raise _wrong_path(kind, K.unit_change, "毕业去向类型或单位名称")
    if kind in (K.archive_edit, K.personal_info) and w.other_unit:
        raise _wrong_path(kind, K.destination_edit, "单位信息")
    if kind == K.unit_change and not (w.type_changed or w.name_changed):
        if w.other_unit:
            raise _wrong_path(kind, K.destination_edit, "单位名称不变时，单位的其他信息")
        raise invalid(
            [
                FieldError(
                    "changes",
                    "no_changes",
                    "改签申请需要修改毕业去向类型或单位名称，您填写的内容与现有信息相同。",
                )
            ]
        )


def _check_target(target: str, st: M.Student, dest: M.Destination | None, arch: M.Archive | None) -> None:
    """The target must already be reviewed: before that, the student edits the record itself."""
    if target == T.destination:
        if not dest or dest.state != V.RecordState.school_approved:
            raise wrong_state(
                "毕业去向登记正在学校审核中，请等待审核结果后再申请修改。"
                if dest and dest.state == V.RecordState.college_approved
                else "毕业去向登记尚未完成院校两级审核，请直接在“毕业去向登记”中修改后提交。"
            )
    elif target == T.archive:
        if not arch or arch.state != V.RecordState.school_approved:
            raise wrong_state(
                "户档信息正在学校审核中，请等待审核结果后再申请修改。"
                if arch and arch.state == V.RecordState.college_approved
                else "户档信息尚未经辅导员审核，请直接在“户档信息登记”中修改后重新提交。"
            )
    elif profile_locked_reason(st, dest) is None:
        raise wrong_state("个人信息目前可以直接修改：请在“个人信息完善”中修改后提交（PUT /api/me/profile）。")


def _diff(
    kind: str,
    target: str,
    changes: dict,
    w: _What,
    st: M.Student,
    dest: M.Destination | None,
    arch: M.Archive | None,
) -> tuple[list[FieldError], dict, dict]:
    """(errors of the merged result, what changes, what it was)."""
    if target == T.destination:
        assert dest is not None  # _check_target: the record exists and is approved
        cur_unit = dict(dest.unit or {})
        cur_type = dest.destination_type
        new_type = str(changes.get("destination_type", cur_type))
        merged_unit = {**cur_unit, **(norm_unit(w.unit_in) or {})} if new_type in V.UNIT_TYPES else None
        if new_type in V.UNIT_TYPES and w.type_changed and cur_type not in V.UNIT_TYPES:
            merged_unit = norm_unit(w.unit_in)
        errs = validate_destination(
            {"destination_type": new_type, "unit": merged_unit}, False, st.credit_code_override
        )
        clean: dict = {}
        if w.type_changed:
            clean["destination_type"] = new_type
        if w.unit_in:
            clean["unit"] = norm_unit(w.unit_in) or {}
        if kind == K.destination_edit and not w.other_unit:
            raise invalid([FieldError("changes", "no_changes", "您填写的单位信息与现有信息相同，无需修改。")])
        return errs, clean, {"destination_type": cur_type, "unit": cur_unit or None}
    if target == T.archive:
        assert arch is not None  # _check_target: the record exists and is approved
        stored = arch.data or {}
        merged = {**stored, **norm_archive({k: changes[k] for k in w.archive_keys})}
        for k in w.archive_keys:
            if changes[k] in (None, "", []):
                merged.pop(k, None)
        clean = {k: changes[k] for k in w.archive_keys if changes[k] != stored.get(k)}
        return (
            validate_archive(merged, student_ctx(st), partial=False),
            clean,
            {k: stored.get(k) for k in clean},
        )
    merged = {**personal_of(st), **{k: changes[k] for k in w.personal_keys}}
    clean = {
        k: changes[k].strip() if isinstance(changes[k], str) else changes[k]
        for k in w.personal_keys
        if changes[k] != getattr(st, k)
    }
    return validate_profile(merged, student_ctx(st)), clean, {k: getattr(st, k) for k in clean}


def create_change(s: Session, p: Principal, kind: str, changes: dict) -> ChangeOut:
    st = lock_student(s, p.id)
    if kind not in V.CHANGE_KINDS:
        raise invalid(
            [
                FieldError(
                    "kind",
                    "invalid_choice",
                    "修改类型应为："
                    + "、".join(f"{k}（{label}）" for k, label in V.CHANGE_KINDS.items())
                    + "。",
                )
            ]
        )
    if not isinstance(changes, dict) or not changes:
        raise invalid([FieldError("changes", "required", "请填写要修改的内容。")])
    dest, arch = get_destination(s, st.id), get_archive(s, st.id)
    what = _classify(changes, dest)
    _check_path(kind, what)
    target = V.CHANGE_TARGET[kind]
    _check_target(target, st, dest, arch)
    errs, clean, before = _diff(kind, target, changes, what, st, dest, arch)
    if errs:
        raise invalid(errs)
    if not clean:
        raise invalid([FieldError("changes", "no_changes", "您填写的内容与现有信息相同，无需修改。")])
    now = clock.now()
    cr = M.ChangeRequest(
        student_id=st.id,
        kind=kind,
        changes=clean,
        before=before,
        state=V.RecordState.submitted.value,
        submitted_at=now,
        created_at=now,
        updated_at=now,
        open_key=f"{st.id}:{target.value}",
    )
    s.add(cr)
    try:
        s.flush()
    except IntegrityError:
        s.rollback()
        raise wrong_state(
            "您已有一条针对同一信息、尚未审核完成的修改申请，请等待审核结果后再提交新的申请。"
        ) from None
    audit(s, p, st.id, "change_request", cr.id, "create", None, ChangeOut.of(cr))
    s.commit()
    return ChangeOut.of(cr)


def apply_change(s: Session, actor: Principal, cr: M.ChangeRequest) -> None:
    """A change request the school approved takes effect; a confirmed student must confirm again."""
    st = cr.student
    today = clock.today()
    target = V.CHANGE_TARGET[cr.kind]
    before: DestinationOut | ArchiveOut | dict
    if target == T.destination:
        dest = get_destination(s, st.id)
        assert dest is not None  # a change request is made for an approved record only
        before = DestinationOut.of(dest)
        new_type = cr.changes.get("destination_type", dest.destination_type)
        if new_type in V.UNIT_TYPES:
            base = {} if (dest.destination_type not in V.UNIT_TYPES) else dict(dest.unit or {})
            dest.unit = {**base, **(cr.changes.get("unit") or {})}
        else:
            dest.unit = None
        dest.destination_type = new_type
        dest.approved_on, dest.updated_at = today, clock.now()
        audit(s, actor, st.id, "destination", dest.id, "apply_change", before, DestinationOut.of(dest))
    elif target == T.archive:
        arch = get_archive(s, st.id)
        assert arch is not None  # a change request is made for an approved record only
        before = ArchiveOut.of(arch)
        merged = {**(arch.data or {}), **cr.changes}
        arch.data = {k: v for k, v in merged.items() if v not in (None, "", [])}
        arch.approved_on, arch.updated_at = today, clock.now()
        audit(s, actor, st.id, "archive", arch.id, "apply_change", before, ArchiveOut.of(arch))
    else:
        before = personal_of(st)
        for k, v in cr.changes.items():
            setattr(st, k, v)
        st.personal_approved_on, st.profile_updated_at = today, clock.now()
        audit(s, actor, st.id, "profile", st.id, "apply_change", before, personal_of(st))
    if st.national_confirmed_on is not None and not st.needs_reconfirm:
        st.needs_reconfirm = True
        audit(
            s,
            actor,
            st.id,
            "national",
            st.id,
            "needs_reconfirm",
            {"needs_reconfirm": False},
            {"needs_reconfirm": True},
        )
