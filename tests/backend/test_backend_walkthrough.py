"""One student through the whole document, every date checked against the working-day calendar:
register, rejected, fix, approved twice, synced, confirmed, mailing, changes after confirmation, review again.
Dates cross the 2026 Spring Festival (with its Saturday make-up day), National Day 2026 (with the Saturday
make-up day after it) and the 2027 Spring Festival (beyond chinesecalendar: the estimated fallback)."""

from __future__ import annotations

import datetime as dt

import chinese_calendar

from tests.backend.helpers import ARCHIVE, DESTINATION, confirm, err, new_student, ok, review

D = dt.date


def test_calendar_facts_used_below():
    # The facts the walk relies on, straight from chinesecalendar (2026) and the fallback file (2027).
    assert chinese_calendar.is_workday(D(2026, 2, 14))  # Saturday make-up day before the Spring Festival
    assert all(chinese_calendar.is_holiday(D(2026, 2, d)) for d in range(15, 24))
    assert chinese_calendar.is_workday(D(2026, 2, 24))
    assert all(chinese_calendar.is_holiday(D(2026, 10, d)) for d in range(1, 8))
    assert chinese_calendar.is_workday(D(2026, 10, 10))  # Saturday make-up day after National Day


def status(c) -> dict:
    return ok(c.get("/api/me/status"))


def test_whole_document(srv):
    sid = new_student(srv)
    c = srv.student(sid)

    # --- 2026-02-11 (Wed): register and submit -------------------------------------------------------------
    srv.set_today(D(2026, 2, 11))
    d = ok(c.put("/api/me/destination", json={"destination_type": "10"}))
    assert (d["state"], d["step"]) == ("type_chosen", 1)
    d = ok(c.put("/api/me/destination", json=DESTINATION))
    assert (d["state"], d["step"]) == ("filled", 2)
    d = ok(c.post("/api/me/destination/submit"))
    assert (d["state"], d["step"]) == ("submitted", 3)
    assert d["submitted_at"].startswith("2026-02-11T") and d["submitted_at"].endswith("+08:00")
    ok(c.put("/api/me/archive", json=ARCHIVE))
    a = ok(c.post("/api/me/archive/submit"))
    assert a["state"] == "submitted"

    # --- 2026-02-12: college approves, school rejects with a reason; the student fixes and resubmits -------
    srv.set_today(D(2026, 2, 12))
    review(srv, "destination", d["id"], "college")
    r = review(srv, "destination", d["id"], "school", approve=False, reason="组织机构代码与单位名称不一致")
    assert r["state"] == "school_rejected" and r["rejection_reason"] == "组织机构代码与单位名称不一致"
    s = status(c)
    assert s["destination"]["state"] == "school_rejected"
    assert s["destination"]["rejection_reason"] == "组织机构代码与单位名称不一致"
    fixed = {**DESTINATION, "unit": {**DESTINATION["unit"], "remark": "已核对营业执照"}}
    assert (
        ok(c.put("/api/me/destination", json=fixed))["state"] == "school_rejected"
    )  # still shows the reason
    d = ok(c.post("/api/me/destination/submit"))
    assert d["state"] == "submitted" and d["rejection_reason"] is None
    review(srv, "destination", d["id"], "college")
    review(srv, "archive", a["id"], "college")
    assert err(
        c.put("/api/me/archive", json=ARCHIVE), 409, "wrong_state"
    )  # locked once the counselor reviewed

    # --- 2026-02-13 (Fri): school approves both -> synced on the Saturday make-up day 2026-02-14 ------------
    srv.set_today(D(2026, 2, 13))
    review(srv, "destination", d["id"], "school")
    review(srv, "archive", a["id"], "school")
    s = status(c)
    assert s["destination"]["step"] == 5 and s["archive"]["step"] == 5
    assert s["sync"] == {
        "both_approved_on": "2026-02-13",
        "sync_date": "2026-02-14",
        "synced": False,
        "estimated": False,
    }
    err(confirm(srv, sid), 409, "wrong_state")  # not on the national platform yet

    # --- 2026-02-14 (Sat, make-up working day): synced; confirmed on the national platform ----------------
    srv.set_today(D(2026, 2, 14))
    assert status(c)["sync"]["synced"] is True
    ok(confirm(srv, sid))
    s = status(c)
    assert s["national"] == {"confirmed": True, "confirmed_on": "2026-02-14", "needs_reconfirm": False}
    # one working day after 2026-02-14 is 2026-02-24 (Spring Festival 02-15..02-23)
    assert s["mailing"]["eligible"] is False and s["mailing"]["reason"] == "too_early"
    assert s["mailing"]["eligible_from"] == "2026-02-24"

    srv.set_today(D(2026, 2, 20))
    e = err(c.post("/api/me/mailing", headers={"Idempotency-Key": "k1"}), 409, "not_eligible")
    assert e["reason"] == "too_early" and e["eligible_from"] == "2026-02-24" and "2026-02-24" in e["message"]

    # --- 2026-02-24: mailing request; a repeat is answered "already submitted"; shipped and delivered ------
    srv.set_today(D(2026, 2, 24))
    m = ok(c.get("/api/me/mailing"))
    assert m["eligibility"]["eligible"] is True and m["archive"]["address"] == ARCHIVE["address"]
    created = ok(c.post("/api/me/mailing", headers={"Idempotency-Key": "k2"}), 201)
    assert created["already_submitted"] is False
    again = ok(c.post("/api/me/mailing", headers={"Idempotency-Key": "k3"}), 200)
    assert again["already_submitted"] is True and again["request"]["id"] == created["request"]["id"]
    with srv.staff("counselor-physics") as staff:
        ok(
            staff.post(
                f"/api/staff/mailing/{created['request']['id']}/ship", json={"ems_no": "1151234567890"}
            )
        )
        ok(staff.post(f"/api/staff/mailing/{created['request']['id']}/deliver"))
    s = status(c)
    assert (
        s["mailing"]["request"]["state"] == "delivered"
        and s["mailing"]["request"]["ems_no"] == "1151234567890"
    )

    # --- 2026-09-29: a change after confirmation (unit address), reviewed around National Day -------------
    srv.set_today(D(2026, 9, 29))
    new_addr = {"address": "北京市海淀区安宁庄路6号小米科技园", "contact_phone": "010-60606667"}
    e = err(
        c.post(
            "/api/me/change-requests",
            json={"kind": "destination_edit", "changes": {"unit": {"name": "小米通讯技术有限公司"}}},
        ),
        409,
        "wrong_change_path",
    )
    assert e["right_path"] == "unit_change" and "改签申请（单位变更）" in e["message"]
    cr = ok(
        c.post("/api/me/change-requests", json={"kind": "destination_edit", "changes": {"unit": new_addr}}),
        201,
    )
    assert status(c)["pending_changes"][0]["kind"] == "destination_edit"
    review(srv, "change", cr["id"], "college")
    srv.set_today(D(2026, 9, 30))
    assert review(srv, "change", cr["id"], "school")["state"] == "school_approved"
    s = status(c)
    assert ok(c.get("/api/me/destination"))["unit"]["address"] == new_addr["address"]
    assert s["national"]["needs_reconfirm"] is True and s["national"]["confirmed"] is False
    assert s["sync"]["both_approved_on"] == "2026-09-30"
    assert s["sync"]["sync_date"] == "2026-10-08"  # National Day 10-01..10-07
    srv.set_today(D(2026, 10, 5))
    assert status(c)["sync"]["synced"] is False
    err(confirm(srv, sid), 409, "wrong_state")
    srv.set_today(D(2026, 10, 9))
    err(confirm(srv, sid, D(2026, 10, 7)), 422, "validation_error")  # before the sync date
    ok(confirm(srv, sid))
    s = status(c)
    assert s["national"] == {"confirmed": True, "confirmed_on": "2026-10-09", "needs_reconfirm": False}
    assert s["mailing"]["eligible_from"] == "2026-10-10"  # the Saturday make-up working day

    # --- 2027-02-03: 改签 to another employer, reviewed before the 2027 Spring Festival (estimated) --------
    srv.set_today(D(2027, 2, 3))
    new_unit = {"name": "北京字节跳动科技有限公司", "credit_code": "91110108MA0000001X"}
    e = err(
        c.post("/api/me/change-requests", json={"kind": "unit_change", "changes": {"unit": new_unit}}),
        422,
        "validation_error",
    )
    assert e["fields"][0]["field"] == "unit.credit_code"
    new_unit["credit_code"] = _valid_code("91110108MA000000")
    cr = ok(
        c.post("/api/me/change-requests", json={"kind": "unit_change", "changes": {"unit": new_unit}}), 201
    )
    review(srv, "change", cr["id"], "college")
    rej = review(srv, "change", cr["id"], "school", approve=False, reason="请上传新单位的录用材料")
    assert rej["state"] == "school_rejected"
    cr = ok(
        c.post("/api/me/change-requests", json={"kind": "unit_change", "changes": {"unit": new_unit}}), 201
    )
    review(srv, "change", cr["id"], "college")
    srv.set_today(D(2027, 2, 4))
    review(srv, "change", cr["id"], "school")
    s = status(c)
    assert ok(c.get("/api/me/destination"))["unit"]["name"] == "北京字节跳动科技有限公司"
    # 2027-02-05 and 02-08..02-12 are (estimated) Spring Festival days off: next working day is 02-15
    assert s["sync"] == {
        "both_approved_on": "2027-02-04",
        "sync_date": "2027-02-15",
        "synced": False,
        "estimated": True,
    }
    srv.set_today(D(2027, 2, 10))
    err(confirm(srv, sid), 409, "wrong_state")
    srv.set_today(D(2027, 2, 15))
    ok(confirm(srv, sid))
    s = status(c)
    assert s["national"] == {"confirmed": True, "confirmed_on": "2027-02-15", "needs_reconfirm": False}
    assert s["mailing"]["eligible_from"] == "2027-02-16" and s["mailing"]["estimated"] is True
    assert s["mailing"]["reason"] == "already_requested"

    # --- every state change is in the audit log, with who / when / before / after ------------------------
    with srv.staff("school-admin") as staff:
        log = ok(staff.get("/api/staff/audit", params={"student_id": sid}))["items"]
    actions = [(e["entity"], e["action"]) for e in log]
    for expected in [
        ("destination", "submit"),
        ("destination", "reject"),
        ("destination", "approve"),
        ("archive", "approve"),
        ("national", "confirm"),
        ("mailing", "create"),
        ("mailing", "ship"),
        ("mailing", "deliver"),
        ("change_request", "create"),
        ("destination", "apply_change"),
        ("national", "needs_reconfirm"),
    ]:
        assert expected in actions, expected
    days_used = {
        "2026-02-11",
        "2026-02-12",
        "2026-02-13",
        "2026-02-14",
        "2026-02-20",
        "2026-02-24",
        "2026-09-29",
        "2026-09-30",
        "2026-10-05",
        "2026-10-09",
        "2027-02-03",
        "2027-02-04",
        "2027-02-10",
        "2027-02-15",
    }
    assert {e["at"][:10] for e in log} <= days_used | {"2026-11-30"}  # every timestamp on the pinned day
    rej_entry = next(e for e in log if e["action"] == "reject" and e["entity"] == "destination")
    assert rej_entry["actor_id"] == "school-admin" and rej_entry["at"].startswith("2026-02-12")
    assert (
        rej_entry["before"]["state"] == "college_approved"
        and rej_entry["after"]["state"] == "school_rejected"
    )
    c.close()


def _valid_code(first16: str) -> str:
    from backend.validators import credit_code_check_char

    first17 = first16 + "1"
    return first17 + credit_code_check_char(first17)
