"""End to end: the real backend, action server and Rasa server, talked to through the REST channel as the
seeded demo students (and as nobody)."""

import json
import uuid

import pytest

from system import dev_login, http_get, say
from tests.e2e.helpers import cn, text_of

pytestmark = pytest.mark.slow


def test_faq_answer_without_sign_in(chat):
    reply = chat("两级审核通过后多久同步到国家平台")
    assert "一个工作日" in reply or "1个工作日" in reply


def test_personal_question_without_sign_in_asks_to_sign_in(chat):
    reply = chat("查一下我的审核进度")
    assert "登录" in reply


def test_typed_student_number_grants_nothing(chat):
    reply = chat("我是2025000003，帮我查一下我的毕业去向审核进度")
    assert "登录" in reply
    assert "组织机构代码与单位名称不一致" not in reply


def test_status_shows_rejection_reason(chat):
    reply = chat("我的毕业去向审核到哪一步了", student="2025000003")
    assert "组织机构代码与单位名称不一致" in reply
    assert "学校审核未通过" in reply


def test_status_awaiting_college_review(chat):
    reply = chat("帮我看看我的进度", student="2025000002")
    assert "学院" in reply and "审核" in reply


def test_shipped_mailing_shows_ems_number(chat):
    reply = chat("我的档案寄出了吗", student="2025000006")
    assert "1151234567890" in reply


def test_mailing_too_early_gives_the_exact_date(chat, system):
    status, body = http_get(f"{system.backend_url}/api/calendar/next-workday")
    assert status == 200, body
    eligible_from = json.loads(body)["next_workday"]
    reply = chat("我要申请档案邮寄", student="2025000007")
    assert cn(eligible_from) in reply or eligible_from in reply


def test_mailing_when_gives_the_rule_and_the_students_own_date(chat, system):
    status, body = http_get(f"{system.backend_url}/api/calendar/next-workday")
    assert status == 200, body
    eligible_from = json.loads(body)["next_workday"]
    reply = chat("我最早哪天可以申请档案邮寄", student="2025000007")
    assert "一个工作日" in reply and cn(eligible_from) in reply, reply


def test_mailing_when_without_sign_in_gives_only_the_rule(chat):
    reply = chat("什么时候能申请档案邮寄")
    assert "一个工作日" in reply and "按你的办理进度" not in reply and "登录" in reply, reply


def test_mailing_not_confirmed_on_national_platform(chat):
    reply = chat("申请档案邮寄", student="2025000004")
    assert "国家平台" in reply and "确认" in reply


def test_mailing_submit_after_confirmation_then_repeat(chat):
    reply = chat("帮我申请档案邮寄", student="2025000005")
    assert "确认提交" in reply  # shows the archive details and asks first
    assert "已提交档案邮寄申请" not in reply
    reply = chat("确认提交", student="2025000005")
    assert "已提交" in reply
    reply = chat("帮我申请档案邮寄", student="2025000005")
    assert "已经提交过" in reply


def test_mailing_declined_submits_nothing(chat):
    chat("申请档案邮寄", student="2025000005")
    reply = chat("先不提交", student="2025000005")
    assert reply.startswith("好的，先不提交档案邮寄申请。"), reply  # the mailing rule, not the form pause
    reply = chat("我的档案邮寄申请状态", student="2025000005")
    assert "已经提交过" not in reply and "EMS" not in reply


def test_conversation_is_keyed_to_the_token_not_the_sender(chat, system):
    """A client reusing a student's sender id without the token gets an anonymous conversation."""
    chat("帮我申请档案邮寄", student="2025000005")  # the student now has a pending confirmation
    # an attacker posts "确认提交" under the same client sender, without a token
    reply = text_of(say(system.rest_webhook, "e2e-attacker", "确认提交"))
    assert "已提交档案邮寄申请" not in reply
    reply = chat("我的档案寄出了吗", student="2025000005")
    assert "已经提交过" not in reply


def test_change_advice_for_reviewed_record(chat):
    reply = chat("我换了一家单位，原来签的不去了", student="2025000005")
    assert "改签申请" in reply


def test_handoff_gives_the_students_college_contact(chat):
    reply = chat("转人工", student="2025000005")
    assert "老师" in reply
    assert "010-" in reply


# --- issue 12: names from the process document, comparisons, own case, menu names, labelled values ----------
@pytest.mark.parametrize(
    "text,form,never",
    [
        ("单位隶属那一栏选错了", "毕业去向修改（单位不变）", "改签申请"),
        ("户口迁移类型选得不对", "户档信息修改", "改签申请"),
        ("工作职位类别想换一个", "毕业去向修改（单位不变）", "改签申请"),
        ("国推生类别选错了", "个人信息完善", "户档信息修改"),
    ],
)
def test_any_field_of_the_document_gets_its_change_path(chat, text, form, never):
    out = chat(text)
    assert form in out and never not in out, out


def test_comparison_names_both_sides(chat):
    out = chat("托管单位接收跟上级主管单位接收差在哪")
    assert "托管单位接收" in out and "上级主管单位接收" in out, out
    out = chat("改签申请和毕业去向修改我该走哪个")
    assert "改签申请（单位变更）" in out and "毕业去向修改（单位不变）" in out, out


def test_signed_in_general_question_gets_own_case(chat):
    out = chat("审核不通过该怎么处理", "2025000003")
    assert "组织机构代码与单位名称不一致" in out and "登录后" not in out and "先登录" not in out, out


def test_menu_name_alone_without_sign_in_gets_the_howto(chat):
    out = chat("档案邮寄")
    assert "申请邮寄" in out and "国家平台" in out and "这需要先登录" not in out, out


def test_labelled_value_in_a_form_goes_to_its_field(chat):
    chat("帮我填毕业去向登记", "2025000001")
    chat("签就业协议形式就业", "2025000001")
    out = chat("北京示例科技有限公司", "2025000001")
    assert "单位所在地" in out, out
    out = chat("统一社会信用代码是91350100M000100Y43", "2025000001")
    assert "统一社会信用代码记下了" in out and "单位所在地是" in out, out
    chat("先不填了", "2025000001")


def test_every_choice_answer_moves_the_profile_form_on(system, chat):
    """Signed in, every 政治面貌 and 困难生类别 choice fills its field and the form asks the next question:
    no answer is taken for a question (e.g. "非困难生" once went to the student's status through the signed-in
    routing)."""
    from contracts.vocabulary import HARDSHIP_CATEGORIES, POLITICAL_STATUSES

    token = dev_login(system.backend_url, "2025000001")
    sender = f"e2e-choices-{uuid.uuid4().hex[:8]}"

    def turn(text):
        return text_of(say(system.rest_webhook, sender, text, token))

    for choice in POLITICAL_STATUSES:
        turn("/restart")
        assert "政治面貌" in turn("帮我填写个人信息")
        out = turn(choice)
        assert "生源所在地" in out, (choice, out)
    for choice in HARDSHIP_CATEGORIES:
        turn("/restart")
        turn("帮我填写个人信息")
        turn("群众")
        assert "困难生" in turn("河北省 石家庄市")
        out = turn(choice)
        assert "手机号" in out, (choice, out)
    turn("/restart")


def test_every_unit_choice_moves_the_destination_form_on(system, chat):
    """Signed in, every 单位行业 / 单位性质 / 工作职位类别 choice fills its field (industry names such as
    "农、林、牧、渔业" once went to the student's status through the signed-in routing)."""
    from contracts.vocabulary import INDUSTRIES, JOB_CATEGORIES, UNIT_NATURES

    token = dev_login(system.backend_url, "2025000001")
    sender = f"e2e-unit-{uuid.uuid4().hex[:8]}"

    def turn(text):
        return text_of(say(system.rest_webhook, sender, text, token))

    for i in range(max(len(INDUSTRIES), len(UNIT_NATURES), len(JOB_CATEGORIES))):
        turn("/restart")
        turn("帮我填毕业去向登记")
        turn("签就业协议形式就业")
        turn("北京示例科技有限公司")
        turn("北京市昌平区")
        turn("北京市昌平区回龙观东大街1号")
        assert "行业" in turn("91350100M000100Y43")
        industry, nature, job = (
            INDUSTRIES[i % len(INDUSTRIES)],
            UNIT_NATURES[i % len(UNIT_NATURES)],
            JOB_CATEGORIES[i % len(JOB_CATEGORIES)],
        )
        out = turn(industry)
        assert "单位性质" in out, (industry, out)
        out = turn(nature)
        assert "职位类别" in out, (nature, out)
        out = turn(job)
        assert "联系人" in out, (job, out)
    turn("/restart")


def test_routing_leaves_a_form_slot_answer_to_the_form(system, chat):
    """Outside a form a signed-in general question is routed to the student's case (bot/nlu/spec_router.py);
    at a form's open question the same text stays with the form (the routers get the tracker): it is not
    taken for a status check, and 政治面貌 (a closed choice list) refuses it instead of saving it."""
    student = "2025000001"

    def latest():
        code, body = http_get(system.rasa_api_url(f"/conversations/student:{student}/tracker"), timeout=10)
        assert code == 200, body[:300]
        return json.loads(body)["latest_message"]

    question = "审核不通过该怎么处理"
    chat(question, student)
    msg = latest()
    assert msg["intent"]["name"] == "check_status" and msg.get("routed_from") == "faq/rejected", msg["intent"]
    assert "政治面貌" in chat("帮我填写个人信息", student)
    out = chat(question, student)
    msg = latest()
    assert msg["intent"]["name"] != "check_status" and not msg.get("routed_from"), msg["intent"]
    assert "政治面貌" in out, out
    chat("先不填了", student)
