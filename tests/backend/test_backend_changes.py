"""The four change paths: each a request with its own review; a change sent down the wrong path is refused
with an error naming the right one; an approved change needs a new sync and a new national confirmation."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.backend.helpers import (
    BASE_TODAY,
    DESTINATION,
    confirm,
    err,
    new_student,
    ok,
    register_and_approve,
    review,
    staff_record,
)


def post(c, kind, changes):
    return c.post("/api/me/change-requests", json={"kind": kind, "changes": changes})


@pytest.fixture
def approved(srv):
    sid = new_student(srv)
    register_and_approve(srv, sid)
    return sid


def test_not_reviewed_yet_means_edit_directly(srv):
    sid = new_student(srv)
    with srv.student(sid) as c:
        ok(c.put("/api/me/destination", json=DESTINATION))
        e = err(
            post(c, "destination_edit", {"unit": {"address": "北京市海淀区安宁庄路6号"}}), 409, "wrong_state"
        )
        assert "毕业去向登记" in e["message"]
        err(post(c, "archive_edit", {"postal_code": "100086"}), 409, "wrong_state")
        err(post(c, "personal_info", {"political_status": "中共党员"}), 409, "wrong_state")


@pytest.mark.parametrize(
    "kind,changes,right",
    [
        ("destination_edit", {"unit": {"name": "华为技术有限公司"}}, "unit_change"),
        ("destination_edit", {"destination_type": "11"}, "unit_change"),
        ("unit_change", {"unit": {"address": "北京市海淀区安宁庄路6号"}}, "destination_edit"),
        ("archive_edit", {"unit": {"contact_name": "张老师"}}, "destination_edit"),
        ("archive_edit", {"destination_type": "70"}, "unit_change"),
        ("personal_info", {"postal_code": "100086"}, "archive_edit"),
        ("destination_edit", {"political_status": "中共党员"}, "personal_info"),
        ("unit_change", {"address": "北京市海淀区安宁庄路6号"}, "archive_edit"),
    ],
)
def test_wrong_path_names_the_right_one(srv, approved, kind, changes, right):
    labels = {
        "unit_change": "改签申请（单位变更）",
        "destination_edit": "毕业去向修改（单位不变）",
        "archive_edit": "户档信息修改",
        "personal_info": "个人信息完善",
    }
    with srv.student(approved) as c:
        e = err(post(c, kind, changes), 409, "wrong_change_path")
        assert e["right_path"] == right and labels[right] in e["message"]
        assert ok(c.get("/api/me/change-requests"))["items"] == []


def test_bad_change_input(srv, approved):
    with srv.student(approved) as c:
        err(post(c, "rename_me", {"political_status": "中共党员"}), 422, "validation_error")
        err(post(c, "personal_info", {}), 422, "validation_error")
        err(post(c, "personal_info", {"shoe_size": "42"}), 422, "validation_error")
        e = err(post(c, "personal_info", {"email": "bad"}), 422, "validation_error")
        assert e["fields"][0]["field"] == "email"
        e = err(post(c, "archive_edit", {"postal_code": "200000"}), 422, "validation_error")
        assert e["fields"][0]["code"] == "postal_code_province"
        err(post(c, "personal_info", {"political_status": "共青团员"}), 422, "validation_error")  # no change
        err(c.post("/api/me/change-requests", json={"kind": "personal_info"}), 422, "validation_error")
    with srv.staff("school-admin") as s:
        err(post(s, "personal_info", {"political_status": "中共党员"}), 403, "forbidden")


def test_change_review_apply_and_reconfirm(srv, approved):
    sid = approved
    srv.set_today(BASE_TODAY + dt.timedelta(days=1))  # Tue: synced (approved Mon)
    ok(confirm(srv, sid))
    with srv.student(sid) as c:
        cr = ok(post(c, "personal_info", {"political_status": "中共预备党员"}), 201)
        assert cr["state"] == "submitted" and cr["before"] == {"political_status": "共青团员"}
        a = ok(
            post(
                c, "archive_edit", {"address": "北京市海淀区安宁庄路6号小米科技园", "contact_name": "刘老师"}
            ),
            201,
        )
        err(post(c, "archive_edit", {"contact_name": "赵老师"}), 409, "wrong_state")  # one open per record
        s = ok(c.get("/api/me/status"))
        assert {p["kind"] for p in s["pending_changes"]} == {"personal_info", "archive_edit"}
        assert s["mailing"]["reason"] == "change_pending"
    with srv.staff("counselor-computer") as other:
        err(
            other.post(f"/api/staff/records/change/{cr['id']}/review", json={"approve": True, "version": 1}),
            404,
            "not_found",
        )  # another college's record looks like no record (issue 21 §11)
    review(srv, "change", a["id"], "college")
    review(srv, "change", cr["id"], "college", approve=False, reason="请上传入党材料")
    srv.set_today(BASE_TODAY + dt.timedelta(days=2))  # Wed
    err_r = None
    with srv.staff("school-admin") as s:
        err_r = s.post(
            f"/api/staff/records/change/{cr['id']}/review",
            json={"approve": True, "version": staff_record(srv, "change", cr["id"])["version"]},
        )
    err(err_r, 409, "wrong_state")  # rejected by the college: nothing for the school to review
    applied = review(srv, "change", a["id"], "school")
    assert applied["state"] == "school_approved"
    with srv.student(sid) as c:
        arch = ok(c.get("/api/me/archive"))
        assert arch["contact_name"] == "刘老师" and arch["state"] == "school_approved"
        s = ok(c.get("/api/me/status"))
        assert s["national"]["needs_reconfirm"] is True and s["mailing"]["reason"] == "needs_reconfirm"
        assert s["sync"]["both_approved_on"] == "2026-12-02" and s["sync"]["sync_date"] == "2026-12-03"
        assert s["sync"]["synced"] is False
        # the rejected personal_info request can be filed again
        again = ok(post(c, "personal_info", {"political_status": "中共预备党员"}), 201)
        mine = ok(c.get("/api/me/change-requests"))["items"]
        assert [m["state"] for m in mine] == ["college_rejected", "school_approved", "submitted"]
        assert mine[0]["rejection_reason"] == "请上传入党材料"
    review(srv, "change", again["id"], "college")
    review(srv, "change", again["id"], "school")
    with srv.student(sid) as c:
        assert ok(c.get("/api/me/profile"))["personal"]["political_status"] == "中共预备党员"
    err(confirm(srv, sid), 409, "wrong_state")  # not synced yet
    srv.set_today(BASE_TODAY + dt.timedelta(days=3))
    ok(confirm(srv, sid))


def test_unit_change_to_non_unit_type_and_back(srv, approved):
    with srv.student(approved) as c:
        cr = ok(post(c, "unit_change", {"destination_type": "801"}), 201)
    review(srv, "change", cr["id"], "college")
    review(srv, "change", cr["id"], "school")
    with srv.student(approved) as c:
        d = ok(c.get("/api/me/destination"))
        assert d["destination_type"] == "801" and d["unit"] is None
        e = err(
            post(c, "unit_change", {"destination_type": "10", "unit": {"name": "小米科技有限责任公司"}}),
            422,
            "validation_error",
        )
        assert "unit.credit_code" in {f["field"] for f in e["fields"]}
        ok(post(c, "unit_change", DESTINATION), 201)
