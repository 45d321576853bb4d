"""Public endpoints, form validation without saving, contacts, the calendar, the national-platform and WeChat
integrations, OpenAPI."""

from __future__ import annotations

import datetime as dt
import re

from tests.backend.helpers import (
    BASE_TODAY,
    INTEGRATION_KEY,
    UNIT,
    confirm,
    err,
    new_student,
    ok,
    register_and_approve,
)


def test_health_docs_openapi(srv):
    with srv.client() as c:
        assert ok(c.get("/api/health")) == {"status": "ok"}
        assert c.get("/docs").status_code == 200
        paths = ok(c.get("/openapi.json"))["paths"]
        for p in (
            "/api/me/status",
            "/api/me/mailing",
            "/api/staff/records/{kind}/{rid}/review",
            "/api/integration/national/confirmations",
            "/api/auth/dev-login",
        ):
            assert p in paths
        err(c.get("/api/nothing-here"), 404, "not_found")
        assert c.delete("/api/health").status_code == 405


def test_contacts(srv):
    with srv.client() as c:
        body = ok(c.get("/api/contacts"))
        assert body["general"]["phone"]
        physics = next(x for x in body["colleges"] if x["college"] == "物理学院")
        assert physics["name"] and physics["phone"] and physics["email"] and physics["office_hours"]
    with srv.student("2025000005") as c:
        assert ok(c.get("/api/me/contact"))["college"] == "计算机学院"
    with srv.client() as c:
        err(c.get("/api/me/contact"), 401, "not_authenticated")
    with srv.staff("school-admin") as c:
        err(c.get("/api/me/contact"), 403, "forbidden")


def test_calendar(srv):
    with srv.client() as c:
        r = ok(c.get("/api/calendar/next-workday", params={"date": "2026-09-30"}))
        assert r == {
            "date": "2026-09-30",
            "is_workday": True,
            "next_workday": "2026-10-08",
            "estimated": False,
            "note": None,
        }
        r = ok(c.get("/api/calendar/next-workday", params={"date": "2027-09-30"}))
        assert r["next_workday"] == "2027-10-08" and r["estimated"] is True and "预估" in r["note"]
        assert ok(c.get("/api/calendar/next-workday"))["date"] == BASE_TODAY.isoformat()
        e = err(c.get("/api/calendar/next-workday", params={"date": "2026-13-01"}), 422, "validation_error")
        assert e["fields"][0]["field"] == "date"


def test_validation_endpoint(srv):
    sid = new_student(srv, name="王五")
    with srv.client() as c:
        assert ok(c.post("/api/validation/profile", json={"mobile": "13812345678"})) == {
            "ok": True,
            "fields": [],
        }
        r = ok(c.post("/api/validation/profile", json={"mobile": "1381234"}))
        assert r["ok"] is False and r["fields"][0]["field"] == "mobile"
        r = ok(c.post("/api/validation/profile", json={"shoe": "42"}))
        assert r["fields"][0]["code"] == "unknown_field"
        r = ok(
            c.post(
                "/api/validation/destination",
                json={"destination_type": "10", "unit": {"credit_code": "91350100M000100Y44"}},
            )
        )
        assert r["fields"][0]["code"] == "credit_code_checksum"
        assert ok(c.post("/api/validation/destination", json={"destination_type": "10", "unit": UNIT}))["ok"]
        r = ok(
            c.post(
                "/api/validation/archive",
                json={"postal_code": "200000", "address": "北京市海淀区颐和园路5号"},
            )
        )
        assert r["fields"][0]["code"] == "postal_code_province"
        err(c.post("/api/validation/unknown", json={}), 404, "not_found")
        err(c.post("/api/validation/profile", json=[1, 2]), 422, "validation_error")
    with srv.student(sid) as c:  # with a token, the rules that need the student apply
        r = ok(c.post("/api/validation/archive", json={"contact_name": "王五"}))
        assert r["fields"][0]["code"] == "recipient_is_family"
        # nothing was saved
        assert ok(c.get("/api/me/archive"))["state"] == "not_started"


def test_categories(srv):
    with srv.client() as c:
        body = ok(c.get("/api/categories"))
        assert body["destination_types"]["10"] == "签就业协议形式就业" and len(body["archive_types"]) == 7
        assert body["archive_types"]["升学外单位接收"]["evidence"] == ["录取通知书"]


def test_national_confirmation_endpoint(srv):
    sid = new_student(srv)
    with srv.client() as c:
        url = "/api/integration/national/confirmations"
        err(c.post(url, json={"student_id": sid}), 401, "not_authenticated")
        err(
            c.post(url, json={"student_id": sid}, headers={"X-Integration-Key": "wrong"}),
            401,
            "not_authenticated",
        )
        key = {"X-Integration-Key": INTEGRATION_KEY}
        err(c.post(url, json={"student_id": "2099999999"}, headers=key), 404, "not_found")
        err(
            c.post(url, json={"student_id": sid, "confirmed_on": "yesterday"}, headers=key),
            422,
            "validation_error",
        )
        err(c.post(url, json={}, headers=key), 422, "validation_error")
        err(c.post(url, json={"student_id": sid}, headers=key), 409, "wrong_state")  # nothing approved
    # a student token is not an integration key
    with srv.student(sid) as st:
        err(
            st.post("/api/integration/national/confirmations", json={"student_id": sid}),
            401,
            "not_authenticated",
        )
    register_and_approve(srv, sid)
    err(confirm(srv, sid), 409, "wrong_state")  # approved today, synced the next working day
    srv.set_today(BASE_TODAY + dt.timedelta(days=1))
    err(confirm(srv, sid, BASE_TODAY + dt.timedelta(days=2)), 422, "validation_error")  # in the future
    body = ok(confirm(srv, sid))
    assert body == {
        "student_id": sid,
        "confirmed": True,
        "confirmed_on": "2026-12-01",
        "needs_reconfirm": False,
    }
    err(confirm(srv, sid), 409, "wrong_state")  # already confirmed


def test_confirm_command(srv):
    sid = new_student(srv)
    register_and_approve(srv, sid)
    r = srv.cli("confirm", sid)
    assert r.returncode == 1 and "wrong_state" in r.stderr
    srv.set_today(BASE_TODAY + dt.timedelta(days=1))
    r = srv.cli("confirm", sid)
    assert r.returncode == 0, r.stderr
    with srv.student(sid) as c:
        assert ok(c.get("/api/me/status"))["national"]["confirmed_on"] == "2026-12-01"


def test_wechat_binding(srv):
    sid = new_student(srv)
    key = {"X-Integration-Key": INTEGRATION_KEY}
    openid = f"o-{sid}"
    with srv.student(sid) as c, srv.client() as anon:
        assert ok(c.get("/api/me/wechat")) == {"bound": False}
        code = ok(c.post("/api/me/wechat/bind-code"))
        assert re.fullmatch(
            r"[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}", code["code"]
        )  # details: test_backend_bind_codes
        err(
            anon.post("/api/integration/wechat/bind", json={"openid": openid, "code": code["code"]}),
            401,
            "not_authenticated",
        )
        err(
            anon.post("/api/integration/wechat/token", json={"openid": openid}, headers=key), 404, "not_bound"
        )
        bad = "0000-0000" if code["code"] != "0000-0000" else "0000-0001"
        err(
            anon.post("/api/integration/wechat/bind", json={"openid": openid, "code": bad}, headers=key),
            422,
            "bind_code_invalid",
        )
        assert (
            ok(
                anon.post(
                    "/api/integration/wechat/bind", json={"openid": openid, "code": code["code"]}, headers=key
                )
            )["student_id"]
            == sid
        )
        err(
            anon.post(
                "/api/integration/wechat/bind", json={"openid": "o-other", "code": code["code"]}, headers=key
            ),
            422,
            "bind_code_used",
        )  # a code works once
        assert ok(c.get("/api/me/wechat")) == {"bound": True}
        tok = ok(anon.post("/api/integration/wechat/token", json={"openid": openid}, headers=key))[
            "access_token"
        ]
        me = anon.get(
            "/api/me",
            headers={"Authorization": f"Bearer {tok}", "X-Actions-Service-Key": "demo-actions-service-key"},
        )
        assert ok(me)["id"] == sid  # an action token: only together with the action server's service key
        ok(anon.request("DELETE", "/api/integration/wechat/bind", json={"openid": openid}, headers=key))
        err(
            anon.post("/api/integration/wechat/token", json={"openid": openid}, headers=key), 404, "not_bound"
        )
        err(c.delete("/api/me/wechat"), 404, "not_bound")
        # an expired code
        code = ok(c.post("/api/me/wechat/bind-code"))
        srv.set_today(BASE_TODAY + dt.timedelta(days=1))
        err(
            anon.post(
                "/api/integration/wechat/bind", json={"openid": openid, "code": code["code"]}, headers=key
            ),
            422,
            "bind_code_expired",
        )
        srv.set_today(BASE_TODAY)
        code = ok(c.post("/api/me/wechat/bind-code"))
        ok(
            anon.post(
                "/api/integration/wechat/bind", json={"openid": openid, "code": code["code"]}, headers=key
            )
        )
        assert ok(c.delete("/api/me/wechat")) == {"bound": False}
    with srv.staff("school-admin") as s:
        err(s.post("/api/me/wechat/bind-code"), 403, "forbidden")
