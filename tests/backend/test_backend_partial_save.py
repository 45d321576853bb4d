"""A save changes only the fields it carries: a field left out of a PUT keeps its stored value, a field sent
as null or "" is cleared. The chat form sends only its own fields (actions.forms.spec.payload, the very
function the action server uses), so 单位隶属 and 备注 saved on the web survive the chat, and the other way
round."""

from __future__ import annotations

from actions.forms.spec import ARCHIVE as ARCHIVE_FORM
from actions.forms.spec import DESTINATION as DEST_FORM
from actions.forms.spec import PROFILE as PROFILE_FORM
from actions.forms.spec import display_from_api, payload
from tests.backend.helpers import ARCHIVE, DESTINATION, PROFILE, UNIT, err, new_student, ok

WEB_ONLY = {"affiliation": "中央企业", "remark": "入职时间2026年7月，档案随后寄送"}


def chat_save(c, form, changes: dict) -> dict:
    """What the chat form does: prefill the slots from the stored record, take the student's answers, PUT."""
    record = ok(c.get(form.path))
    if form is PROFILE_FORM:
        record = record["personal"]
    values = {**display_from_api(form, record), **changes}
    body = payload(form, values)
    assert set(body.get("unit", {})) <= set(UNIT) - set(WEB_ONLY)  # the chat never sends the web-only fields
    return ok(c.put(form.path, json=body))


def test_web_then_chat_keeps_web_only_fields(srv):
    sid = new_student(srv)
    with srv.student(sid) as c:
        ok(c.put("/api/me/destination", json={"destination_type": "10", "unit": {**UNIT, **WEB_ONLY}}))
        d = chat_save(c, DEST_FORM, {"dest_unit_contact_name": "吴刚"})
        assert d["unit"]["contact_name"] == "吴刚" and d["unit"]["contact_email"] == UNIT["contact_email"]
        # "单位邮箱：无" in the chat clears the stored e-mail (sent as null), the rest stays
        d = chat_save(c, DEST_FORM, {"dest_unit_contact_email": "无"})
        assert "contact_email" not in d["unit"] and d["unit"]["contact_name"] == "吴刚"
        d = ok(c.put("/api/me/destination", json={"unit": {"contact_email": UNIT["contact_email"]}}))
        assert (
            d["unit"]["affiliation"] == WEB_ONLY["affiliation"] and d["unit"]["remark"] == WEB_ONLY["remark"]
        )
        # a chat form started from empty slots (e.g. a new conversation) sends even less: still nothing lost
        body = payload(DEST_FORM, {"dest_type": "签就业协议形式就业", "dest_unit_name": UNIT["name"]})
        d = ok(c.put("/api/me/destination", json=body))
        assert d["unit"] == {**UNIT, **WEB_ONLY, "contact_name": "吴刚"} and d["state"] == "filled"
        assert ok(c.get("/api/me/destination"))["unit"] == d["unit"]


def test_chat_then_web_keeps_chat_fields(srv):
    sid = new_student(srv)
    with srv.student(sid) as c:
        chat = {
            "dest_type": "签就业协议形式就业",
            "dest_unit_name": UNIT["name"],
            "dest_unit_location": UNIT["location"],
            "dest_unit_address": UNIT["address"],
            "dest_unit_credit_code": UNIT["credit_code"],
            "dest_unit_industry": UNIT["industry"],
            "dest_unit_nature": UNIT["nature"],
            "dest_unit_job_category": UNIT["job_category"],
            "dest_unit_contact_name": UNIT["contact_name"],
            "dest_unit_contact_phone": UNIT["contact_phone"],
            "dest_unit_contact_email": UNIT["contact_email"],
        }
        d = ok(c.put("/api/me/destination", json=payload(DEST_FORM, chat)))
        assert d["state"] == "filled" and "affiliation" not in d["unit"]
        d = ok(c.put("/api/me/destination", json={"unit": WEB_ONLY}))  # the web saves its own two fields
        assert d["unit"] == {**UNIT, **WEB_ONLY} and d["destination_type"] == "10" and d["state"] == "filled"
        # explicit null / "" clears a field; a left-out field stays
        d = ok(c.put("/api/me/destination", json={"unit": {"remark": None, "affiliation": ""}}))
        assert (
            "remark" not in d["unit"] and "affiliation" not in d["unit"] and d["unit"]["name"] == UNIT["name"]
        )
        # a bad field in a partial save is refused and nothing changes
        err(c.put("/api/me/destination", json={"unit": {"contact_phone": "12"}}), 422, "validation_error")
        assert ok(c.get("/api/me/destination"))["unit"]["contact_phone"] == UNIT["contact_phone"]
        # switching to a type without a unit drops the unit; the stored unit never makes that save fail
        d = ok(c.put("/api/me/destination", json=payload(DEST_FORM, {"dest_type": "境内升学（研究生）"})))
        assert d["destination_type"] != "10" and d["unit"] is None
        e = err(c.put("/api/me/destination", json={"unit": {"name": "某公司"}}), 422, "validation_error")
        assert e["fields"][0]["code"] == "unit_not_applicable"


def test_archive_and_profile_merge(srv):
    sid = new_student(srv)
    with srv.student(sid) as c:
        ok(c.put("/api/me/destination", json=DESTINATION))
        web = {**ARCHIVE, "hukou_choice": "address", "hukou_address": "北京市海淀区西二旗中路33号"}
        ok(c.put("/api/me/archive", json=web))
        a = chat_save(c, ARCHIVE_FORM, {"archive_contact_name": "刘老师"})
        assert (
            a["contact_name"] == "刘老师"
            and a["hukou_address"] == web["hukou_address"]
            and a["state"] == "filled"
        )
        a = ok(c.put("/api/me/archive", json={"postal_code": "100085"}))
        assert {k: a[k] for k in web if k != "contact_name"} == {
            k: v for k, v in web.items() if k != "contact_name"
        }
        # hukou_address belongs to hukou_choice=address: choosing another option drops it
        a = ok(c.put("/api/me/archive", json={"hukou_choice": "not_moved_in"}))
        assert a["hukou_address"] is None and a["state"] == "filled"
        # a type without an address drops the address fields and the other type's evidence
        a = ok(
            c.put("/api/me/archive", json={"transfer_type": "暂不确定", "hukou_transfer_type": "暂不确定"})
        )
        assert a["address"] is None and a["evidence"] is None and a["state"] == "filled"
        # profile: a partial save keeps the rest, a missing required field is still refused
        p = ok(c.put("/api/me/profile", json={"mobile": "13912345678"}))
        assert p["personal"] == {**PROFILE, "mobile": "13912345678"}
        p = chat_save(c, PROFILE_FORM, {"profile_class_name": "2班"})
        assert p["personal"] == {**PROFILE, "mobile": "13912345678", "class_name": "2班"}
        e = err(c.put("/api/me/profile", json={"wechat": None}), 422, "validation_error")
        assert e["fields"][0]["field"] == "wechat"
    fresh = new_student(srv, profile=False)
    with srv.student(fresh) as c:
        e = err(c.put("/api/me/profile", json={"mobile": "13912345678"}), 422, "validation_error")
        assert {f["code"] for f in e["fields"]} == {"required"}
