"""Issue 12: every field of every form in the process document gets its one change path, comparisons name
both sides, and someone not signed in who names a menu gets its how-to (not only "sign in first").

The NLU side (bot/nlu/spec_router.py) puts the field into the message as entity `spec_field`; here the actions
run against the real backend with such a message, for every field of the table."""

import itertools
import subprocess
import sys

import pytest

from actions.change_advice import ActionChangeAdvice
from actions.compare import ActionCompare, compare_reply
from actions.forms.spec import DESTINATION, PROFILE
from actions.forms.validate import ValidateDestinationForm, ValidateProfileForm
from actions.mailing import ActionMailingCheck
from contracts import spec_terms as S
from system import ROOT
from tests.actions.helpers import Chat, make_tracker, run_action, texts

OTHER_FORMS = {path: [f for p, f in S.PATH_FORM.items() if p != path] for path in S.PATH_FORM}


def advise_field(field: S.Term, token=None) -> str:
    t = make_tracker(f"{field.name}填错了", S.PATH_INTENT[field.path], token)
    t.latest_message["entities"] = [{"entity": "spec_field", "value": field.name}]
    msgs, _ = run_action(ActionChangeAdvice(), t)
    return texts(msgs)


@pytest.mark.parametrize("field", S.FIELDS, ids=[f.name for f in S.FIELDS])
def test_every_field_gets_its_one_path(backend, field):
    out = advise_field(field)
    if field.path == S.ROSTER:
        assert "辅导员" in out and "改签申请" not in out and "户档信息修改" not in out
        return
    assert S.PATH_FORM[field.path] in out
    if field.path in (S.UNIT_CHANGE, S.DEST_EDIT):  # the two unit forms must never be confused
        other = S.PATH_FORM[S.DEST_EDIT if field.path == S.UNIT_CHANGE else S.UNIT_CHANGE]
        assert other not in out, out
    if field.path == S.ARCHIVE_EDIT:
        assert "改签申请" not in out


def test_field_entity_overrides_a_wrong_intent(backend):
    """单位行业 classified as an archive change still gets 毕业去向修改（单位不变）."""
    t = make_tracker("单位行业选错了", "change_archive")
    t.latest_message["entities"] = [{"entity": "spec_field", "value": "单位行业"}]
    out = texts(run_action(ActionChangeAdvice(), t)[0])
    assert "毕业去向修改（单位不变）" in out and "户档信息修改" not in out


def test_signed_in_field_advice_starts_from_own_state(backend):
    out = advise_field(S.FIELD_BY_NAME["组织机构代码"], backend.token("2025000003"))
    assert "组织机构代码与单位名称不一致" in out and "登录后" not in out


@pytest.mark.parametrize("group", ["form", "archive_type", "platform"])
def test_every_pair_of_a_kind_is_compared(group):
    names = [t.name for t in S.ITEMS if t.group == group]
    for a, b in itertools.combinations(names, 2):
        text = f"{a}和{b}有什么区别"
        assert [t.name for t in S.compared(text)] == [a, b], text
        response, items = compare_reply(text, [])
        out = texts([{"response": response, "items": items}])
        assert a in out and b in out


def test_compare_action_names_both(backend):
    t = make_tracker("我该走改签还是毕业去向修改", "compare")
    out = texts(run_action(ActionCompare(), t)[0])
    assert "改签申请（单位变更）" in out and "毕业去向修改（单位不变）" in out and "单位没换" in out


def test_mailing_menu_name_without_sign_in_gets_the_howto(backend):
    out = texts(run_action(ActionMailingCheck(), make_tracker("档案邮寄", "apply_mailing"))[0])
    assert "国家平台" in out and "申请邮寄" in out and "确认并提交" in out and "这需要先登录" not in out


def test_form_name_without_sign_in_gets_the_howto(backend):
    c = Chat(ValidateProfileForm(), None, PROFILE)
    out = c.start()
    assert "手续办理" in out and "政治面貌" in out and "登录" in out and c.asking is None


def test_labelled_value_goes_to_the_field_it_names(fresh_backend):
    c = Chat(ValidateDestinationForm(), fresh_backend.token("2025000001"), DESTINATION)
    c.start("fill_destination")
    c.say("签三方了")
    c.say("北京示例科技有限公司")
    assert c.asking == "dest_unit_location"
    out = c.say("统一社会信用代码是91350100M000100Y43")
    assert c.slots["dest_unit_credit_code"] == "91350100M000100Y43"
    assert c.slots.get("dest_unit_location") is None and c.asking == "dest_unit_location", out
    assert "统一社会信用代码" in out and "单位所在地" in out
    c.say("北京市海淀区")
    assert c.slots["dest_unit_location"] == "北京市海淀区"
    # a plain answer that merely starts like a label stays the answer to the open question
    c.say("单位详细地址是北京市海淀区中关村大街1号")
    assert c.slots["dest_unit_address"] == "北京市海淀区中关村大街1号"


def test_names_table_examples():
    assert [h.term.name for h in S.find_fields("我想把档案改成转回生源地")] == []  # 生源地 inside a type name
    assert S.field_named("公司没换，就是行业选错了").name == "单位行业"
    assert S.field_named("档案接收人的电话要换").name == "联系人联系方式"
    assert S.field_named("紧急联系人电话换了").name == "紧急联系人手机号"
    assert S.field_named("单位联系人的电话填错").name == "联系方式"
    assert S.field_named("我的联系方式变了").name == "手机"
    assert S.compared("档案怎么寄") == []


def test_jieba_dictionary_is_generated_from_the_table():
    out = subprocess.run(
        [sys.executable, "-m", "contracts.spec_terms"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    assert (ROOT / "bot" / "dictionary" / "spec_terms.txt").read_text(encoding="utf-8") == out, (
        "run: python -m contracts.spec_terms > bot/dictionary/spec_terms.txt"
    )


def test_signed_in_general_question_gets_general_answer_then_own_case(backend):
    """bot.nlu.spec_router.SignedInRouter sends faq/rejected from a signed-in student to check_status."""
    from actions.status import ActionCheckStatus

    general = (
        "审核未通过时，页面会显示未通过原因。按原因修改后再次提交即可。登录后问我“我的进度”，"
        "可以看到具体原因。"
    )
    t = make_tracker("被驳回了怎么改", "check_status", backend.token("2025000003"))
    t.latest_message["routed_from"] = "faq/rejected"
    t.latest_message["response_selector"] = {
        "default": {"response": {"intent_response_key": "faq/rejected", "responses": [{"text": general}]}}
    }
    msgs, _ = run_action(ActionCheckStatus(), t)
    out = texts(msgs)
    assert out.startswith("审核未通过时") and "登录" not in out
    assert "组织机构代码与单位名称不一致" in out and "再次提交" in out
    # asked directly ("查一下我的进度"), only the progress
    plain = texts(
        run_action(ActionCheckStatus(), make_tracker("查进度", "check_status", backend.token("2025000003")))[
            0
        ]
    )
    assert not plain.startswith("审核未通过时") and "组织机构代码与单位名称不一致" in plain


def test_routed_general_answer_is_the_current_one_else_the_models(backend):
    """The repeated FAQ answer is the backend's current text (staff edits included, no source line); an
    answer the backend does not know (404) falls back to the text the model's response selector carries."""
    from actions.status import ActionCheckStatus

    model_text = "模型里的回答。登录后问我。"
    for routed, expected in (
        ("faq/rejected", "审核未通过时，页面会显示学院或学校给出的未通过原因。"),
        ("faq/no_such_topic", "模型里的回答。"),
    ):
        t = make_tracker("被驳回了怎么改", "check_status", backend.token("2025000003"))
        t.latest_message["routed_from"] = routed
        t.latest_message["response_selector"] = {
            "default": {"response": {"responses": [{"text": model_text}]}}
        }
        out = texts(run_action(ActionCheckStatus(), t)[0])
        assert out.startswith(expected) and "依据" not in out and "登录" not in out, out
