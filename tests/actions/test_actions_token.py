"""Where the token comes from, and what happens without a valid one."""

import time

import httpx
import jwt
import pytest

from actions import backend as B
from actions.change_advice import ActionChangeAdvice
from actions.handoff import ActionHandoff
from actions.mailing import ActionMailingCheck, ActionMailingSubmit
from actions.status import ActionCheckStatus
from system import free_port
from tests.actions.helpers import make_tracker, run_action, texts

UNAVAILABLE = "个人查询功能暂时不可用，请稍后再试；常见问题仍可以问我。"  # utter_backend_unavailable

PERSONAL = [
    (ActionCheckStatus(), "check_status"),
    (ActionMailingCheck(), "apply_mailing"),
    (ActionMailingSubmit(), "affirm"),
]


def test_token_from_latest_message_metadata():
    t = make_tracker("查进度", "check_status", token="abc.def.ghi")
    assert B.get_token(t) == "abc.def.ghi"


def test_token_from_user_event_when_latest_message_has_no_metadata():
    t = make_tracker("查进度", "check_status", token="abc.def.ghi")
    t.latest_message.pop("metadata")
    assert B.get_token(t) == "abc.def.ghi"


def test_older_message_token_is_not_reused():
    old = make_tracker("你好", "greet", token="old.token.x").events
    t = make_tracker("查进度", "check_status", token=None, events=old)
    assert B.get_token(t) is None


@pytest.mark.parametrize("bad", ["", "   ", "a b", 123, None, "x" * 5000])
def test_junk_tokens_are_ignored(bad):
    t = make_tracker("查进度", "check_status", metadata={"token": bad})
    assert B.get_token(t) is None


def test_bearer_prefix_is_accepted():
    assert B.get_token(make_tracker("x", "check_status", metadata={"token": "Bearer a.b.c"})) == "a.b.c"


@pytest.mark.parametrize("action,intent", PERSONAL)
def test_no_token_asks_to_sign_in(backend, action, intent):
    msgs, _ = run_action(action, make_tracker("x", intent))
    assert "登录" in texts(msgs)


@pytest.mark.parametrize("action,intent", PERSONAL)
def test_forged_token_asks_to_sign_in_again(backend, action, intent):
    forged = jwt.encode(
        {"sub": "2025000005", "role": "student", "exp": int(time.time()) + 600},
        "wrong-secret",
        algorithm="HS256",
    )
    msgs, _ = run_action(action, make_tracker("x", intent, token=forged))
    out = texts(msgs)
    assert "重新登录" in out
    assert "陈静" not in out and "上海微电子" not in out


def test_student_number_in_chat_is_not_identity(backend):
    """Typing another student's number changes nothing: the token decides."""
    msgs, _ = run_action(ActionCheckStatus(), make_tracker("我是2025000006，查一下我的档案", "check_status"))
    out = texts(msgs)
    assert "登录" in out and "1151234567890" not in out
    msgs, _ = run_action(
        ActionCheckStatus(),
        make_tracker("我是2025000006，查一下我的档案", "check_status", token=backend.token("2025000005")),
    )
    out = texts(msgs)
    assert "陈静" in out and "1151234567890" not in out and "杨帆" not in out


def test_backend_down_says_unavailable_quickly(monkeypatch):
    port = free_port()
    monkeypatch.setenv("BACKEND_URL", f"http://127.0.0.1:{port}")
    for action, intent in PERSONAL:
        t0 = time.monotonic()
        msgs, _ = run_action(action, make_tracker("x", intent, token="a.b.c"))
        assert time.monotonic() - t0 < 3
        assert texts(msgs) == UNAVAILABLE


def test_backend_slow_times_out(monkeypatch):
    """A backend that accepts the connection but never answers: the timeout (BACKEND_TIMEOUT) applies."""
    import socket

    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(8)
    try:
        monkeypatch.setenv("BACKEND_URL", f"http://127.0.0.1:{srv.getsockname()[1]}")
        monkeypatch.setenv("BACKEND_TIMEOUT", "0.5")
        t0 = time.monotonic()
        msgs, _ = run_action(ActionCheckStatus(), make_tracker("x", "check_status", token="a.b.c"))
        assert time.monotonic() - t0 < 2.5
        assert "暂时不可用" in texts(msgs) and "常见问题" in texts(msgs)
    finally:
        srv.close()


def test_change_advice_and_handoff_degrade_when_backend_down(monkeypatch):
    port = free_port()
    monkeypatch.setenv("BACKEND_URL", f"http://127.0.0.1:{port}")
    msgs, _ = run_action(ActionChangeAdvice(), make_tracker("签了新单位", "change_unit", token="a.b.c"))
    assert "改签申请（单位变更）" in texts(msgs) and "暂时查不到" in texts(msgs)
    msgs, _ = run_action(ActionHandoff(), make_tracker("转人工", "handoff", token="a.b.c"))
    assert "学院" in texts(msgs) and "老师" in texts(msgs)
    msgs, _ = run_action(ActionHandoff(), make_tracker("转人工", "handoff"))
    assert "老师" in texts(msgs)


def test_one_shared_client_per_loop(backend):
    import asyncio

    async def two():
        return B.client() is B.client()

    assert asyncio.run(two())
    assert httpx.AsyncClient  # the client type in use


# --- action tokens (issue 9 §1): what the channels now put into the tracker ---------------------------------
def _action_token(sub="2025000005", ttl=60, aud="actions"):
    now = int(time.time())
    return jwt.encode(
        {"sub": sub, "role": "student", "aud": aud, "iat": now, "exp": now + ttl},
        "actions-test-secret",
        algorithm="HS256",
    )


def test_action_token_works_through_the_action_server_only(backend):
    """The action server sends its service key: the short-lived action token works for it ..."""
    tok = _action_token()
    msgs, _ = run_action(ActionCheckStatus(), make_tracker("查进度", "check_status", token=tok))
    assert "陈静" in texts(msgs)
    # ... and for nobody else: the same token without the key, as someone who read the tracker would use it
    r = httpx.get(f"{backend.url}/api/me/status", headers={"Authorization": f"Bearer {tok}"}, timeout=10)
    assert r.status_code == 401 and r.json()["code"] == "not_authenticated"


def test_expired_or_foreign_action_tokens_ask_to_sign_in_again(backend):
    for tok in (_action_token(ttl=-5), _action_token(aud="someone-else")):
        msgs, _ = run_action(ActionCheckStatus(), make_tracker("查进度", "check_status", token=tok))
        assert "重新登录" in texts(msgs) and "陈静" not in texts(msgs)


def test_wrong_service_key_is_unavailable_not_a_sign_in_problem(backend, monkeypatch):
    monkeypatch.setenv("ACTIONS_SERVICE_KEY", "not-the-key")
    msgs, _ = run_action(ActionCheckStatus(), make_tracker("查进度", "check_status", token=_action_token()))
    assert texts(msgs) == UNAVAILABLE
