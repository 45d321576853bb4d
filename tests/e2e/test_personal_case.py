"""A signed-in student asking about their own case in their own words gets the answer from their case, in
every demo state (README's table, 2025000001..2025000007), and never reads "登录后…" (issue 20 d). Through
the real backend, action server and Rasa server. Each question here got a general answer, an out-of-scope
answer or a "登录后问我" before (eval/cases/personal_v2.jsonl has the full set)."""

import httpx
import pytest

from system import dev_login
from tests.e2e.helpers import cn

pytestmark = pytest.mark.slow

SIGN_IN_TEXTS = ("登录后", "请先登录", "需要先登录", "登录问我")

# (student, question, every one of these in the reply, none of these in the reply)
CASES = [
    ("2025000001", "你好", ["你好", "查你本人的办理进度"], []),
    ("2025000001", "为啥我申请不了邮寄档案", ["还不能申请", "户档信息登记"], ["现在就可以申请"]),
    ("2025000002", "还有哪些东西我没填", ["户档信息登记：还没有开始填写", "待学院审核"], []),
    ("2025000002", "你是谁", ["智能咨询助手", "查你本人的办理进度"], []),
    ("2025000003", "学校说我哪里填错了", ["组织机构代码与单位名称不一致", "学校审核未通过"], []),
    ("2025000003", "我还缺什么", ["组织机构代码与单位名称不一致", "户档信息登记：还没有开始填写"], []),
    (
        "2025000004",
        "我的档案最后去哪个单位",
        ["中国航空工业集团有限公司北京分公司", "北京市朝阳区京顺路5号"],
        [],
    ),
    ("2025000004", "为什么我还不能申请档案邮寄", ["国家平台完成毕业去向确认"], ["现在就可以申请"]),
    ("2025000005", "档案转寄地址我填的是啥来着", ["上海市浦东新区张东路1525号"], []),
    ("2025000005", "学校什么时候给我寄档案", ["提交档案邮寄申请后寄出", "你现在就可以申请档案邮寄"], []),
    ("2025000006", "我的档案寄到哪个单位去了", ["广州汽车集团股份有限公司", "已寄出", "1151234567890"], []),
    ("2025000006", "档案邮寄到哪一步了", ["已寄出", "1151234567890"], []),
    ("2025000006", "档案邮寄要多少钱", ["流程文档没有提到档案邮寄的费用"], []),
    (
        "2025000007",
        "我档案接收单位是哪个",
        ["小米科技有限责任公司", "户档信息登记：第5步/共5步，学校审核完成"],
        [],
    ),
]


@pytest.mark.parametrize("student,question,expected,never", CASES, ids=[f"{c[0][-1]}-{c[1]}" for c in CASES])
def test_own_case_question_is_answered_from_the_case(chat, student, question, expected, never):
    reply = chat(question, student=student)
    for text in expected:
        assert text in reply, (question, reply)
    for text in list(never) + list(SIGN_IN_TEXTS):
        assert text not in reply, (question, text, reply)


def own_status(system, student: str) -> dict:
    token = dev_login(system.backend_url, student)
    r = httpx.get(
        f"{system.backend_url}/api/me/status", headers={"authorization": f"Bearer {token}"}, timeout=10
    )
    assert r.status_code == 200, r.text
    return r.json()


def test_dates_of_the_case(chat, system):
    """When it was synced to 国家平台, when it was confirmed, and from which (working) day mailing is
    possible: the student's own dates, from the backend."""
    s4 = own_status(system, "2025000004")
    reply = chat("我的信息哪天同步到国家平台的", student="2025000004")
    assert f"已于{cn(s4['sync']['sync_date'])}同步到国家平台" in reply, reply
    s7 = own_status(system, "2025000007")
    reply = chat("我最早哪天能寄档案", student="2025000007")
    assert f"你{cn(s7['mailing']['eligible_from'])}起可以申请档案邮寄" in reply, reply
    assert not any(t in reply for t in SIGN_IN_TEXTS), reply
    reply = chat("我是哪天在国家平台确认的", student="2025000007")
    assert f"已于{cn(s7['national']['confirmed_on'])}在国家平台确认毕业去向" in reply, reply


def test_visitor_still_reads_what_signing_in_adds(chat):
    """The signed-in variations are for signed-in students only: a visitor's greeting still says what signing
    in adds, and the same own-case question asks them to sign in."""
    assert "登录后还能帮你查办理进度" in chat("你好")
    reply = chat("我的档案最后去哪个单位")
    assert "中国航空工业集团" not in reply and "查你本人" not in reply
