"""The WeChat Official Account channel against a real `rasa run` (our channels loaded), the real backend for
binding and a local fake of the WeChat customer-service API. Issue 4 points 5-9."""

import hashlib
import time
import uuid
import xml.etree.ElementTree as ET

import httpx
import pytest

from tests.channels.channels_harness import (
    CDATA_TEXT,
    LONG_TEXT,
    WECHAT_APPID,
    aes_decrypt,
    aes_encrypt,
    bind_code,
    event_xml,
    nonce,
    reply_content,
    sign,
    signed_query,
    text_xml,
    user_events,
)

pytestmark = pytest.mark.slow


def openid() -> str:
    return "o" + uuid.uuid4().hex[:27]


def post(stack, body, params=None, timeout=15.0):
    return httpx.post(
        stack.wechat,
        params=signed_query(stack.wechat_token) if params is None else params,
        content=body.encode() if isinstance(body, str) else body,
        timeout=timeout,
    )


def post_aes(stack, inner_xml, timeout=15.0):
    """A safe-mode message as WeChat sends it: encrypted, with a valid msg_signature."""
    q = signed_query(stack.wechat_token, encrypt_type="aes")
    enc = aes_encrypt(inner_xml)
    q["msg_signature"] = sign(stack.wechat_token, q["timestamp"], q["nonce"], enc)
    body = f"<xml><ToUserName><![CDATA[gh_test]]></ToUserName><Encrypt><![CDATA[{enc}]]></Encrypt></xml>"
    return httpx.post(stack.wechat, params=q, content=body.encode(), timeout=timeout)


# --- verification and signatures -----------------------------------------------------------------------
def test_url_verification_answers_echostr(stack):
    r = httpx.get(stack.wechat, params=signed_query(echostr="echo-123456"))
    assert r.status_code == 200 and r.text == "echo-123456"


@pytest.mark.parametrize("case", ["forged", "wrong_token", "stale", "future", "missing", "bad_ts"])
def test_verification_rejects_bad_signatures(stack, case):
    q = signed_query(echostr="x")
    if case == "forged":
        q["signature"] = "0" * 40
    elif case == "wrong_token":
        q = signed_query(token="not-the-token", echostr="x")
    elif case == "stale":
        q = signed_query(ts=int(time.time()) - 3600, echostr="x")
    elif case == "future":
        q = signed_query(ts=int(time.time()) + 3600, echostr="x")
    elif case == "missing":
        del q["signature"]
    elif case == "bad_ts":
        q["timestamp"] = "abc"
    r = httpx.get(stack.wechat, params=q)
    assert r.status_code in (400, 403)
    assert "x" != r.text


@pytest.mark.parametrize("case", ["forged", "stale", "missing"])
def test_unverified_posts_never_reach_the_bot(stack, case):
    oid = openid()
    body = text_xml(oid, "whoami")
    if case == "forged":
        q = signed_query()
        q["signature"] = sign("guess", q["timestamp"], q["nonce"])
    elif case == "stale":
        q = signed_query(ts=int(time.time()) - 600)
    else:
        q = {}
    r = post(stack, body, params=q)
    assert r.status_code in (400, 403), r.text
    assert r.json()["code"]
    time.sleep(0.3)
    assert stack.actions.calls_for(f"wechat:{oid}") == []
    assert user_events(stack, f"wechat:{oid}") == []


def test_forged_msg_signature_never_reaches_the_bot(safe_stack):
    oid = openid()
    enc = aes_encrypt(text_xml(oid, "whoami"))
    q = signed_query(safe_stack.wechat_token, encrypt_type="aes")
    q["msg_signature"] = "f" * 40
    body = f"<xml><ToUserName><![CDATA[gh_test]]></ToUserName><Encrypt><![CDATA[{enc}]]></Encrypt></xml>"
    r = post(safe_stack, body, params=q)
    assert r.status_code == 403 and r.json()["code"] == "invalid_msg_signature", r.text
    time.sleep(0.3)
    assert safe_stack.actions.calls_for(f"wechat:{oid}") == []


# --- messages ------------------------------------------------------------------------------------------
def test_text_message_gets_passive_reply_from_the_bot(stack):
    oid = openid()
    r = post(stack, text_xml(oid, "whoami", account="gh_account"))
    root = ET.fromstring(r.text)
    assert root.findtext("ToUserName") == oid and root.findtext("FromUserName") == "gh_account"
    content = root.findtext("Content")
    assert f"会话=wechat:{oid}" in content and "令牌=无" in content and "渠道=wechat" in content
    assert "绑定" in content  # unbound users are told how to bind


def test_quick_replies_become_numbered_choices(stack):
    oid = openid()
    content = reply_content(post(stack, text_xml(oid, "你好")))
    assert "1. 我是谁" in content and "2. 看链接" in content
    assert f"会话=wechat:{oid}" in reply_content(post(stack, text_xml(oid, "1")))


def test_subscribe_gets_a_welcome_that_says_what_it_can_do(stack):
    content = reply_content(post(stack, event_xml(openid(), "subscribe")))
    for word in ("毕业去向登记", "户档", "档案邮寄", "办理进度", "绑定码"):
        assert word in content


@pytest.mark.parametrize("xml_type", ["image", "voice", "location", "shortvideo", "weird"])
def test_unknown_message_types_get_a_polite_text(stack, xml_type):
    oid = openid()
    body = (
        f"<xml><ToUserName>gh</ToUserName><FromUserName>{oid}</FromUserName><CreateTime>{int(time.time())}"
        f"</CreateTime><MsgType>{xml_type}</MsgType><MediaId>m1</MediaId><MsgId>1234567</MsgId></xml>"
    )
    assert "文字" in reply_content(post(stack, body))


def test_other_events_are_acknowledged_with_success(stack):
    for ev in ("unsubscribe", "CLICK", "VIEW", "LOCATION"):
        r = post(stack, event_xml(openid(), ev))
        assert r.status_code == 200 and r.text == "success"


def test_reply_content_with_cdata_terminator_is_escaped(stack):
    r = post(stack, text_xml(openid(), "cdata"))
    assert r.text.count("<script>") == 1  # still inside CDATA, not markup
    assert ET.fromstring(r.text).findtext("Content").startswith(CDATA_TEXT)


def test_long_reply_is_split_by_utf8_bytes(stack):
    oid = openid()
    stack.wechat_api.reject_next_send_with = 40001  # expired access token: the channel refreshes it once
    first = reply_content(post(stack, text_xml(oid, "长回复")))
    rest = [m["text"]["content"] for m in stack.wechat_api.wait_sent(oid, 2)]
    chunks = [first] + rest
    assert len(chunks) >= 3
    for c in chunks:
        assert len(c.encode("utf-8")) <= 2000
    joined = "".join(c.replace("\n", "") for c in chunks)
    assert LONG_TEXT.replace("\n", "") in joined
    assert all(m["msgtype"] == "text" for m in stack.wechat_api.sent if m["touser"] == oid)


# --- the 5-second rule and retries ---------------------------------------------------------------------
def test_slow_answer_returns_success_and_goes_through_customer_service(stack):
    oid = openid()
    body = text_xml(oid, "慢速测试", msg_id=555000111)
    t0 = time.monotonic()
    r = post(stack, body)
    elapsed = time.monotonic() - t0
    assert r.status_code == 200 and r.text == "success"
    assert elapsed < 5.0, elapsed
    sent = stack.wechat_api.wait_sent(oid, 1, timeout=15)
    # WeChat retries the same message after the answer went out: `success`, not run again
    r2 = post(stack, body)
    assert r2.status_code == 200 and r2.text == "success"
    assert len(sent) == 1 and sent[0]["text"]["content"].startswith("慢速回复完成")
    assert sent[0]["access_token"].startswith("AT")
    assert stack.wechat_api.token_requests[-1]["appid"] == WECHAT_APPID
    time.sleep(1.0)
    assert len(stack.wechat_api.wait_sent(oid, 1, timeout=0.1)) == 1
    assert len(stack.actions.calls_for(f"wechat:{oid}", "action_slow")) == 1


def test_retries_of_one_msgid_are_answered_once(stack):
    oid = openid()
    body = text_xml(oid, "remember", msg_id=777000222)
    replies = [reply_content(post(stack, body)) for _ in range(3)]
    assert replies[0].startswith("已记住") and replies[1] == replies[0] == replies[2]
    assert len(stack.actions.calls_for(f"wechat:{oid}", "action_remember")) == 1
    assert len(user_events(stack, f"wechat:{oid}")) == 1
    # a new MsgId is a new message
    post(stack, text_xml(oid, "remember", msg_id=777000223))
    assert len(user_events(stack, f"wechat:{oid}")) == 2


# --- hostile or broken input ---------------------------------------------------------------------------
XXE = (
    '<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
    "<xml><ToUserName>gh</ToUserName><FromUserName>oX</FromUserName><CreateTime>1</CreateTime>"
    "<MsgType>text</MsgType><Content>&xxe;</Content><MsgId>1</MsgId></xml>"
)
BOMB = (
    '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>'
    "<xml><ToUserName>gh</ToUserName><FromUserName>oX</FromUserName><CreateTime>1</CreateTime>"
    "<MsgType>text</MsgType><Content>&lol2;</Content><MsgId>1</MsgId></xml>"
)


@pytest.mark.parametrize(
    "body",
    [
        pytest.param("<xml><ToUserName>gh</ToUserName><FromUser", id="truncated"),
        pytest.param("not xml at all", id="not-xml"),
        pytest.param("", id="empty"),
        pytest.param(b"\xff\xfe<xml></xml>", id="not-utf8"),
        pytest.param("<xml></xml>", id="empty-xml"),
        pytest.param("<root><MsgType>text</MsgType></root>", id="wrong-root"),
        pytest.param(XXE, id="xxe"),
        pytest.param(BOMB, id="entity-bomb"),
        pytest.param(
            "<xml><ToUserName>gh</ToUserName><CreateTime>1</CreateTime><MsgType>text</MsgType>"
            "<Content>hi</Content><MsgId>1</MsgId></xml>",
            id="no-FromUserName",
        ),
        pytest.param(
            "<xml><ToUserName>gh</ToUserName><FromUserName>oX</FromUserName><CreateTime>1</CreateTime>"
            "<Content>hi</Content></xml>",
            id="no-MsgType",
        ),
        pytest.param(
            "<xml><ToUserName>gh</ToUserName><FromUserName><a>b</a></FromUserName><CreateTime>1"
            "</CreateTime><MsgType>text</MsgType><Content>hi</Content></xml>",
            id="nested-field",
        ),
        pytest.param(
            "<xml><ToUserName>gh</ToUserName><FromUserName>oX</FromUserName><CreateTime>1</CreateTime>"
            "<MsgType>text</MsgType><Content>hi</Content><MsgId>abc</MsgId></xml>",
            id="bad-MsgId",
        ),
    ],
)
def test_bad_xml_is_a_clean_4xx(stack, body):
    r = post(stack, body)
    assert 400 <= r.status_code < 500, (r.status_code, r.text)
    assert "root:" not in r.text
    assert stack.actions.calls_for("wechat:oX") == []


def test_text_without_content_gets_a_polite_prompt(stack):
    oid = openid()
    body = (
        f"<xml><ToUserName>gh</ToUserName><FromUserName>{oid}</FromUserName><CreateTime>{int(time.time())}"
        f"</CreateTime><MsgType>text</MsgType><MsgId>99</MsgId></xml>"
    )
    assert "问题" in reply_content(post(stack, body))


def test_oversized_body_is_rejected(stack):
    r = post(stack, text_xml(openid(), "长" * 40000))
    assert r.status_code == 413


# --- safe mode (AES) -----------------------------------------------------------------------------------
def test_aes_mode_round_trip(safe_stack):
    oid = openid()
    r = post_aes(safe_stack, text_xml(oid, "whoami"))
    assert r.status_code == 200, r.text
    outer = ET.fromstring(r.text)
    encrypt, ts, n = outer.findtext("Encrypt"), outer.findtext("TimeStamp"), outer.findtext("Nonce")
    assert (
        outer.findtext("MsgSignature")
        == hashlib.sha1("".join(sorted([safe_stack.wechat_token, ts, n, encrypt])).encode()).hexdigest()
    )
    inner, appid = aes_decrypt(encrypt)
    assert appid == WECHAT_APPID
    assert f"会话=wechat:{oid}" in ET.fromstring(inner).findtext("Content")


def test_aes_mode_rejects_wrong_appid_and_garbage(safe_stack):
    oid = openid()
    for enc in (aes_encrypt(text_xml(oid, "whoami"), appid="wxEVIL"), "bm90LWFlcw=="):
        q = signed_query(safe_stack.wechat_token, encrypt_type="aes")
        q["msg_signature"] = sign(safe_stack.wechat_token, q["timestamp"], q["nonce"], enc)
        r = post(safe_stack, f"<xml><Encrypt><![CDATA[{enc}]]></Encrypt></xml>", params=q)
        assert 400 <= r.status_code < 500, r.text
    assert safe_stack.actions.calls_for(f"wechat:{oid}") == []


# --- binding -------------------------------------------------------------------------------------------
def test_binding_flow_status_and_unbinding(stack):
    oid, other = openid(), openid()
    token = stack.login("2025000005")
    code = bind_code(stack, token)

    assert "令牌=无" in reply_content(post(stack, text_xml(oid, "whoami")))
    assert "绑定成功" in reply_content(post(stack, text_xml(oid, code)))
    me = httpx.get(f"{stack.backend_url}/api/me/wechat", headers={"Authorization": f"Bearer {token}"}).json()
    assert me["bound"] is True
    content = reply_content(post(stack, text_xml(oid, "whoami")))
    assert "令牌=有" in content and "用户=2025000005" in content and "绑定方法" not in content

    # the code works once: someone else cannot reuse it
    assert "无效" in reply_content(post(stack, text_xml(other, code)))
    assert "令牌=无" in reply_content(post(stack, text_xml(other, "whoami")))
    assert "绑定方法" in reply_content(post(stack, text_xml(other, "绑定")))

    assert "解除" in reply_content(post(stack, text_xml(oid, "解绑")))
    assert "令牌=无" in reply_content(post(stack, text_xml(oid, "whoami")))
    me = httpx.get(f"{stack.backend_url}/api/me/wechat", headers={"Authorization": f"Bearer {token}"}).json()
    assert me["bound"] is False


def test_wrong_bind_codes_are_limited(stack):
    oid = openid()
    replies = [reply_content(post(stack, text_xml(oid, f"绑定 ZZZZ-{1000 + i}"))) for i in range(6)]
    assert all("无效" in r or "过期" in r for r in replies[:5])
    assert "次数过多" in replies[5]


def test_nonce_helper_is_random():
    assert nonce() != nonce()
