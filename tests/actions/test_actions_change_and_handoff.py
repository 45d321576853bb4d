"""Change advice (with and without sign-in) and 转人工."""

import pytest

from actions.change_advice import ActionChangeAdvice
from tests.actions.helpers import make_tracker, run_action, texts

FORMS = {
    "change_unit": "改签申请（单位变更）",
    "change_unit_info": "毕业去向修改（单位不变）",
    "change_archive": "户档信息修改",
    "change_personal": "个人信息完善",
}


def advice(intent, token=None):
    msgs, ev = run_action(ActionChangeAdvice(), make_tracker("x", intent, token))
    assert ev == []
    return texts(msgs)


@pytest.mark.parametrize("intent,form", FORMS.items())
def test_general_advice_names_the_form(backend, intent, form):
    out = advice(intent)
    assert form in out and "登录后" in out


def test_sample_cases_expect_none(backend):
    assert "毕业去向修改" not in advice("change_unit")
    assert "改签申请" not in advice("change_unit_info")


def test_not_reviewed_edit_directly(backend):
    out = advice("change_unit", backend.token("2025000002"))
    assert "辅导员还没审核" in out and "直接" in out and "重新提交" in out


def test_rejected_fix_and_resubmit(backend):
    out = advice("change_unit_info", backend.token("2025000003"))
    assert "组织机构代码与单位名称不一致" in out and "重新提交" in out


def test_reviewed_not_confirmed_uses_change_request(backend):
    out = advice("change_unit", backend.token("2025000004"))
    assert "改签申请（单位变更）" in out and "不能直接修改" in out and "再到国家平台确认一次" not in out


def test_after_national_confirmation_confirm_again(backend):
    out = advice("change_archive", backend.token("2025000005"))
    assert "户档信息修改" in out and "再到国家平台确认一次" in out


def test_personal(backend):
    assert "个人信息完善" in advice("change_personal", backend.token("2025000005"))


# 转人工 (action_handoff: queue, tickets, fallback to the contacts): tests/handoff/test_handoff_action.py
