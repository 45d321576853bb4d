"""Degrades, never breaks: with the backend or the action server down, FAQ answers keep working and personal
features say they are temporarily unavailable. The tests stop and restart processes, so they run on a stack of
their own (the module's `system`), not on the session's that other tests share."""

import time
import uuid

import pytest

from system import System, dev_login, say

pytestmark = pytest.mark.slow

FAQ = "两级审核通过后多久同步到国家平台"
MAILING_WHEN = "什么时候能申请档案邮寄"


def text_of(messages) -> str:
    return "\n".join((m.get("text") or "") for m in messages)


@pytest.fixture(scope="module")
def system(tmp_path_factory):
    """The whole assistant on its own (seeded SQLite), for this module only: the tests stop its processes."""
    tmp = tmp_path_factory.mktemp("degrade")
    s = System(database_url=f"sqlite:///{tmp / 'app.db'}", log_dir=tmp / "log")
    s.start()
    yield s
    s.stop()


def timed(system, text, token=None):
    t0 = time.monotonic()
    reply = text_of(say(system.rest_webhook, f"deg-{uuid.uuid4().hex[:8]}", text, token, timeout=20))
    return reply, time.monotonic() - t0


def test_backend_down(system):
    token = dev_login(system.backend_url, "2025000005")
    system.stop_one("backend")
    try:
        reply, _ = timed(system, FAQ)
        assert "工作日" in reply
        reply, took = timed(system, "查一下我的审核进度", token)
        assert "暂时" in reply and "不可用" in reply, reply
        assert took < 8, f"personal turn took {took:.1f}s with the backend down"
        # the general mailing-date answer still comes; the personal date is said to be unavailable
        reply, took = timed(system, MAILING_WHEN, token)
        assert "一个工作日" in reply and "暂时查不到" in reply, reply
        assert took < 8
    finally:
        system.start_backend()


def test_action_server_down(system):
    token = dev_login(system.backend_url, "2025000005")
    system.stop_one("actions")
    try:
        reply, _ = timed(system, FAQ)
        assert "工作日" in reply
        # the general answer is sent before the (failing) follow-up action that would add the student's date
        reply, _ = timed(system, MAILING_WHEN, token)
        assert "一个工作日" in reply, reply
        reply, took = timed(system, "查一下我的审核进度", token)
        assert reply.strip(), "the student got no answer at all"
        assert "暂时" in reply, reply
        assert took < 8
    finally:
        system.start_actions()
    reply, _ = timed(system, "查一下我的审核进度", token)
    assert "暂时" not in reply and "户档信息登记" in reply
