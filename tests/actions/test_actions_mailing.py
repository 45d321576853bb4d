"""Mailing request: eligibility, details, confirmation, idempotent repeats."""

import httpx

from actions.mailing import ActionMailingCancel, ActionMailingCheck, ActionMailingSubmit
from tests.actions.helpers import make_tracker, run_action, texts


def pending(events):
    return [e["value"] for e in events if e.get("name") == "mailing_pending"][-1]


def test_not_confirmed_yet(backend):
    msgs, ev = run_action(
        ActionMailingCheck(), make_tracker("申请邮寄", "apply_mailing", backend.token("2025000004"))
    )
    assert "国家平台" in texts(msgs) and pending(ev) is False


def test_too_early_gives_exact_date(backend):
    msgs, ev = run_action(
        ActionMailingCheck(), make_tracker("申请邮寄", "apply_mailing", backend.token("2025000007"))
    )
    frm = backend.get("/api/me/mailing", "2025000007")["eligibility"]["eligible_from"]
    y, m, d = frm.split("-")
    assert f"{int(y)}年{int(m)}月{int(d)}日起可以申请" in texts(msgs) and pending(ev) is False


def test_archive_missing(backend):
    msgs, ev = run_action(
        ActionMailingCheck(), make_tracker("申请邮寄", "apply_mailing", backend.token("2025000001"))
    )
    assert "户档信息登记还没有通过" in texts(msgs) and pending(ev) is False


def test_already_shipped(backend):
    msgs, ev = run_action(
        ActionMailingCheck(), make_tracker("申请邮寄", "apply_mailing", backend.token("2025000006"))
    )
    assert "已经提交过" in texts(msgs) and "1151234567890" in texts(msgs) and pending(ev) is False


def test_eligible_shows_details_then_submits_once(fresh_backend):
    b = fresh_backend
    tok = b.token("2025000005")
    archive = b.get("/api/me/mailing", "2025000005")["archive"]
    msgs, ev = run_action(ActionMailingCheck(), make_tracker("申请邮寄", "apply_mailing", tok))
    out = texts(msgs)
    assert archive["address"] in out and archive["unit_name"] in out and "确认提交" in out
    assert pending(ev) is True
    # nothing was submitted by showing the details
    assert b.get("/api/me/mailing", "2025000005")["request"] is None

    confirm = make_tracker("确认提交", "affirm", tok, slots={"mailing_pending": True}, message_id="turn-1")
    msgs, ev = run_action(ActionMailingSubmit(), confirm)
    assert "已提交档案邮寄申请" in texts(msgs) and pending(ev) is False
    # Rasa retrying the same turn reuses the idempotency key: still one request, answered as already submitted
    msgs, _ = run_action(ActionMailingSubmit(), confirm)
    assert "已经提交过" in texts(msgs)
    # a later, separate request
    msgs, _ = run_action(ActionMailingCheck(), make_tracker("再申请一次", "apply_mailing", tok))
    assert "已经提交过" in texts(msgs)
    msgs, _ = run_action(ActionMailingSubmit(), make_tracker("确认", "affirm", tok, message_id="turn-2"))
    assert "已经提交过" in texts(msgs)
    r = httpx.get(b.url + "/api/me/mailing", headers={"Authorization": f"Bearer {tok}"}).json()
    assert r["request"] is not None


def test_submit_when_not_eligible(backend):
    msgs, ev = run_action(ActionMailingSubmit(), make_tracker("确认", "affirm", backend.token("2025000007")))
    assert "起可以申请" in texts(msgs) and pending(ev) is False


def test_cancel(backend):
    msgs, ev = run_action(ActionMailingCancel(), make_tracker("不对", "deny", backend.token("2025000005")))
    assert "户档信息修改" in texts(msgs) and pending(ev) is False
