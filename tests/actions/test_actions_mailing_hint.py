"""action_mailing_date_hint (after the general "什么时候能申请档案邮寄" answer) against the real backend:
the signed-in student's own date, and nothing at all without a verified student."""

import pytest

from actions.mailing import ActionMailingDateHint
from tests.actions.helpers import make_tracker, run_action, texts

Q = "我什么时候能申请档案邮寄"


def hint(token=None, **kw):
    msgs, events = run_action(ActionMailingDateHint(), make_tracker(Q, "mailing_when", token=token, **kw))
    assert events == []
    return texts(msgs)


def cn(d):
    y, m, dd = (int(x) for x in d.split("-"))
    return f"{y}年{m}月{dd}日"


def test_too_early_gives_the_exact_date(backend):
    frm = backend.get("/api/me/mailing", "2025000007")["eligibility"]["eligible_from"]
    assert f"你{cn(frm)}起可以申请档案邮寄" in hint(backend.token("2025000007"))


def test_eligible_now(backend):
    assert "你现在就可以申请档案邮寄" in hint(backend.token("2025000005"))


def test_not_confirmed_on_the_national_platform(backend):
    out = hint(backend.token("2025000004"))
    assert "国家平台" in out and "确认" in out and "现在就可以" not in out


def test_archive_not_approved(backend):
    assert "户档信息登记还没有通过" in hint(backend.token("2025000001"))


def test_already_requested_shows_state_and_ems(backend):
    out = hint(backend.token("2025000006"))
    assert "已经提交过" in out and "1151234567890" in out


@pytest.mark.parametrize(
    "meta", [{}, {"token": ""}, {"token": "not-a-token"}, {"token": 12345}, {"student_id": "2025000006"}]
)
def test_nothing_without_a_verified_student(backend, meta):
    assert hint(metadata=meta) == ""


def test_token_only_from_the_latest_message(backend):
    # an earlier message carried a token; the latest one does not: say nothing
    old = {
        "event": "user",
        "timestamp": 1.0,
        "text": "你好",
        "metadata": {"token": backend.token("2025000006")},
        "parse_data": {"intent": {"name": "greet"}, "entities": [], "text": "你好"},
    }
    assert hint(events=[old]) == ""


def test_staff_token_gets_nothing(backend):
    from backend.seed import STAFF

    assert hint(backend.staff_token(STAFF[0][0])) == ""


def test_backend_down_is_a_short_note(monkeypatch, backend):
    monkeypatch.setenv("BACKEND_URL", "http://127.0.0.1:9")  # nothing listens on the discard port
    out = hint(backend.token("2025000007"))
    assert "暂时查不到" in out
