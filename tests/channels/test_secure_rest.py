"""The authenticated REST channel (/webhooks/rest/webhook) against a real `rasa run` with our channel
loaded."""

import time
import uuid

import httpx
import jwt
import pytest

from tests.channels.channels_harness import AUTH_SECRET

pytestmark = pytest.mark.slow


def say(stack, sender, text, token=None, **extra):
    body = {"sender": sender, "message": text, "metadata": {"token": token} if token else {}}
    body.update(extra)
    r = httpx.post(stack.rest, json=body, timeout=30)
    assert r.status_code == 200, r.text
    return r.json()


def texts(msgs):
    return "\n".join(m.get("text") or "" for m in msgs)


def sid():
    return "web-" + uuid.uuid4().hex[:12]


def test_token_keys_the_conversation_and_ignores_the_client_sender(stack):
    token = stack.login("2025000005")
    out = texts(say(stack, sid(), "whoami", token))
    assert "会话=student:2025000005" in out and "令牌=有" in out and "用户=2025000005" in out


def test_other_clients_cannot_read_or_write_a_students_conversation(stack):
    token5, token6 = stack.login("2025000005"), stack.login("2025000006")
    secret = "秘密" + uuid.uuid4().hex[:6]
    say(stack, sid(), f"remember {secret}", token5)
    # same student, another device/sender: sees the history
    assert secret in texts(say(stack, sid(), "recall", token5))
    # anonymous client naming the student as sender: a different, anonymous conversation
    for sender in ("2025000005", "student-2025000005"):
        out = texts(say(stack, sender, "recall"))
        assert secret not in out
    assert texts(say(stack, "2025000005", "whoami")).startswith("会话=anon:2025000005")
    # a client sender that tries to look like a conversation id is refused
    r = httpx.post(stack.rest, json={"sender": "student:2025000005", "message": "recall"})
    assert r.status_code == 400
    # another student's valid token: their own conversation
    out = texts(say(stack, "2025000005", "recall", token6))
    assert secret not in out
    events = [e["text"] for e in stack.tracker("student:2025000005")["events"] if e.get("event") == "user"]
    assert f"remember {secret}" in events and all("anon" not in e for e in events)


def _token(secret=AUTH_SECRET, **claims):
    base = {"sub": "2025000005", "role": "student", "exp": int(time.time()) + 600}
    base.update(claims)
    return jwt.encode(base, secret, algorithm="HS256")


@pytest.mark.parametrize(
    "token",
    [
        pytest.param(_token(secret="not-the-secret"), id="forged"),
        pytest.param(_token(exp=int(time.time()) - 10), id="expired"),
        pytest.param(_token(role="superuser"), id="unknown-role"),
        pytest.param(jwt.encode({"sub": "2025000005"}, AUTH_SECRET, algorithm="HS256"), id="no-exp"),
        pytest.param("garbage.token.value", id="garbage"),
    ],
)
def test_forged_or_expired_tokens_are_anonymous(stack, token):
    sender = sid()
    first = say(stack, sender, "whoami", token)
    assert "登录已失效" in texts(first)
    assert f"会话=anon:{sender}" in texts(first) and "令牌=无" in texts(first)
    second = texts(say(stack, sender, "whoami", token))
    assert "登录已失效" not in second  # told once
    assert all(
        c.get("tracker", {}).get("sender_id") != "student:2025000005"
        or (c["tracker"].get("latest_message") or {}).get("metadata", {}).get("token") != token
        for c in stack.actions.calls
    )


def test_a_short_lived_action_token_is_passed_on_instead_of_the_web_token(stack):
    token = stack.login("2025000006")
    say(stack, sid(), "whoami", token)
    call = stack.actions.calls_for("student:2025000006", "action_whoami")[-1]
    meta = call["tracker"]["latest_message"]["metadata"]
    assert meta["user_id"] == "2025000006" and meta["channel"] == "web"
    assert meta["token"] != token
    claims = jwt.decode(meta["token"], AUTH_SECRET, algorithms=["HS256"], audience="actions")
    assert claims["sub"] == "2025000006" and claims["role"] == "student"
    assert claims["exp"] - time.time() <= 300


@pytest.mark.parametrize(
    "body,code",
    [
        (b"{not json", "bad_json"),
        (b"[1, 2]", "bad_json"),
        (b'{"sender": "a", "message": ""}', "empty_message"),
        (b'{"sender": "a", "message": 5}', "empty_message"),
        (b'{"sender": "", "message": "hi"}', "bad_sender"),
        (b'{"sender": "a b", "message": "hi"}', "bad_sender"),
        (b'{"message": "hi"}', "bad_sender"),
        (b'{"sender": "a", "message": "hi", "metadata": [1]}', "bad_metadata"),
        (b'{"sender": "a", "message": "' + "长".encode() * 1001 + b'"}', "message_too_long"),
    ],
)
def test_bad_requests_are_400_with_a_code(stack, body, code):
    r = httpx.post(stack.rest, content=body, headers={"content-type": "application/json"})
    assert r.status_code == 400, r.text
    assert r.json()["code"] == code and r.json()["message"]


def test_huge_body_is_413(stack):
    r = httpx.post(stack.rest, content=b'{"sender": "a", "message": "' + b"x" * 40000 + b'"}')
    assert r.status_code == 413


def test_action_server_down_still_answers_in_chinese(stack):
    stack.actions.down = True
    try:
        out = say(stack, sid(), "whoami")
    finally:
        stack.actions.down = False
    assert texts(out) == "暂时无法处理，请稍后再试。"


def test_hung_action_server_answers_within_the_action_timeout(stack):
    """Rasa 3.6 would wait 300 s for a hung action server; the channels cap it (ACTION_TIMEOUT=9 here)."""
    stack.actions.slow_seconds = 60
    try:
        t0 = time.monotonic()
        out = say(stack, sid(), "慢速测试")
        took = time.monotonic() - t0
    finally:
        stack.actions.slow_seconds = 6.0
    assert texts(out) == "暂时无法处理，请稍后再试。"
    assert took < 20, f"the turn took {took:.0f}s"


def test_cors_only_for_the_widget_origin(stack):
    pre = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type"}
    ok = httpx.options(stack.rest, headers={"Origin": "http://127.0.0.1:8000", **pre})
    assert ok.headers.get("access-control-allow-origin") == "http://127.0.0.1:8000"
    bad = httpx.options(stack.rest, headers={"Origin": "http://evil.example", **pre})
    assert "access-control-allow-origin" not in bad.headers
    r = httpx.post(
        stack.rest, json={"sender": "a", "message": "你好"}, headers={"Origin": "http://127.0.0.1:8000"}
    )
    assert r.headers.get("access-control-allow-origin") == "http://127.0.0.1:8000"


@pytest.mark.parametrize("staff_id", ["school-admin", "counselor-physics"])
def test_a_staff_token_gets_an_anonymous_conversation(stack, staff_id):
    """Issue 21 §10: the student chat accepts student tokens only. A valid staff token (school admin,
    counselor) opens no `school:`/`counselor:` conversation and puts no staff action token into the
    tracker."""
    r = httpx.post(f"{stack.backend_url}/api/auth/dev-login", json={"staff_id": staff_id}, timeout=10)
    assert r.status_code == 200, r.text
    token = r.json()["access_token"]
    assert jwt.decode(token, options={"verify_signature": False})["role"] in ("school", "counselor")
    sender = sid()
    out = texts(say(stack, sender, "whoami", token))
    assert f"会话=anon:{sender}" in out and "令牌=无" in out and "用户=-" in out, out
    assert "学生" in out  # told once why: the chat is for students
    assert "学生" not in texts(say(stack, sender, "whoami", token)).split("会话=")[0]
    for role in ("school", "counselor"):
        assert not stack.actions.calls_for(f"{role}:{staff_id}")
    for call in stack.actions.calls_for(f"anon:{sender}"):
        for e in call["tracker"].get("events") or []:
            assert not (e.get("metadata") or {}).get("token"), e
