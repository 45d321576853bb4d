"""The chat forms against the real backend: a chat save keeps what only the web asks (单位隶属, 备注), and a
family member as the archive recipient ("张伟的妈妈") is refused in the chat with the backend's message."""

from __future__ import annotations

import httpx

from actions.forms.spec import ARCHIVE, DESTINATION
from actions.forms.validate import ValidateArchiveForm, ValidateDestinationForm
from tests.actions.helpers import Chat

UNIT = {
    "name": "小米科技有限责任公司",
    "location": "北京市海淀区",
    "address": "北京市海淀区西二旗中路33号小米科技园",
    "credit_code": "91110108551385082Q",
    "industry": "信息传输、软件和信息技术服务业",
    "nature": "其他企业(含民营企业等)",
    "job_category": "工程技术人员",
    "contact_name": "周敏",
    "contact_phone": "010-60606666",
    "affiliation": "中央企业",
    "remark": "入职时间2026年7月",
}


def test_chat_form_keeps_web_only_fields_and_refuses_family_recipient(fresh_backend):
    b = fresh_backend
    token = b.token("2025000001")
    r = httpx.put(
        f"{b.url}/api/me/destination",
        json={"destination_type": "10", "unit": UNIT},
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )
    assert r.status_code == 200, r.text
    c = Chat(ValidateDestinationForm(), token, DESTINATION)
    c.start("fill_destination")
    assert c.asking == "dest_unit_contact_email"  # the one chat question the web record leaves open
    c.say("无")
    out = c.say("确认", "affirm")
    assert "已提交“毕业去向登记”" in out
    rec = b.get("/api/me/destination", "2025000001")
    assert rec["state"] == "submitted"
    assert rec["unit"]["affiliation"] == "中央企业" and rec["unit"]["remark"] == "入职时间2026年7月"

    c = Chat(ValidateArchiveForm(), token, ARCHIVE)
    c.start("fill_archive")
    c.say("签约单位接收")
    c.say("有就业单位调档函")
    c.say("小米科技有限责任公司")
    c.say("北京市海淀区西二旗中路33号小米科技园")
    c.say("100085")
    assert c.asking == "archive_contact_name"
    for family in ("张伟的妈妈", "我爸", "舅舅"):
        out = c.say(family)
        assert c.asking == "archive_contact_name" and "不能是毕业生本人或家属" in out, (family, out)
    c.say("周敏")
    assert c.asking == "archive_contact_phone" and c.slots["archive_contact_name"] == "周敏"
