"""Issue 9 §4: WeChat message integrity, attacked over HTTP against a real `rasa run` with our channels.

- safe mode (WECHAT_AES_KEY set, `safe_stack`): plaintext messages are refused;
- replay: a nonce seen within the timestamp window is refused with another body or sender (`stack`);
- a retry of a message whose answer is ready by then gets it as the passive reply, also when the
  customer-service API cannot deliver it.
"""

import time
import uuid
import xml.etree.ElementTree as ET

import httpx
import pytest

from tests.channels.channels_harness import aes_encrypt, sign, signed_query, text_xml

pytestmark = pytest.mark.slow


def openid() -> str:
    return "o" + uuid.uuid4().hex[:27]


def content(r) -> str:
    assert r.status_code == 200, r.text
    return ET.fromstring(r.text).findtext("Content")


def user_events(stack, sender_id):
    return [e for e in stack.tracker(sender_id).get("events", []) if e.get("event") == "user"]


# --- safe mode -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("case", ["plain", "plain-with-msg_signature", "encrypt_type-other"])
def test_safe_mode_refuses_plaintext_messages(safe_stack, case):
    oid = openid()
    q = signed_query(safe_stack.wechat_token)  # a valid URL signature: only the body is not encrypted
    if case == "plain-with-msg_signature":
        q["msg_signature"] = sign(safe_stack.wechat_token, q["timestamp"], q["nonce"], "x")
    elif case == "encrypt_type-other":
        q["encrypt_type"] = "raw"
    r = httpx.post(safe_stack.wechat, params=q, content=text_xml(oid, "whoami").encode(), timeout=15)
    assert r.status_code == 403, r.text
    assert r.json()["code"] == "encryption_required"
    time.sleep(0.3)
    assert safe_stack.actions.calls_for(f"wechat:{oid}") == []


def test_safe_mode_still_answers_encrypted_messages(safe_stack):
    oid = openid()
    q = signed_query(safe_stack.wechat_token, encrypt_type="aes")
    enc = aes_encrypt(text_xml(oid, "whoami"))
    q["msg_signature"] = sign(safe_stack.wechat_token, q["timestamp"], q["nonce"], enc)
    r = httpx.post(
        safe_stack.wechat,
        params=q,
        content=f"<xml><Encrypt><![CDATA[{enc}]]></Encrypt></xml>".encode(),
        timeout=15,
    )
    assert r.status_code == 200 and "<Encrypt>" in r.text, r.text


# --- replay ----------------------------------------------------------------------------------------------
def test_a_signed_query_cannot_be_reused_for_another_body_or_sender(stack):
    victim, attacker = openid(), openid()
    q = signed_query(stack.wechat_token)
    original = text_xml(victim, "remember", msg_id=880001).encode()
    first = httpx.post(stack.wechat, params=q, content=original, timeout=15)
    assert "已记住" in content(first)
    for body in (
        text_xml(attacker, "whoami", msg_id=880002),  # another sender
        text_xml(victim, "whoami", msg_id=880003),
    ):  # same sender, another message
        r = httpx.post(stack.wechat, params=q, content=body.encode(), timeout=15)
        assert r.status_code == 403 and r.json()["code"] == "replayed_nonce", r.text
    time.sleep(0.3)
    assert stack.actions.calls_for(f"wechat:{attacker}") == []
    assert stack.actions.calls_for(f"wechat:{victim}", "action_whoami") == []
    # the very same request again (what a WeChat retry looks like) is answered from the cache, not run again
    again = httpx.post(stack.wechat, params=q, content=original, timeout=15)
    assert content(again) == content(first)
    assert len(stack.actions.calls_for(f"wechat:{victim}", "action_remember")) == 1
    assert len(user_events(stack, f"wechat:{victim}")) == 1


def test_a_nonce_is_refused_even_with_a_fresh_timestamp(stack):
    """The nonce alone is remembered: another timestamp signed with the same nonce is still a replay."""
    oid = openid()
    q = signed_query(stack.wechat_token)
    assert "已记住" in content(
        httpx.post(stack.wechat, params=q, content=text_xml(oid, "remember").encode(), timeout=15)
    )
    ts = str(int(q["timestamp"]) + 1)
    q2 = {"signature": sign(stack.wechat_token, ts, q["nonce"]), "timestamp": ts, "nonce": q["nonce"]}
    r = httpx.post(stack.wechat, params=q2, content=text_xml(oid, "whoami").encode(), timeout=15)
    assert r.status_code == 403 and r.json()["code"] == "replayed_nonce"


# --- retries get a ready answer --------------------------------------------------------------------------
def test_a_retry_gets_the_ready_answer_when_customer_service_cannot_deliver(stack):
    oid = openid()
    body = text_xml(oid, "慢速测试", msg_id=990001).encode()
    stack.wechat_api.fail_sends = True
    try:
        r = httpx.post(stack.wechat, params=signed_query(stack.wechat_token), content=body, timeout=15)
        assert r.status_code == 200 and r.text == "success"  # not ready within the 5 s rule
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not stack.wechat_api.refused:
            time.sleep(0.2)
        assert stack.wechat_api.refused, "the channel should have tried the customer-service API"
        # WeChat retries the message (new nonce, same MsgId): the answer is ready, so it is the passive reply
        retry = httpx.post(stack.wechat, params=signed_query(stack.wechat_token), content=body, timeout=15)
        assert content(retry).startswith("慢速回复完成")
        # and a further retry gets the same text again, without running the turn again
        again = httpx.post(stack.wechat, params=signed_query(stack.wechat_token), content=body, timeout=15)
        assert content(again) == content(retry)
    finally:
        stack.wechat_api.fail_sends = False
    assert len(stack.actions.calls_for(f"wechat:{oid}", "action_slow")) == 1
    assert [m for m in stack.wechat_api.sent if m.get("touser") == oid] == []


def test_a_retry_waiting_while_the_answer_is_computed_gets_it_passively(stack):
    oid = openid()
    body = text_xml(oid, "慢速测试", msg_id=990002).encode()
    r = httpx.post(stack.wechat, params=signed_query(stack.wechat_token), content=body, timeout=15)
    assert r.text == "success"
    # the retry arrives before the answer (6 s) and waits for it
    retry = httpx.post(stack.wechat, params=signed_query(stack.wechat_token), content=body, timeout=15)
    assert content(retry).startswith("慢速回复完成")
    time.sleep(1.0)
    assert [m for m in stack.wechat_api.sent if m.get("touser") == oid] == []  # not delivered twice
    assert len(stack.actions.calls_for(f"wechat:{oid}", "action_slow")) == 1
