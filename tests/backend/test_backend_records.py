"""个人信息完善, 毕业去向登记, 户档信息登记 and the two-level review: happy path, wrong state, wrong person or
role, bad input (a 422 naming the field, in Chinese, with nothing half-saved)."""

from __future__ import annotations

from tests.backend.helpers import (
    ARCHIVE,
    DESTINATION,
    PROFILE,
    UNIT,
    err,
    new_student,
    ok,
    register_and_approve,
    review,
    staff_record,
)


def fields(body: dict) -> dict:
    return {f["field"]: f for f in body["fields"]}


# --- 个人信息完善 -------------------------------------------------------------------------------------------
def test_profile(srv):
    sid = new_student(srv, profile=False)
    with srv.student(sid) as c:
        p = ok(c.get("/api/me/profile"))
        assert p["roster"]["id"] == sid and p["roster"]["college"] == "物理学院"
        assert set(p["missing"]) == set(PROFILE) and p["locked"] is False
        e = err(
            c.put("/api/me/profile", json={**PROFILE, "mobile": "12345", "email": "no-at-sign"}),
            422,
            "validation_error",
        )
        f = fields(e)
        assert f["mobile"]["code"] == "mobile_format" and "11位" in f["mobile"]["message"]
        assert f["email"]["code"] == "email_format"
        assert ok(c.get("/api/me/profile"))["personal"]["political_status"] is None  # nothing half-saved
        e = err(
            c.put(
                "/api/me/profile",
                json={**PROFILE, "emergency_contact_phone": PROFILE["mobile"], "political_status": "路人"},
            ),
            422,
            "validation_error",
        )
        assert {"emergency_contact_phone", "political_status"} <= set(fields(e))
        e = err(c.put("/api/me/profile", json={"mobile": "13800000000"}), 422, "validation_error")
        assert "political_status" in fields(e) and fields(e)["political_status"]["code"] == "required"
        p = ok(c.put("/api/me/profile", json=PROFILE))
        assert p["personal"] == PROFILE and p["missing"] == []
    with srv.staff("counselor-physics") as s:
        err(s.put("/api/me/profile", json=PROFILE), 403, "forbidden")


def test_profile_locked_after_school_approval(srv):
    sid = new_student(srv)
    register_and_approve(srv, sid)
    with srv.student(sid) as c:
        assert ok(c.get("/api/me/profile"))["locked"] is True
        e = err(
            c.put("/api/me/profile", json={**PROFILE, "political_status": "中共党员"}), 409, "wrong_state"
        )
        assert e["right_path"] == "personal_info" and "个人信息完善" in e["message"]


# --- 毕业去向登记 -------------------------------------------------------------------------------------------
def test_destination_states_and_validation(srv):
    sid = new_student(srv)
    with srv.student(sid) as c:
        d = ok(c.get("/api/me/destination"))
        assert d["state"] == "not_started" and d["step"] == 0
        err(c.post("/api/me/destination/submit"), 409, "wrong_state")
        e = err(c.put("/api/me/destination", json={"destination_type": "99"}), 422, "validation_error")
        assert fields(e)["destination_type"]["code"] == "invalid_choice"
        bad_unit = {**UNIT, "credit_code": "91110108551385082A", "industry": "挖矿", "contact_email": "x@"}
        e = err(
            c.put("/api/me/destination", json={"destination_type": "10", "unit": bad_unit}),
            422,
            "validation_error",
        )
        f = fields(e)
        assert (
            f["unit.credit_code"]["code"] == "credit_code_checksum"
            and "校验位" in f["unit.credit_code"]["message"]
        )
        assert (
            f["unit.industry"]["code"] == "invalid_choice"
            and f["unit.contact_email"]["code"] == "email_format"
        )
        assert ok(c.get("/api/me/destination"))["state"] == "not_started"  # nothing half-saved
        e = err(
            c.put("/api/me/destination", json={"destination_type": "70", "unit": UNIT}),
            422,
            "validation_error",
        )
        assert fields(e)["unit"]["code"] == "unit_not_applicable"
        err(
            c.put("/api/me/destination", json={"destination_type": "10", "unit": {"bogus": "x"}}),
            422,
            "validation_error",
        )
        d = ok(
            c.put(
                "/api/me/destination", json={"destination_type": 10, "unit": {"name": "小米科技有限责任公司"}}
            )
        )
        assert (d["state"], d["destination_type"]) == ("type_chosen", "10")
        e = err(c.post("/api/me/destination/submit"), 422, "validation_error")
        assert "unit.credit_code" in fields(e) and "unit.name" not in fields(e)
        assert ok(c.put("/api/me/destination", json=DESTINATION))["state"] == "filled"
        assert ok(c.post("/api/me/destination/submit"))["state"] == "submitted"
        err(c.post("/api/me/destination/submit"), 409, "wrong_state")
        # still editable before the counselor reviews; editing withdraws the submission
        assert ok(c.put("/api/me/destination", json=DESTINATION))["state"] == "filled"
        d = ok(c.post("/api/me/destination/submit"))
    review(srv, "destination", d["id"], "college")
    with srv.student(sid) as c:
        e = err(c.put("/api/me/destination", json=DESTINATION), 409, "wrong_state")
        assert "学校审核" in e["message"]
        err(c.post("/api/me/destination/submit"), 409, "wrong_state")


def test_non_unit_destination(srv):
    sid = new_student(srv)
    with srv.student(sid) as c:
        d = ok(c.put("/api/me/destination", json={"destination_type": "801"}))
        assert (
            d["state"] == "filled"
            and d["destination_type_label"] == "境内升学（研究生）"
            and d["unit"] is None
        )
        assert ok(c.post("/api/me/destination/submit"))["state"] == "submitted"


def test_credit_code_override_by_school_staff(srv):
    sid = new_student(srv)
    pilot = "91350100M000100Y44"  # fails the checksum, like some early pilot codes
    with srv.student(sid) as c:
        err(
            c.put(
                "/api/me/destination", json={"destination_type": "10", "unit": {**UNIT, "credit_code": pilot}}
            ),
            422,
            "validation_error",
        )
    with srv.staff("counselor-physics") as s:
        err(
            s.post(f"/api/staff/students/{sid}/credit-code-override", json={"credit_code": pilot}),
            403,
            "forbidden",
        )
    with srv.staff("school-admin") as s:
        err(
            s.post(f"/api/staff/students/{sid}/credit-code-override", json={"credit_code": "123"}),
            422,
            "validation_error",
        )
        err(
            s.post("/api/staff/students/2099999999/credit-code-override", json={"credit_code": pilot}),
            404,
            "not_found",
        )
        ok(s.post(f"/api/staff/students/{sid}/credit-code-override", json={"credit_code": pilot}))
    with srv.student(sid) as c:
        assert (
            ok(
                c.put(
                    "/api/me/destination",
                    json={"destination_type": "10", "unit": {**UNIT, "credit_code": pilot}},
                )
            )["state"]
            == "filled"
        )


# --- 户档信息登记 -------------------------------------------------------------------------------------------
def test_archive_rules(srv):
    sid = new_student(srv, name="李四")
    with srv.student(sid) as c:
        cases = [
            ({"postal_code": "200000"}, "postal_code", "postal_code_province"),
            ({"postal_code": "1000"}, "postal_code", "postal_code_format"),
            ({"address": "北京市海淀区"}, "address", "address_not_precise"),
            (
                {"address": "北京市朝阳区望京街道花家地南街8号院3号楼2单元501室", "postal_code": "100102"},
                "address",
                "address_is_home",
            ),
            ({"contact_name": "李四"}, "contact_name", "recipient_is_family"),
            ({"contact_name": PROFILE["emergency_contact_name"]}, "contact_name", "recipient_is_family"),
            ({"contact_phone": PROFILE["mobile"]}, "contact_phone", "recipient_phone_is_family"),
            ({"contact_phone": "12345"}, "contact_phone", "phone_format"),
            ({"transfer_type": "寄回家"}, "transfer_type", "invalid_choice"),
            ({"hukou_choice": "somewhere"}, "hukou_choice", "invalid_choice"),
            ({"hukou_choice": "address", "hukou_address": "北京市"}, "hukou_address", "address_not_precise"),
        ]
        for patch, field, code in cases:
            e = err(c.put("/api/me/archive", json={**ARCHIVE, **patch}), 422, "validation_error")
            assert fields(e)[field]["code"] == code, (patch, e)
            assert any("\u4e00" <= ch <= "\u9fff" for ch in fields(e)[field]["message"])
        assert ok(c.get("/api/me/archive"))["state"] == "not_started"  # nothing half-saved
        a = ok(c.put("/api/me/archive", json={"transfer_type": "签约单位接收"}))
        assert a["state"] == "type_chosen" and a["evidence_needed"] == ["就业单位调档函", "录用材料"]
        err(c.post("/api/me/archive/submit"), 409, "wrong_state")  # no destination yet
        ok(c.put("/api/me/destination", json=DESTINATION))
        e = err(c.post("/api/me/archive/submit"), 422, "validation_error")
        assert "address" in fields(e) and fields(e)["evidence"]["code"] == "evidence_required"
        a = ok(
            c.put(
                "/api/me/archive",
                json={**ARCHIVE, "hukou_choice": "address", "hukou_address": "北京市海淀区西二旗中路33号"},
            )
        )
        assert a["state"] == "filled" and a["hukou_choice_label"] == "自填具体地址"
        assert ok(c.post("/api/me/archive/submit"))["state"] == "submitted"
        err(c.post("/api/me/archive/submit"), 409, "wrong_state")
        a = ok(c.put("/api/me/archive", json=ARCHIVE))  # editable until the counselor reviews it
        assert a["state"] == "filled"
        a = ok(c.post("/api/me/archive/submit"))
    review(srv, "archive", a["id"], "college", approve=False, reason="调档函未上传")
    with srv.student(sid) as c:
        a = ok(c.put("/api/me/archive", json=ARCHIVE))  # editable again after a rejection
        assert a["state"] == "college_rejected" and a["rejection_reason"] == "调档函未上传"
        a = ok(c.post("/api/me/archive/submit"))
    review(srv, "archive", a["id"], "college")
    with srv.student(sid) as c:
        e = err(c.put("/api/me/archive", json=ARCHIVE), 409, "wrong_state")
        assert "辅导员" in e["message"]


def test_archive_undecided_needs_no_address(srv):
    sid = new_student(srv)
    with srv.student(sid) as c:
        a = ok(
            c.put(
                "/api/me/archive",
                json={
                    "transfer_type": "暂不确定",
                    "hukou_choice": "not_moved_in",
                    "hukou_transfer_type": "暂不确定",
                },
            )
        )
        assert a["state"] == "filled"


# --- two-level review --------------------------------------------------------------------------------------
def _submitted(srv, college="physics") -> tuple[str, int]:
    sid = new_student(srv, college=college)
    with srv.student(sid) as c:
        ok(c.put("/api/me/destination", json=DESTINATION))
        return sid, ok(c.post("/api/me/destination/submit"))["id"]


def ver(srv, rid: int) -> int:
    return staff_record(srv, "destination", rid)["version"]


def test_review_levels_roles_and_states(srv):
    sid, rid = _submitted(srv)
    with srv.staff("counselor-computer") as other:
        err(
            other.post(
                f"/api/staff/records/destination/{rid}/review",
                json={"approve": True, "version": ver(srv, rid)},
            ),
            404,
            "not_found",
        )
    with srv.staff("school-admin") as school:
        err(
            school.post(
                f"/api/staff/records/destination/{rid}/review",
                json={"approve": True, "version": ver(srv, rid)},
            ),
            409,
            "wrong_state",
        )
    with srv.staff("counselor-physics") as c:
        e = err(
            c.post(
                f"/api/staff/records/destination/{rid}/review",
                json={"approve": False, "version": ver(srv, rid)},
            ),
            422,
            "validation_error",
        )
        assert fields(e)["reason"]["code"] == "required"
        err(
            c.post(
                f"/api/staff/records/destination/{rid}/review",
                json={"approve": "maybe", "version": ver(srv, rid)},
            ),
            422,
            "validation_error",
        )
        err(
            c.post("/api/staff/records/destination/999999/review", json={"approve": True, "version": 1}),
            404,
            "not_found",
        )
        err(
            c.post(f"/api/staff/records/bogus/{rid}/review", json={"approve": True, "version": 1}),
            404,
            "not_found",
        )
        r = ok(
            c.post(
                f"/api/staff/records/destination/{rid}/review",
                json={"approve": True, "version": ver(srv, rid)},
            )
        )
        assert r["state"] == "college_approved" and r["college_reviewed_at"]
        err(
            c.post(
                f"/api/staff/records/destination/{rid}/review",
                json={"approve": True, "version": ver(srv, rid)},
            ),
            409,
            "wrong_state",
        )
    with srv.staff("school-admin") as school:
        r = ok(
            school.post(
                f"/api/staff/records/destination/{rid}/review",
                json={"approve": True, "version": ver(srv, rid)},
            )
        )
        assert r["state"] == "school_approved" and r["step"] == 5
        err(
            school.post(
                f"/api/staff/records/destination/{rid}/review",
                json={"approve": True, "version": ver(srv, rid)},
            ),
            409,
            "wrong_state",
        )
    with srv.student(sid) as st:
        err(
            st.post(
                f"/api/staff/records/destination/{rid}/review",
                json={"approve": True, "version": ver(srv, rid)},
            ),
            403,
            "forbidden",
        )


def test_staff_lists_are_scoped(srv):
    _submitted(srv, "physics")
    _submitted(srv, "computer")
    with srv.staff("counselor-physics") as c:
        items = ok(c.get("/api/staff/records", params={"kind": "destination", "state": "submitted"}))["items"]
        assert items and {i["college"] for i in items} == {"物理学院"}
        err(
            c.get("/api/staff/records", params={"kind": "destination", "college": "computer"}),
            404,
            "not_found",
        )
        err(c.get("/api/staff/audit", params={"student_id": "2025000005"}), 404, "not_found")  # 计算机学院
        err(c.get("/api/staff/records", params={"kind": "nope"}), 422, "validation_error")
        err(c.get("/api/staff/records", params={"kind": "destination", "limit": 0}), 422, "validation_error")
        err(c.get("/api/staff/records"), 422, "validation_error")
    with srv.staff("school-admin") as s:
        all_items = ok(s.get("/api/staff/records", params={"kind": "destination", "state": "submitted"}))
        assert {"物理学院", "计算机学院"} <= {i["college"] for i in all_items["items"]}
        only = ok(s.get("/api/staff/records", params={"kind": "destination", "college": "计算机学院"}))[
            "items"
        ]
        assert {i["college"] for i in only} == {"计算机学院"}
        page = ok(s.get("/api/staff/records", params={"kind": "destination", "limit": 1, "offset": 1}))
        assert len(page["items"]) == 1 and page["total"] >= 2
        assert ok(s.get("/api/staff/audit", params={"student_id": "2025000005"}))["total"] >= 1
        err(s.get("/api/staff/audit", params={"student_id": "2099999999"}), 404, "not_found")
