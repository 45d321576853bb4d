"""档案邮寄申请: eligibility (archive approved, national confirmation at least one working day old), the
archive details to confirm, exactly one active request per student even under concurrent retries, shipping and
delivery."""

from __future__ import annotations

import datetime as dt
from concurrent.futures import ThreadPoolExecutor

import httpx

from tests.backend.helpers import (
    ARCHIVE,
    BASE_TODAY,
    confirm,
    eligible_student,
    err,
    new_student,
    ok,
    register_and_approve,
    review,
)

TUE, WED = BASE_TODAY + dt.timedelta(days=1), BASE_TODAY + dt.timedelta(days=2)


def test_eligibility_reasons(srv):
    sid = new_student(srv)
    with srv.student(sid) as c:
        m = ok(c.get("/api/me/mailing"))
        assert m["request"] is None and m["archive"] is None
        assert m["eligibility"]["reason"] == "archive_not_approved"
        e = err(c.post("/api/me/mailing"), 409, "not_eligible")
        assert e["reason"] == "archive_not_approved" and "户档信息" in e["message"]
    register_and_approve(srv, sid)
    with srv.student(sid) as c:
        e = err(c.post("/api/me/mailing"), 409, "not_eligible")
        assert e["reason"] == "not_confirmed" and "国家平台" in e["message"]
        srv.set_today(TUE)
        ok(confirm(srv, sid))
        e = err(c.post("/api/me/mailing"), 409, "not_eligible")
        assert e["reason"] == "too_early" and e["eligible_from"] == "2026-12-02"
        srv.set_today(WED)
        m = ok(c.get("/api/me/mailing"))
        assert m["eligibility"]["eligible"] is True and m["eligibility"]["reason"] is None
        a = m["archive"]
        assert (a["transfer_type"], a["address"], a["postal_code"], a["contact_name"]) == (
            ARCHIVE["transfer_type"],
            ARCHIVE["address"],
            ARCHIVE["postal_code"],
            ARCHIVE["contact_name"],
        )
        assert a["hukou_choice_label"] == "户口未迁入学校"
        err(c.post("/api/me/mailing", headers={"Idempotency-Key": "x" * 101}), 422, "validation_error")
    with srv.staff("school-admin") as s:
        err(s.post("/api/me/mailing"), 403, "forbidden")


def test_twenty_concurrent_identical_submissions_create_one_request(srv):
    sid = eligible_student(srv)
    token = srv.token(student_id=sid)

    def submit(_):
        with httpx.Client(base_url=srv.base, timeout=60, trust_env=False) as c:
            return c.post(
                "/api/me/mailing", headers={"Authorization": f"Bearer {token}", "Idempotency-Key": "same"}
            )

    with ThreadPoolExecutor(20) as pool:
        results = list(pool.map(submit, range(20)))
    codes = sorted(r.status_code for r in results)
    assert codes == [200] * 19 + [201], [r.text for r in results if r.status_code not in (200, 201)]
    ids = {r.json()["request"]["id"] for r in results}
    assert len(ids) == 1
    assert sum(1 for r in results if r.json()["already_submitted"]) == 19
    with srv.staff("school-admin") as s:
        mine = [
            m
            for m in ok(s.get("/api/staff/mailing", params={"limit": 500}))["items"]
            if m["student_id"] == sid
        ]
        assert len(mine) == 1
        creates = [
            a
            for a in ok(s.get("/api/staff/audit", params={"student_id": sid}))["items"]
            if a["entity"] == "mailing"
        ]
        assert len(creates) == 1


def test_twenty_concurrent_submissions_with_different_keys(srv):
    sid = eligible_student(srv)
    token = srv.token(student_id=sid)

    def submit(i):
        with httpx.Client(base_url=srv.base, timeout=60, trust_env=False) as c:
            return c.post(
                "/api/me/mailing", headers={"Authorization": f"Bearer {token}", "Idempotency-Key": f"k{i}"}
            )

    with ThreadPoolExecutor(20) as pool:
        results = list(pool.map(submit, range(20)))
    assert sorted(r.status_code for r in results) == [200] * 19 + [201], [r.text for r in results]
    assert len({r.json()["request"]["id"] for r in results}) == 1


def test_ship_and_deliver(srv):
    sid = eligible_student(srv)
    with srv.student(sid) as c:
        mid = ok(c.post("/api/me/mailing", headers={"Idempotency-Key": "a"}), 201)["request"]["id"]
    with srv.staff("counselor-computer") as other:
        err(other.post(f"/api/staff/mailing/{mid}/ship", json={"ems_no": "1151234567890"}), 404, "not_found")
        assert all(m["student_id"] != sid for m in ok(other.get("/api/staff/mailing"))["items"])
    with srv.student(sid) as c:
        err(c.post(f"/api/staff/mailing/{mid}/ship", json={"ems_no": "1151234567890"}), 403, "forbidden")
    with srv.staff("counselor-physics") as s:
        err(s.post(f"/api/staff/mailing/{mid}/deliver"), 409, "wrong_state")
        e = err(s.post(f"/api/staff/mailing/{mid}/ship", json={"ems_no": "12AB"}), 422, "validation_error")
        assert e["fields"][0]["field"] == "ems_no"
        err(s.post(f"/api/staff/mailing/{mid}/ship", json={}), 422, "validation_error")
        err(s.post("/api/staff/mailing/999999/ship", json={"ems_no": "1151234567890"}), 404, "not_found")
        shipped = ok(s.post(f"/api/staff/mailing/{mid}/ship", json={"ems_no": "1151234567890"}))
        assert shipped["state"] == "shipped" and shipped["ems_no"] == "1151234567890"
        err(s.post(f"/api/staff/mailing/{mid}/ship", json={"ems_no": "1151234567891"}), 409, "wrong_state")
        assert ok(s.get("/api/staff/mailing", params={"state": "shipped"}))["total"] >= 1
    with srv.student(sid) as c:
        st = ok(c.get("/api/me/status"))["mailing"]
        assert st["request"]["state"] == "shipped" and st["request"]["ems_no"] == "1151234567890"
        assert st["reason"] == "already_requested"
    with srv.staff("school-admin") as s:
        assert ok(s.post(f"/api/staff/mailing/{mid}/deliver"))["state"] == "delivered"
        err(s.post(f"/api/staff/mailing/{mid}/deliver"), 409, "wrong_state")


def test_change_after_confirmation_blocks_mailing_until_reconfirmed(srv):
    sid = eligible_student(srv)
    with srv.student(sid) as c:
        cr = ok(
            c.post(
                "/api/me/change-requests",
                json={"kind": "archive_edit", "changes": {"contact_name": "刘老师"}},
            ),
            201,
        )
        assert err(c.post("/api/me/mailing"), 409, "not_eligible")["reason"] == "change_pending"
    review(srv, "change", cr["id"], "college")
    review(srv, "change", cr["id"], "school")  # approved Wed -> synced Thu
    with srv.student(sid) as c:
        assert err(c.post("/api/me/mailing"), 409, "not_eligible")["reason"] == "needs_reconfirm"
        srv.set_today(WED + dt.timedelta(days=1))
        ok(confirm(srv, sid))
        assert err(c.post("/api/me/mailing"), 409, "not_eligible")["reason"] == "too_early"
        srv.set_today(WED + dt.timedelta(days=2))
        m = ok(c.post("/api/me/mailing"), 201)
        assert m["request"]["archive"]["contact_name"] == "刘老师"  # the details as confirmed
