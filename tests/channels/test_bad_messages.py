"""Issue 21 §2 against the real processes (backend on SQLite and PostgreSQL, `rasa run` with our channels and
the turn-log broker): one message with NUL (or the six characters `\\u0000`) neither drops other students'
turns from the turn log nor lets the bot answer a conversation a counselor holds; the counselor gets the
message. When the backend cannot be asked, a held conversation stays closed to the bot (fail closed)."""

from __future__ import annotations

import time
import uuid

import httpx
import pytest

from tests.backend.helpers import BASE_TODAY, database_urls
from tests.channels.channels_harness import ChannelStack

pytestmark = pytest.mark.slow
UNDELIVERED_TEXT = "消息暂时没能转给老师，请稍后再发送一次。"  # bot/channels/handoff.py (Rasa env)
TURNLOG = "event_broker:\n  type: bot.turnlog.TurnLogBroker\n  flush_seconds: 2\n"


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def stack(request, tmp_path_factory):
    tmp = tmp_path_factory.mktemp(f"bad-messages-{request.param}")
    db_url, drop = database_urls(tmp, request.param)
    s = ChannelStack(
        tmp,
        database_url=db_url,
        endpoints_extra=TURNLOG,
        extra_env={
            "HANDOFF_GATE_POLL": "0.3",
            "HANDOFF_HOURS": "00:00-24:00",
            "TODAY": BASE_TODAY.isoformat(),
        },
    ).start()
    yield s
    s.stop()
    drop()


def say(stack, sender, text, token=None) -> list[dict]:
    r = httpx.post(
        stack.rest,
        json={"sender": sender, "message": text, "metadata": {"token": token} if token else {}},
        timeout=30,
    )
    assert r.status_code == 200, r.text
    return r.json()


def staff(stack) -> httpx.Client:
    r = httpx.post(f"{stack.backend_url}/api/auth/dev-login", json={"staff_id": "school-admin"}, timeout=10)
    return httpx.Client(
        base_url=stack.backend_url,
        headers={"Authorization": f"Bearer {r.json()['access_token']}"},
        timeout=30,
    )


def held_conversation(stack, c: httpx.Client) -> tuple[str, int]:
    """An anonymous conversation a counselor has taken (the action server's request, then the staff page)."""
    sender = "bad-" + uuid.uuid4().hex[:10]
    r = httpx.post(
        f"{stack.backend_url}/api/integration/handoff",
        json={"conversation": f"anon:{sender}", "channel": "web"},
        headers={"X-Actions-Service-Key": stack.service_key},
        timeout=10,
    )
    assert r.status_code == 200, r.text
    sid = r.json()["session_id"]
    assert c.post(f"/api/staff/handoff/{sid}/take").status_code == 200
    time.sleep(1.0)  # the gate's list (polled every 0.3 s) has it
    return sender, sid


def student_texts(c: httpx.Client, sid: int) -> list[str]:
    return [
        m["text"] for m in c.get(f"/api/staff/handoff/{sid}").json()["messages"] if m["sender"] == "student"
    ]


def test_nul_in_a_held_conversation_reaches_the_counselor_and_not_the_bot(stack):
    with staff(stack) as c:
        sender, sid = held_conversation(stack, c)
        for text, stored in (
            ("老师您好\x00我想问档案", "老师您好我想问档案"),
            ("这六个字符\\u0000是我打的", "这六个字符\\u0000是我打的"),
        ):
            out = say(stack, sender, text)
            assert not [m for m in out if m.get("text")], out  # held: the bot says nothing
            assert out[-1]["custom"]["handoff"]["state"] == "active"
            assert student_texts(c, sid)[-1] == stored
    assert not stack.actions.calls_for(f"anon:{sender}")


def test_a_nul_message_does_not_drop_other_students_turns(stack):
    tag = "".join(chr(ord("a") + int(c, 16)) for c in uuid.uuid4().hex[:8])  # no digits: masking keeps it
    token = stack.login("2025000005")
    say(stack, f"tl-{tag}", f"whoami 同学甲{tag}", token)
    say(stack, f"tn-{tag}", f"whoami 同学乙\x00{tag}")
    say(stack, f"tu-{tag}", f"whoami 同学丙\\u0000{tag}")
    deadline, text = time.monotonic() + 20, ""
    with staff(stack) as c:
        while time.monotonic() < deadline and text.count(tag) < 3:
            time.sleep(0.5)
            text = c.get("/api/staff/insights/turns.csv", params={"days": 1}).text
    assert (
        f"whoami 同学甲{tag}" in text
        and f"whoami 同学乙{tag}" in text
        and f"whoami 同学丙\\u0000{tag}" in text
    ), text


def test_the_gate_fails_closed_for_a_held_conversation_when_the_backend_is_down(stack):
    with staff(stack) as c:
        sender, sid = held_conversation(stack, c)
    free = "free-" + uuid.uuid4().hex[:8]
    assert "会话=" in say(stack, free, "whoami")[0]["text"]
    stack.system.stop_one("backend")
    try:
        out = say(stack, sender, "后端停了的时候我说的话")
        assert [m.get("text") for m in out if m.get("text")] == [UNDELIVERED_TEXT], out
        assert not stack.actions.calls_for(f"anon:{sender}")
        # a conversation nobody holds is still answered by the bot
        assert "会话=" in say(stack, free, "whoami")[0]["text"]
    finally:
        stack.system.start_backend()
    with staff(stack) as c:
        assert "后端停了的时候我说的话" not in student_texts(c, sid)
        out = say(stack, sender, "后端回来了")
        assert not [m for m in out if m.get("text")] and student_texts(c, sid)[-1] == "后端回来了"
