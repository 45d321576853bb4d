"""Which text typed while a chat form waits for an answer is a question (answered, then asked again) and
which is the answer (actions/forms/validate.py is_question): the field's validator shape and question words
decide, not the classifier; answers may contain Chinese (names, addresses, unit names)."""

import pytest

from actions.forms.spec import ARCHIVE, DESTINATION, PROFILE
from actions.forms.validate import is_question, only_waits

F = {
    **{f.slot: f for f in PROFILE.fields},
    **{f.slot: f for f in DESTINATION.fields},
    **{f.slot: f for f in ARCHIVE.fields},
}

QUESTIONS = [
    ("dest_unit_credit_code", "这个代码是营业执照上的哪一串"),
    ("dest_unit_credit_code", "等一下，我先问个问题"),
    ("dest_unit_name", "这个要填什么"),
    ("dest_unit_name", "为什么要填这个"),
    ("dest_unit_name", "这个填哪个公司"),
    ("archive_address", "档案转寄地址可以写学校吗"),
    ("archive_contact_name", "联系人可以填我自己吗"),
    ("archive_contact_name", "等等"),
    ("profile_mobile", "手机号要填谁的"),
    ("profile_political_status", "预备党员算党员吗"),
    ("archive_transfer_type", "签约单位接收和托管单位接收有什么区别"),
    ("dest_type", "考研算什么类型"),
    ("archive_evidence", "调档函是什么"),
    ("archive_hukou_choice", "自迁是什么意思"),
    ("dest_unit_contact_email", "没有邮箱怎么办"),
]
ANSWERS = [
    ("dest_unit_name", "小米科技有限责任公司"),
    ("dest_unit_name", "北京什么值得买科技有限公司"),
    ("dest_unit_credit_code", "91110108551385082Q"),
    ("archive_address", "北京市海淀区西二旗中路33号小米科技园"),
    ("archive_contact_name", "周敏"),
    ("profile_counselor_name", "王老师"),
    ("profile_mobile", "13812345678"),
    ("profile_political_status", "团员"),
    ("profile_hardship_category", "不是"),
    ("archive_transfer_type", "不知道"),
    ("dest_type", "我还没找到工作"),
    ("archive_evidence", "就业单位调档函"),
    ("archive_hukou_choice", "户口未迁入学校"),
    ("dest_unit_contact_email", "无"),
]


@pytest.mark.parametrize("slot,text", QUESTIONS)
def test_a_question_is_not_taken_as_the_answer(slot, text):
    assert is_question(F[slot], text)


@pytest.mark.parametrize("slot,text", ANSWERS)
def test_an_answer_is_not_taken_for_a_question(slot, text):
    assert not is_question(F[slot], text)


def test_asking_to_ask_is_told_apart_from_a_question():
    assert only_waits("等一下，我先问个问题") and only_waits("等等") and only_waits("问个问题")
    assert not only_waits("我先问一下档案能寄给我妈吗")
