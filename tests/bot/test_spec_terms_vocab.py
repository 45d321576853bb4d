"""The field-change rule (contracts/spec_terms.py `change_field`) and the login account (issue 20 b): a
question about the 统一身份认证 account's own phone number or password names a word that is also a form field
(手机号), but it is not a change of the platform's forms; a real field change still is."""

import pytest

from contracts import spec_terms as S


@pytest.mark.parametrize(
    "text",
    [
        "统一身份认证绑定的手机号不用了收不到短信怎么更改",
        "统一认证账号的手机号换了怎么改",
        "换了手机号收不到验证码怎么办",
        "登录密码改了还是不对",
    ],
)
def test_account_questions_are_not_field_changes(text):
    assert S.change_field(text) is None


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("个人信息完善里的手机号写错了", "手机"),
        ("单位行业选错了", "单位行业"),
        ("邮编写错了", "邮政编码"),
    ],
)
def test_field_changes_still_found(text, field):
    term = S.change_field(text)
    assert term is not None and term.name == field
