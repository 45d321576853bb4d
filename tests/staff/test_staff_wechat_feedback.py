"""👍/👎 in WeChat (issue 14 §4) through the real WeChat channel of a real `rasa run` (tiny bot, our
channels) and the real backend: the hint under the first answer, 👎 asks for one of four reasons, the student
comes from the WeChat binding."""

from __future__ import annotations

import csv
import io
import uuid
import xml.etree.ElementTree as ET

import httpx
import pytest

from tests.channels.channels_harness import ChannelStack, signed_query, text_xml

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    s = ChannelStack(tmp_path_factory.mktemp("wechat-fb")).start()
    yield s
    s.stop()


def say(stack, oid, text) -> str:
    r = httpx.post(
        stack.wechat,
        params=signed_query(stack.wechat_token),
        content=text_xml(oid, text).encode(),
        timeout=15,
        trust_env=False,
    )
    assert r.status_code == 200, r.text
    return ET.fromstring(r.text).findtext("Content")


def feedback_rows(stack) -> list[dict]:
    tok = httpx.post(
        f"{stack.backend_url}/api/auth/dev-login", json={"staff_id": "school-admin"}, trust_env=False
    ).json()["access_token"]
    r = httpx.get(
        f"{stack.backend_url}/api/staff/insights/feedback.csv",
        params={"days": 1},
        headers={"Authorization": f"Bearer {tok}"},
        trust_env=False,
    )
    return list(csv.DictReader(io.StringIO(r.text.lstrip("\ufeff"))))


def test_wechat_feedback(stack):
    oid = "o" + uuid.uuid4().hex[:27]
    assert "请先提问" in say(stack, oid, "👍")  # nothing to rate yet
    first = say(stack, oid, "你好")
    assert "我是测试助手" in first and "回复“👍”或“👎”" in first
    assert "回复“👍”或“👎”" not in say(stack, oid, "你好")  # the hint once, not under every answer
    assert "谢谢" in say(stack, oid, "👍")
    say(stack, oid, "链接")
    ask = say(stack, oid, "👎")
    assert "1 答非所问" in ask and "4 事实错误" in ask
    assert "谢谢" in say(stack, oid, "2 没写网址的用途")
    rows = feedback_rows(stack)
    down = [r for r in rows if r["补充说明"] == "没写网址的用途"]
    assert len(down) == 1 and down[0]["渠道"] == "wechat" and down[0]["原因"] == "内容缺失"
    assert down[0]["问题"] == "链接" and down[0]["学号"] == ""
    assert any(r["渠道"] == "wechat" and r["评价"] == "👍" and r["问题"] == "你好" for r in rows)
    # a number after 👎 when nothing was asked is an ordinary message again
    assert "谢谢" not in say(stack, oid, "3")


def test_wechat_feedback_of_a_bound_student_carries_the_student_id(stack):
    oid = "o" + uuid.uuid4().hex[:27]
    token = stack.login("2025000006")
    code = httpx.post(
        f"{stack.backend_url}/api/me/wechat/bind-code",
        headers={"Authorization": f"Bearer {token}"},
        trust_env=False,
    ).json()["code"]
    assert "绑定成功" in say(stack, oid, code)
    say(stack, oid, "whoami")
    assert "谢谢" in say(stack, oid, "👎 事实错误 绑定学生的反馈")
    row = [r for r in feedback_rows(stack) if r["补充说明"] == "绑定学生的反馈"][0]
    assert row["学号"] == "2025000006" and row["原因"] == "事实错误"
    # the integration endpoint needs the integration key
    r = httpx.post(
        f"{stack.backend_url}/api/integration/feedback",
        trust_env=False,
        json={"openid": oid, "message_id": "x", "answer": "a", "rating": "up"},
    )
    assert r.status_code == 401 and r.json()["code"] == "not_authenticated"


def test_a_wechat_feedback_flood_gets_a_chinese_answer(stack):
    """The backend's limit (10 new rows per conversation a minute) reaches the WeChat user as a Chinese
    reply."""
    oid = "o" + uuid.uuid4().hex[:27]
    replies = []
    for _ in range(11):
        say(stack, oid, "你好")
        replies.append(say(stack, oid, "👍"))
    assert all("谢谢" in r for r in replies[:10]), replies
    assert "太频繁" in replies[10] and "谢谢" not in replies[10]
