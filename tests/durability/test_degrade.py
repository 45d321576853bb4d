"""Degrades, never breaks: with the backend or the action server down, FAQ answers keep working and personal
features say they are temporarily unavailable. The tests stop and restart processes, so they run on a stack of
their own (the module's `system`), not on the session's that other tests share."""

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


def ask(system, text, token=None) -> str:
    """One turn; the reply must come within the client's 20 s (a turn never hangs on a dead component; how
    fast it comes is make bench's business, not a test's)."""
    return text_of(say(system.rest_webhook, f"deg-{uuid.uuid4().hex[:8]}", text, token, timeout=20))


def test_backend_down(system):
    token = dev_login(system.backend_url, "2025000005")
    system.stop_one("backend")
    try:
        reply = ask(system, FAQ)
        assert "工作日" in reply
        reply = ask(system, "查一下我的审核进度", token)
        assert "暂时" in reply and "不可用" in reply, reply
        # the general mailing-date answer still comes; the personal date is said to be unavailable
        reply = ask(system, MAILING_WHEN, token)
        assert "一个工作日" in reply and "暂时查不到" in reply, reply
    finally:
        system.start_backend()


def test_action_server_down(system):
    token = dev_login(system.backend_url, "2025000005")
    system.stop_one("actions")
    try:
        reply = ask(system, FAQ)
        assert "工作日" in reply
        # the general answer is sent before the (failing) follow-up action that would add the student's date
        reply = ask(system, MAILING_WHEN, token)
        assert "一个工作日" in reply, reply
        reply = ask(system, "查一下我的审核进度", token)
        assert reply.strip(), "the student got no answer at all"
        assert "暂时" in reply, reply
    finally:
        system.start_actions()
    reply = ask(system, "查一下我的审核进度", token)
    assert "暂时" not in reply and "户档信息登记" in reply
