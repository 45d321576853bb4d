"""Sync to the national platform, the national confirmation, and the status the assistant reads."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from backend import models as M
from backend import workdays
from backend.core import clock
from backend.core.auth import Principal
from backend.core.errors import invalid, wrong_state
from backend.schemas import StatusOut, SummaryOut, ds
from backend.services import notice_events as notices
from backend.services.changes import open_changes
from backend.services.common import audit, lock_student
from backend.services.mailing import active_mailing, eligibility, mailing_out
from backend.services.records import get_archive, get_destination
from backend.validators import FieldError
from contracts import vocabulary as V


def sync_info(st: M.Student, dest: M.Destination | None, arch: M.Archive | None) -> dict:
    approved = V.RecordState.school_approved
    if not (
        dest
        and arch
        and dest.state == approved
        and arch.state == approved
        and dest.approved_on
        and arch.approved_on
    ):
        return {"both_approved_on": None, "sync_date": None, "synced": False, "estimated": False}
    basis = max(d for d in (dest.approved_on, arch.approved_on, st.personal_approved_on) if d)
    sync_date, est = workdays.next_workday_info(basis)
    return {
        "both_approved_on": basis.isoformat(),
        "sync_date": sync_date.isoformat(),
        "synced": clock.today() >= sync_date,
        "estimated": est,
    }


def national_view(st: M.Student) -> dict:
    return {
        "confirmed": st.national_confirmed_on is not None and not st.needs_reconfirm,
        "confirmed_on": ds(st.national_confirmed_on),
        "needs_reconfirm": st.needs_reconfirm,
    }


def confirm_national(s: Session, student_id: str, confirmed_on: dt.date | None, actor: Principal) -> dict:
    st = lock_student(s, student_id)
    sync = sync_info(st, get_destination(s, st.id), get_archive(s, st.id))
    today = clock.today()
    if not sync["sync_date"]:
        raise wrong_state("该生的毕业去向或户档信息尚未经学校审核通过，国家平台上还没有可确认的信息。")
    if not sync["synced"]:
        raise wrong_state(f"信息将于{sync['sync_date']}同步至国家平台，同步前不能确认。")
    if st.national_confirmed_on and not st.needs_reconfirm:
        raise wrong_state(
            f"该生已于{st.national_confirmed_on.isoformat()}在国家平台确认，当前信息无需再次确认。"
        )
    on = confirmed_on or today
    if on > today:
        raise invalid([FieldError("confirmed_on", "date_in_future", "确认日期不能晚于今天。")])
    if on < dt.date.fromisoformat(sync["sync_date"]):
        raise invalid(
            [
                FieldError(
                    "confirmed_on",
                    "date_before_sync",
                    f"确认日期不能早于信息同步至国家平台的日期{sync['sync_date']}。",
                )
            ]
        )
    before = national_view(st)
    st.national_confirmed_on, st.needs_reconfirm = on, False
    audit(s, actor, st.id, "national", st.id, "confirm", before, national_view(st))
    notices.on_national_confirmed(s, st, workdays.next_workday_info(on)[0].isoformat())  # same transaction
    s.commit()
    return {"student_id": st.id, **national_view(st)}


def status(s: Session, st: M.Student) -> StatusOut:
    dest, arch = get_destination(s, st.id), get_archive(s, st.id)
    return StatusOut.model_validate(
        {
            "student": {"id": st.id, "name": st.name, "college": st.college.name},
            "today": clock.today().isoformat(),
            "destination": SummaryOut.of(dest),
            "archive": SummaryOut.of(arch),
            "sync": sync_info(st, dest, arch),
            "national": national_view(st),
            "mailing": {**eligibility(s, st), "request": mailing_out(active_mailing(s, st.id))},
            "pending_changes": [
                {
                    "id": c.id,
                    "kind": c.kind,
                    "kind_label": V.CHANGE_KINDS[c.kind],
                    "state": c.state,
                    "state_label": V.CHANGE_STATE_LABELS[c.state],
                }
                for c in open_changes(s, st.id)
            ],
        }
    )
