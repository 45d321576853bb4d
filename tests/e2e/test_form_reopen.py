"""A correction after a chat form ended ("手机号填错了") reopens the form that holds that answer, routed by
the rules (data/rules/forms.yml on the slot reopen_form that action_correct_field sets), through the real
`rasa run`."""

from __future__ import annotations

import uuid

import pytest

from system import dev_login, say

pytestmark = pytest.mark.slow


def test_correction_after_the_form_reopens_it_and_asks_again(system):
    token, sender = dev_login(system.backend_url, "2025000001"), f"e2e-reopen-{uuid.uuid4().hex[:8]}"

    def turn(text):
        return "\n".join(m.get("text") or "" for m in say(system.rest_webhook, sender, text, token))

    # the conversation is the student's (the token keys it), shared with other tests that paused this form:
    # start it afresh
    turn("/restart")
    assert "你的政治面貌是？" in turn("帮我填写个人信息")
    for answer in ("群众", "北京市 东城区", "非困难生"):
        turn(answer)
    assert "你的邮箱是？" in turn("13812345678")
    assert turn("先不填了").startswith("好的，先不填了。")
    out = turn("手机号填错了")  # the form is closed: the rules reopen it at that question
    assert "我们继续填写“个人信息完善”" in out and out.rstrip().endswith("你的手机号是？"), out
    assert "你的邮箱是？" in turn("13987654321")  # the form goes on where it was
    turn("先不填了")
    # a field no chat form holds: advice, nothing reopened
    out = turn("单位详细地址填错了")
    assert "毕业去向修改（单位不变）" in out and "我们继续填写" not in out, out
