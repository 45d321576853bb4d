"""Bad input never gives a 500: odd characters, huge numbers, long strings, wrong JSON shapes."""

from __future__ import annotations

from tests.backend.helpers import PROFILE, err, new_student, ok


def test_hostile_input(srv):
    sid = new_student(srv)
    with srv.student(sid) as c:
        e = err(c.put("/api/me/profile", json={**PROFILE, "class_name": "1班\x00"}), 422, "validation_error")
        assert "控制字符" in e["message"]
        err(c.put("/api/me/profile", json={**PROFILE, "counselor_name": "李" * 80}), 422, "validation_error")
        err(
            c.put("/api/me/profile", json={**PROFILE, "mobile": "１３８１２３４５６７８"}),
            422,
            "validation_error",
        )
        e = err(
            c.put("/api/me/destination", json={"destination_type": "10", "unit": "小米"}),
            422,
            "validation_error",
        )
        assert e["fields"][0]["field"] == "unit" and "单位信息" in e["fields"][0]["message"]
        err(c.put("/api/me/archive", json={"evidence": "录取通知书"}), 422, "validation_error")
        err(c.put("/api/me/archive", json={"address": "北京市" * 200}), 422, "validation_error")
        err(
            c.post("/api/me/change-requests", json={"kind": "personal_info", "changes": ["x"]}),
            422,
            "validation_error",
        )
        err(
            c.post("/api/me/change-requests", json={"kind": "destination_edit", "changes": {"unit": "x"}}),
            422,
            "validation_error",
        )
        err(c.post("/api/me/mailing", headers={"Idempotency-Key": "k" * 500}), 422, "validation_error")
        assert ok(c.get("/api/me/profile"))["personal"] == PROFILE  # nothing half-saved
    with srv.staff("school-admin") as s:
        err(
            s.post(f"/api/staff/records/destination/{10**20}/review", json={"approve": True, "version": 1}),
            422,
            "validation_error",
        )
        err(
            s.post("/api/staff/records/destination/1/review", json={"approve": True, "version": 10**20}),
            422,
            "validation_error",
        )
        err(s.post("/api/staff/mailing/-1/ship", json={"ems_no": "1151234567890"}), 422, "validation_error")
        err(
            s.post(
                "/api/staff/records/destination/1/review",
                json={"approve": False, "reason": "a\x00", "version": 1},
            ),
            422,
            "validation_error",
        )
        err(
            s.get("/api/staff/records", params={"kind": "destination", "state": "x\x00"}),
            422,
            "validation_error",
        )
        err(
            s.get("/api/staff/records", params={"kind": "destination", "offset": 10**30}),
            422,
            "validation_error",
        )
        ok(s.get("/api/staff/records", params={"kind": "destination", "state": "不存在的状态" * 20}))
        err(s.get("/api/staff/audit", params={"student_id": "9" * 300}), 404, "not_found")
    with srv.client() as c:
        err(c.post("/api/auth/dev-login", json={"student_id": "9" * 5000}), 404, "not_found")
        err(c.post("/api/auth/dev-login", json={"student_id": "\x00"}), 422, "validation_error")
        err(c.get("/api/calendar/next-workday", params={"date": "9999-12-31"}), 422, "validation_error")
        err(c.get("/api/calendar/next-workday", params={"date": "0001-01-01"}), 422, "validation_error")
        ok(c.post("/api/validation/destination", json={"destination_type": ["10"], "unit": 5}))
        ok(c.post("/api/validation/archive", json={"evidence": [1, 2], "postal_code": 100081}))
        ok(c.post("/api/validation/profile", json={"mobile": None, "email": 5}))
