"""Voice messages in WeChat (issue 15 §4) through the real channel in a real `rasa run` with the real backend:
with WeChat's speech recognition the `Recognition` text is answered like typed text (same de-duplication by
MsgId, same binding); without it a kind Chinese reply asks to type instead, and the bot never runs."""

import random
import time
import uuid

import httpx
import pytest

from tests.channels.channels_harness import bind_code, reply_content, signed_query, user_events

pytestmark = pytest.mark.slow


def openid() -> str:
    return "o" + uuid.uuid4().hex[:27]


def voice_xml(openid: str, recognition: str | None, msg_id: int | None = None) -> str:
    rec = "" if recognition is None else f"<Recognition><![CDATA[{recognition}]]></Recognition>"
    return (
        f"<xml><ToUserName><![CDATA[gh_test]]></ToUserName><FromUserName><![CDATA[{openid}]]></FromUserName>"
        f"<CreateTime>{int(time.time())}</CreateTime><MsgType><![CDATA[voice]]></MsgType>"
        f"<MediaId><![CDATA[media_{uuid.uuid4().hex[:8]}]]></MediaId><Format><![CDATA[amr]]></Format>"
        f"{rec}<MsgId>{msg_id or random.randint(10**15, 10**16)}</MsgId></xml>"
    )


def post(stack, body):
    return httpx.post(
        stack.wechat, params=signed_query(stack.wechat_token), content=body.encode(), timeout=15
    )


def test_recognised_voice_is_answered_like_text(stack):
    oid = openid()
    content = reply_content(post(stack, voice_xml(oid, "whoami。")))
    assert f"会话=wechat:{oid}" in content and "渠道=wechat" in content
    texts = [e.get("text") for e in user_events(stack, f"wechat:{oid}")]
    assert texts == ["whoami"]  # the recognised text, without the full stop recognition adds


def test_retries_of_one_voice_message_are_answered_once(stack):
    oid = openid()
    body = voice_xml(oid, "remember", msg_id=880000111)
    replies = [reply_content(post(stack, body)) for _ in range(3)]
    assert replies[0].startswith("已记住") and replies[0] == replies[1] == replies[2]
    assert len(stack.actions.calls_for(f"wechat:{oid}", "action_remember")) == 1
    assert len(user_events(stack, f"wechat:{oid}")) == 1


def test_spoken_binding_code_binds(stack):
    oid = openid()
    token = stack.login("2025000007")
    code = bind_code(stack, token)
    assert "绑定成功" in reply_content(post(stack, voice_xml(oid, f"绑定码{code}。")))
    content = reply_content(post(stack, voice_xml(oid, "whoami")))
    assert "令牌=有" in content and "用户=2025000007" in content
    assert "解除" in reply_content(post(stack, voice_xml(oid, "解绑。")))


@pytest.mark.parametrize("recognition", [None, "", "   ", "。"])
def test_voice_without_text_gets_a_kind_reply_and_never_reaches_the_bot(stack, recognition):
    oid = openid()
    content = reply_content(post(stack, voice_xml(oid, recognition)))
    assert "语音" in content and "文字" in content and "识别" in content
    time.sleep(0.3)
    assert stack.actions.calls_for(f"wechat:{oid}") == []
    assert user_events(stack, f"wechat:{oid}") == []
