"""Status at a glance (issue 15 §3) leaves WeChat with the text: through the real WeChat channel, the trained
bot and the real action server, a bound student's status answer is the status text, with no payload in it."""

from __future__ import annotations

import hashlib
import random
import string
import time
import uuid
import xml.etree.ElementTree as ET

import httpx
import pytest

pytestmark = pytest.mark.slow
TOKEN = "demo-wechat-token"  # the demo WECHAT_TOKEN the launcher sets


def signed() -> dict:
    ts, n = str(int(time.time())), "".join(random.choices(string.ascii_letters, k=10))
    return {
        "signature": hashlib.sha1("".join(sorted([TOKEN, ts, n])).encode()).hexdigest(),
        "timestamp": ts,
        "nonce": n,
    }


def say(system, oid: str, content: str) -> str:
    body = (
        f"<xml><ToUserName><![CDATA[gh]]></ToUserName><FromUserName><![CDATA[{oid}]]></FromUserName>"
        f"<CreateTime>{int(time.time())}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
        f"<Content><![CDATA[{content}]]></Content><MsgId>{random.randint(10**15, 10**16)}</MsgId></xml>"
    )
    r = httpx.post(
        f"{system.rasa_url}/webhooks/wechat/webhook",
        params=signed(),
        content=body.encode(),
        timeout=30,
        trust_env=False,
    )
    assert r.status_code == 200 and r.text != "success", r.text
    return ET.fromstring(r.text).findtext("Content")


def test_status_in_wechat_is_the_text_without_the_payload(system, login):
    code = httpx.post(
        f"{system.backend_url}/api/me/wechat/bind-code",
        trust_env=False,
        headers={"Authorization": f"Bearer {login('2025000006')}"},
    ).json()["code"]
    oid = "o" + uuid.uuid4().hex[:27]
    assert "绑定成功" in say(system, oid, code)
    reply = say(system, oid, "我的办理进度")
    assert "你的办理进度如下" in reply and "EMS单号 1151234567890" in reply
    for leaked in ("progress", "records", "{", "steps", "current"):
        assert leaked not in reply, reply
    assert "解除" in say(system, oid, "解绑")
