"""Archive recipient: a kinship word ("张伟的妈妈", "我爸", "舅舅") marks a family member and is refused with
the same message as the student's own name, in the web API (PUT /api/me/archive), in the validation route the
chat form uses (POST /api/validation/archive) and in an 户档信息修改 change request. Ordinary names and unit
staff pass."""

from __future__ import annotations

import pytest

from tests.backend.helpers import ARCHIVE, DESTINATION, err, new_student, ok

FAMILY_MSG = (
    "档案接收人不能是毕业生本人或家属（紧急联系人视为家属），请填写接收单位负责档案的老师或工作人员。"
)

FAMILY = [
    "张伟的妈妈",
    "张伟妈妈",
    "母亲",
    "我妈",
    "妈",
    "爸爸",
    "父亲",
    "家长",
    "哥哥",
    "姐姐",
    "弟弟",
    "妹妹",
    "爱人",
    "丈夫",
    "妻子",
    "老公",
    "老婆",
    "爷爷",
    "奶奶",
    "外公",
    "外婆",
    "姥姥",
    "叔叔",
    "阿姨",
    "舅舅",
    "舅妈",
    "姑姑",
    "伯父",
    "婶婶",
    "表哥",
    "堂姐",
    "岳母",
    "儿子",
    "女儿",
    "亲戚",
    "家人",
    "本人",
    "自己",
    "张伟 的 父亲",
    "张伟（妈妈）",
    "王阿姨",
]
NOT_FAMILY = [
    "周敏",
    "李老师",
    "王建华",
    "张红梅",
    "刘叔平",
    "赵姐",
    "人事处刘老师",
    "何婷婷",
    "马哥华",
    "王小妹",
    "公孙伯",
]


def test_kinship_words_in_recipient_are_refused(srv):
    sid = new_student(srv, name="张伟")
    with srv.student(sid) as c:
        ok(c.put("/api/me/destination", json=DESTINATION))
        for name in FAMILY:
            e = err(c.put("/api/me/archive", json={**ARCHIVE, "contact_name": name}), 422, "validation_error")
            f = {x["field"]: x for x in e["fields"]}
            assert f["contact_name"]["code"] == "recipient_is_family", (name, e)
            assert f["contact_name"]["message"] == FAMILY_MSG
            # the chat form checks every answer through this route
            r = ok(c.post("/api/validation/archive", json={"contact_name": name}))
            assert [x["code"] for x in r["fields"]] == ["recipient_is_family"], (name, r)
        assert ok(c.get("/api/me/archive"))["state"] == "not_started"  # nothing saved
        for name in NOT_FAMILY:
            r = ok(c.post("/api/validation/archive", json={"contact_name": name}))
            assert r["ok"], (name, r)
        assert (
            ok(c.put("/api/me/archive", json={**ARCHIVE, "contact_name": "刘叔平"}))["contact_name"]
            == "刘叔平"
        )


@pytest.mark.parametrize("name", ["张伟的妈妈"])
def test_kinship_recipient_refused_in_change_request(srv, name):
    from tests.backend.helpers import register_and_approve

    sid = new_student(srv, name="张伟")
    register_and_approve(srv, sid)
    with srv.student(sid) as c:
        e = err(
            c.post(
                "/api/me/change-requests", json={"kind": "archive_edit", "changes": {"contact_name": name}}
            ),
            422,
            "validation_error",
        )
        assert e["fields"][0]["code"] == "recipient_is_family"
