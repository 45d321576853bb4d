"""WeChat Official Account (公众号) channel: `GET|POST /webhooks/wechat/webhook`.

Protocol (see docs and ../shared/notes/channels.md):
- every request carries `signature`, `timestamp`, `nonce`; the signature is checked in constant time and stale
  timestamps are rejected before anything else happens (unverified requests never reach the bot);
- replay: a nonce seen within the timestamp window is refused (403 `replayed_nonce`) unless the body is the
  very same (a WeChat retry, answered from the MsgId cache, so nothing runs twice);
- plain and safe mode (`encrypt_type=aes`, `msg_signature`, AES key/AppID from the environment); with
  WECHAT_AES_KEY set only encrypted messages with a valid `msg_signature` are accepted (403
  `encryption_required`);
- text messages go to the bot as sender `wechat:<openid>`, with the bound student's short-lived token (from the
  backend) in the metadata; voice messages with WeChat's `Recognition` text are answered like text (without
  it: a kind reply to type instead); subscribe events get a welcome; other types a polite text;
- 5-second rule: the passive reply is used when the answer is ready within `WECHAT_REPLY_TIMEOUT` (4 s),
  otherwise `success` is answered and the answer goes out through the customer-service API in the background
  (aiohttp with timeouts, never blocking the loop); retries of one message are answered once (TTL dedup by
  MsgId, events by FromUserName+CreateTime); a retry of a message whose answer is ready and not yet delivered
  (the customer-service API failed or is not configured) gets the answer as its passive reply;
- replies are split by UTF-8 bytes and CDATA-escaped;
- binding: a code from the web page (8 characters, shown as XXXX-XXXX, any case, hyphen optional) binds the
  OpenID to a student (backend integration endpoints; the backend normalises and limits attempts),
  "解绑" unbinds;
- the bound student's token for the bot is the backend's short-lived action token (`aud`="actions").
"""
from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import os
import re
import time
from typing import Any, Awaitable, Callable, Dict, List, Optional, Text, Tuple

import aiohttp
from rasa.core.channels.channel import CollectingOutputChannel, InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from wechatpy import parse_message
from wechatpy.crypto import WeChatCrypto

from bot.channels.common import ACTIONS_AUDIENCE, UNAVAILABLE_TEXT, TTLCache, channel_state, verify_token
from bot.feedback import WechatFeedback

logger = logging.getLogger(__name__)

MAX_BODY_BYTES = 64 * 1024
MAX_TEXT_CHARS = 1000
REPLY_MAX_BYTES = 2000
TIMESTAMP_TOLERANCE = 300  # seconds
# a timestamp is accepted up to TOLERANCE in the past or the future: remember nonces and answers that long
REPLAY_WINDOW = 2 * TIMESTAMP_TOLERANCE + 60
# Binding codes: 8 characters (Crockford base32, shown XXXX-XXXX), any case, hyphen optional; the backend
# normalises look-alikes. A bare 8-character word must contain a digit, so ordinary words are not codes.
_CODE = r"[0-9A-Za-z]{4}[-－]?[0-9A-Za-z]{4}"
BIND_CODE_RE = re.compile(
    r"^\s*(?:(?:绑定码|绑定)\s*[:：]?\s*(" + _CODE + r")"
    r"|([0-9A-Za-z]{4}[-－][0-9A-Za-z]{4})"
    r"|((?=[A-Za-z]*[0-9])[0-9A-Za-z]{8}))\s*$"
)
UNBIND_RE = re.compile(r"^\s*(解绑|解除绑定|取消绑定)\s*$")
BIND_HELP_RE = re.compile(r"^\s*(绑定|绑定学号|怎么绑定|如何绑定)\s*[?？]?\s*$")
NOTICES_OFF_RE = re.compile(r"^\s*(关闭通知|取消通知|不要通知|退订通知|关闭提醒)\s*[。.!！]?\s*$")
NOTICES_ON_RE = re.compile(r"^\s*(开启通知|打开通知|接收通知|开启提醒)\s*[。.!！]?\s*$")

BIND_HOWTO = (
    "绑定方法：在电脑或手机浏览器登录北京理工大学就业信息网，打开“智能咨询”，点击“获取微信绑定码”，"
    "把页面上显示的绑定码（形如 K7QM-3XPD，10 分钟内有效，字母不区分大小写）直接发送到本公众号即可。"
)
WELCOME = (
    "您好，欢迎关注！我是毕业生手续“智能咨询”助手，可以：\n"
    "1. 解答毕业去向登记、户档信息登记、档案邮寄等手续问题；\n"
    "2. 信息填错时告诉您该走哪条修改流程（改签申请、毕业去向修改、户档信息修改、个人信息完善）；\n"
    "3. 绑定学号后查询您的办理进度、申请档案邮寄。\n"
    + BIND_HOWTO
    + "\n直接输入您的问题即可开始。"
)
UNBOUND_HINT = "（您还未绑定学号，以上为通用解答。如需查询个人办理进度，请先绑定。" + BIND_HOWTO + "）"
NON_TEXT_REPLY = "目前只能处理文字消息，请直接用文字输入您的问题。"
VOICE_UNRECOGNISED_REPLY = "抱歉，这条语音没能识别成文字（可能是语音识别未开启或声音不清楚），请改用文字输入您的问题。"
TOO_LONG_REPLY = f"消息太长了，请控制在 {MAX_TEXT_CHARS} 字以内再发送。"


# --- pure helpers (unit-tested) ---------------------------------------------------------------------------
def sha1_signature(*parts: str) -> str:
    return hashlib.sha1("".join(sorted(parts)).encode("utf-8")).hexdigest()


def signature_ok(token: str, signature: str, timestamp: str, nonce: str, extra: Optional[str] = None) -> bool:
    parts = [token, timestamp, nonce] + ([extra] if extra is not None else [])
    return hmac.compare_digest(sha1_signature(*parts).encode(), (signature or "").encode())


def cdata(text: str) -> str:
    """Wrap in CDATA, splitting any `]]>` so the text cannot close the section."""
    return "<![CDATA[" + text.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def split_utf8(text: str, max_bytes: int = REPLY_MAX_BYTES) -> List[str]:
    """Split text into chunks of at most `max_bytes` UTF-8 bytes, never inside a character.

    Prefers to cut after a newline, then after Chinese/ASCII punctuation, within the last quarter of a chunk.
    """
    text = text.strip()
    chunks: List[str] = []
    while text:
        if len(text.encode("utf-8")) <= max_bytes:
            chunks.append(text)
            break
        size, cut = 0, 0
        for i, ch in enumerate(text):
            size += len(ch.encode("utf-8"))
            if size > max_bytes:
                break
            cut = i + 1
        best = cut
        window = text[int(cut * 0.75):cut]
        for seps in ("\n", "。！？；!?;", "，,、 "):
            pos = max(window.rfind(s) for s in seps)
            if pos >= 0:
                best = int(cut * 0.75) + pos + 1
                break
        chunks.append(text[:best].strip())
        text = text[best:].lstrip()
    return [c for c in chunks if c]


def text_reply_xml(to_user: str, from_user: str, content: str, now: Optional[int] = None) -> str:
    return (
        "<xml>"
        f"<ToUserName>{cdata(to_user)}</ToUserName>"
        f"<FromUserName>{cdata(from_user)}</FromUserName>"
        f"<CreateTime>{int(now or time.time())}</CreateTime>"
        "<MsgType><![CDATA[text]]></MsgType>"
        f"<Content>{cdata(content)}</Content>"
        "</xml>"
    )


def render_bot_messages(messages: List[Dict[str, Any]]) -> Tuple[str, List[str]]:
    """Bot messages -> one plain text for WeChat plus the payloads of numbered quick replies."""
    parts: List[str] = []
    payloads: List[str] = []
    for m in messages:
        if m.get("text"):
            parts.append(str(m["text"]))
        custom = m.get("custom")
        if isinstance(custom, dict) and isinstance(custom.get("text"), str):
            parts.append(custom["text"])
        if m.get("image"):
            parts.append(str(m["image"]))
        buttons = [b for b in (m.get("buttons") or []) if isinstance(b, dict) and b.get("title")]
        if buttons:
            lines = []
            for b in buttons:
                payloads.append(str(b.get("payload") or b["title"]))
                lines.append(f"{len(payloads)}. {b['title']}")
            parts.append("回复数字选择：\n" + "\n".join(lines))
    return "\n\n".join(p.strip() for p in parts if p and p.strip()), payloads


def _reject(status: int, code: str, message: str) -> HTTPResponse:
    """A refused request: machine-readable `code` (these callers are WeChat's servers or attackers)."""
    return response.json({"code": code, "message": message}, status=status)


class _Entry:
    """State of one incoming message, shared by WeChat's retries of it.

    Who delivers the answer is the channel's `_claims` state (shared by the Rasa servers): none yet, "passive"
    (a request's reply; retries get the same text) or "cs" (the customer-service API). A retry finding the answer
    ready and unclaimed takes it.
    """

    def __init__(self, task: "asyncio.Task[List[str]]") -> None:
        self.task = task
        self.waiters = 0  # requests (first or retries) waiting for the answer right now
        self.background_scheduled = False


class WeChatInput(InputChannel):
    @classmethod
    def name(cls) -> Text:
        return "wechat"

    def __init__(
        self,
        token: str,
        aes_key: Optional[str] = None,
        appid: Optional[str] = None,
        appsecret: Optional[str] = None,
        api_base: str = "https://api.weixin.qq.com",
        backend_url: str = "http://127.0.0.1:8000",
        integration_key: str = "demo-integration-key",
        reply_timeout: float = 4.0,
        http_timeout: float = 5.0,
    ) -> None:
        self.token = token
        self.appid = appid or ""
        self.appsecret = appsecret or ""
        self.crypto = WeChatCrypto(token, aes_key, appid or "") if aes_key else None
        self.api_base = api_base.rstrip("/")
        self.backend_url = backend_url.rstrip("/")
        self.integration_key = integration_key
        self.reply_timeout = reply_timeout
        self.http_timeout = http_timeout
        # Shared by all Rasa servers when CHANNEL_STATE_URL is set (Redis), else in this process:
        self._nonces = channel_state("wechat:nonce", REPLAY_WINDOW, 100000)  # nonce -> sha1 of the body
        self._buttons = channel_state("wechat:buttons", 30 * 60)  # openid -> quick-reply payloads
        self._hinted = channel_state("wechat:hinted", 24 * 3600, 50000)  # openids told how to bind
        self._bind_failures = channel_state("wechat:bind_failures", 10 * 60)
        # one incoming message (key: openid + MsgId): the server computing its answer, the answer, who delivers it
        self._owners = channel_state("wechat:owner", REPLAY_WINDOW)
        self._answers = channel_state("wechat:answer", REPLAY_WINDOW)
        self._claims = channel_state("wechat:claim", REPLAY_WINDOW)
        self._api_token = channel_state("wechat:access_token", 7200, 10)
        self._seen = TTLCache(ttl=REPLAY_WINDOW, max_items=20000)  # message key -> _Entry (this process: a task)
        self._access_token: Optional[Tuple[str, float]] = None
        self._token_lock: Optional[asyncio.Lock] = None
        self._session: Optional[aiohttp.ClientSession] = None
        self.feedback = WechatFeedback(self._backend)  # 👍/👎 on the last answer (issue 14, bot/feedback.py)
        self._tasks: set = set()

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> "WeChatInput":
        c = {k: v for k, v in (credentials or {}).items() if v not in (None, "")}
        env = os.environ.get
        return cls(
            token=c.get("token") or env("WECHAT_TOKEN") or "demo-wechat-token",
            aes_key=c.get("aes_key") or env("WECHAT_AES_KEY") or None,
            appid=c.get("appid") or env("WECHAT_APPID") or None,
            appsecret=c.get("appsecret") or env("WECHAT_APPSECRET") or None,
            api_base=c.get("api_base") or env("WECHAT_API_BASE") or "https://api.weixin.qq.com",
            backend_url=c.get("backend_url") or env("BACKEND_URL") or "http://127.0.0.1:8000",
            integration_key=c.get("integration_key") or env("INTEGRATION_KEY") or "demo-integration-key",
            reply_timeout=float(c.get("reply_timeout") or env("WECHAT_REPLY_TIMEOUT") or 4.0),
        )

    # --- outgoing HTTP (async, with timeouts) ----------------------------------------------------------
    def _http(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=self.http_timeout, connect=2)
            )
        return self._session

    async def _backend(self, method: str, path: str, payload: Dict[str, Any]) -> Tuple[int, Dict[str, Any]]:
        """Call a backend integration endpoint; (0, {}) when the backend cannot be reached."""
        try:
            async with self._http().request(
                method,
                self.backend_url + path,
                json=payload,
                headers={"X-Integration-Key": self.integration_key},
            ) as r:
                try:
                    data = await r.json(content_type=None)
                except Exception:
                    data = {}
                return r.status, data if isinstance(data, dict) else {}
        except (aiohttp.ClientError, asyncio.TimeoutError, OSError):
            logger.warning("wechat: backend %s %s unreachable", method, path)
            return 0, {}

    async def _access(self, refresh: bool = False) -> Optional[str]:
        if self._token_lock is None:
            self._token_lock = asyncio.Lock()
        async with self._token_lock:
            if not refresh and self._access_token and self._access_token[1] > time.monotonic():
                return self._access_token[0]
            # another Rasa server's token: a new one would void it (WeChat keeps one token per account)
            shared = self._api_token.get(self.appid)
            if shared and shared != (self._access_token or ("",))[0] and not refresh:
                self._access_token = (shared, time.monotonic() + 60)
                return shared
            try:
                async with self._http().get(
                    self.api_base + "/cgi-bin/token",
                    params={"grant_type": "client_credential", "appid": self.appid, "secret": self.appsecret},
                ) as r:
                    data = await r.json(content_type=None)
            except (aiohttp.ClientError, asyncio.TimeoutError, OSError, ValueError):
                logger.warning("wechat: access token request failed")
                return None
            tok = data.get("access_token") if isinstance(data, dict) else None
            if not tok:
                logger.warning("wechat: no access token: %s", data)
                return None
            ttl = max(60, int(data.get("expires_in") or 7200) - 300)
            self._access_token = (tok, time.monotonic() + ttl)
            self._api_token.set(self.appid, tok, ttl)
            return tok

    async def send_customer_text(self, openid: str, text: str) -> bool:
        """Send one text through the customer-service API (refreshing an expired access token once)."""
        if not (self.appid and self.appsecret):
            return False  # not configured (the demo): the answer waits for a retry instead
        for attempt in range(2):
            tok = await self._access(refresh=attempt > 0)
            if not tok:
                return False
            try:
                async with self._http().post(
                    self.api_base + "/cgi-bin/message/custom/send",
                    params={"access_token": tok},
                    json={"touser": openid, "msgtype": "text", "text": {"content": text}},
                ) as r:
                    data = await r.json(content_type=None)
            except (aiohttp.ClientError, asyncio.TimeoutError, OSError, ValueError):
                logger.warning("wechat: customer-service send failed")
                return False
            code = data.get("errcode", 0) if isinstance(data, dict) else -1
            if code == 0:
                return True
            if code in (40001, 40014, 42001) and attempt == 0:
                continue
            logger.warning("wechat: customer-service send refused: %s", data)
            return False
        return False

    async def _send_all_background(self, openid: str, chunks: List[str], delay: float = 0.0) -> None:
        if delay:
            await asyncio.sleep(delay)
        for chunk in chunks:
            if not await self.send_customer_text(openid, chunk):
                break

    def _spawn(self, coro: Awaitable[Any]) -> "asyncio.Task":
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    # --- conversation ---------------------------------------------------------------------------------
    async def answer_text(self, on_new_message: Callable, openid: str, text: str) -> str:
        """Produce the full answer text for one user text (binding commands or the bot)."""
        if len(text) > MAX_TEXT_CHARS:
            return TOO_LONG_REPLY
        m = BIND_CODE_RE.match(text)
        if m:
            code = next(g for g in m.groups() if g)
            return await self._bind(openid, code.replace("－", "-"))
        if UNBIND_RE.match(text):
            status, _ = await self._backend("DELETE", "/api/integration/wechat/bind", {"openid": openid})
            if status in (200, 204, 404):
                return "已解除学号绑定。之后仍可咨询通用问题；需要查询个人进度时可重新绑定。"
            return UNAVAILABLE_TEXT
        if BIND_HELP_RE.match(text):
            return BIND_HOWTO
        if NOTICES_OFF_RE.match(text) or NOTICES_ON_RE.match(text):  # issue 15 §1: WeChat notices on/off
            return await self._set_notices(openid, bool(NOTICES_ON_RE.match(text)))
        fb = await self.feedback.reply(openid, text)
        if fb is not None:
            return fb

        payloads = self._buttons.get(openid) or []
        if text.strip().isdigit() and 1 <= int(text.strip()) <= len(payloads):
            text = payloads[int(text.strip()) - 1]

        status, data = await self._backend("POST", "/api/integration/wechat/token", {"openid": openid})
        token = data.get("access_token") if status == 200 else None
        metadata: Dict[str, Any] = {"channel": "wechat"}
        claims = verify_token(token, audience=ACTIONS_AUDIENCE) if token else None
        if claims:
            metadata.update(token=token, role=claims["role"], user_id=claims["sub"])
        else:
            token = None

        collector = CollectingOutputChannel()
        try:
            await on_new_message(
                UserMessage(text, collector, f"wechat:{openid}", input_channel=self.name(), metadata=metadata)
            )
        except Exception:
            logger.exception("wechat: bot turn failed")
        reply, new_payloads = render_bot_messages(collector.messages)
        if new_payloads:
            self._buttons.set(openid, new_payloads)
        else:
            self._buttons.pop(openid)
        if not reply:
            reply = UNAVAILABLE_TEXT
        else:
            reply = self.feedback.remember(openid, text, reply)
        if not token and status in (404,) and (openid not in self._hinted or "登录" in reply):
            self._hinted.set(openid, True)
            reply += "\n\n" + UNBOUND_HINT
        return reply

    async def _set_notices(self, openid: str, enabled: bool) -> str:
        status, _ = await self._backend("POST", "/api/integration/wechat/notices",
                                        {"openid": openid, "enabled": enabled})
        if status == 200:
            return ("已开启办理进度通知：审核结果、同步、档案寄出等进展会在微信里告诉你。发送“关闭通知”可关闭。"
                    if enabled else "已关闭微信里的办理进度通知（登录网页“智能咨询”时仍会看到）。发送“开启通知”可重新开启。")
        if status == 404:
            return "您还未绑定学号，没有可以设置的通知。" + BIND_HOWTO
        return UNAVAILABLE_TEXT

    async def _bind(self, openid: str, code: str) -> str:
        failures = self._bind_failures.get(openid, 0)
        if failures >= 5:
            return "绑定码错误次数过多，请 10 分钟后再试，或在网页上重新获取绑定码。"
        status, data = await self._backend(
            "POST", "/api/integration/wechat/bind", {"openid": openid, "code": code}
        )
        if status == 200:
            self._bind_failures.pop(openid)
            name = str(data.get("name") or "").strip()
            who = f"{name}同学，" if name else ""
            return (f"绑定成功！{who}现在可以直接问“我的办理进度”或申请档案邮寄了。办理进度有变化（审核结果、同步、"
                    "档案寄出等）会在这里通知你，发送“关闭通知”可关闭。发送“解绑”可解除绑定。")
        if status == 0 or status >= 500:
            return "暂时无法完成绑定，请稍后再试。"
        if status == 429:  # the backend's own attempt limits (per openid and overall)
            msg = data.get("message")
            return msg if isinstance(msg, str) and msg.strip() else "绑定尝试次数过多，请稍后再试。"
        self._bind_failures.set(openid, failures + 1)
        if data.get("code") == "bind_code_expired":
            return "绑定码已过期，请在就业信息网“智能咨询”中重新获取（10 分钟内有效）。"
        return "绑定码无效或已使用，请核对后重新发送，或在就业信息网“智能咨询”中重新获取。"

    # --- request handling -----------------------------------------------------------------------------
    def _verify(self, request: Request) -> Optional[HTTPResponse]:
        args = request.args
        signature, timestamp, nonce = (args.get(k) or "" for k in ("signature", "timestamp", "nonce"))
        if not (signature and timestamp and nonce) or len(nonce) > 64 or not timestamp.isdigit():
            return _reject(400, "bad_signature_params", "missing or malformed signature, timestamp or nonce")
        if abs(time.time() - int(timestamp)) > TIMESTAMP_TOLERANCE:
            return _reject(403, "stale_timestamp", "timestamp outside the 300 s window")
        if not signature_ok(self.token, signature, timestamp, nonce):
            return _reject(403, "invalid_signature", "invalid signature")
        return None

    def _check_replay(self, request: Request) -> Optional[HTTPResponse]:
        """Refuse a nonce already used within the window, unless with the very same body (a WeChat retry)."""
        nonce = request.args.get("nonce") or ""
        digest = hashlib.sha1(request.body or b"").hexdigest()
        if self._nonces.add_if_absent(nonce, digest):
            return None
        if self._nonces.get(nonce) == digest:
            return None
        logger.warning("wechat: replayed nonce refused")
        return _reject(403, "replayed_nonce", "nonce already used")

    def _xml_response(self, xml: str, request: Request) -> HTTPResponse:
        if request.args.get("encrypt_type") == "aes" and self.crypto:
            nonce = request.args.get("nonce") or ""
            xml = self.crypto.encrypt_message(xml, nonce, str(int(time.time())))
        return response.text(xml, content_type="application/xml; charset=utf-8")

    def _parse(self, request: Request) -> Tuple[Optional[Any], Optional[HTTPResponse]]:
        body = request.body or b""
        if len(body) > MAX_BODY_BYTES:
            return None, _reject(413, "too_large", "body too large")
        encrypted = request.args.get("encrypt_type") == "aes"
        if self.crypto and not encrypted:
            # safe mode configured: a plaintext message is not from WeChat (or was downgraded): never accept it
            return None, _reject(403, "encryption_required", "safe mode: only encrypted messages are accepted")
        if not body.strip():
            return None, _reject(400, "empty_body", "empty body")
        lowered = body[:4096].lower()
        if b"<!doctype" in lowered or b"<!entity" in lowered:
            return None, _reject(400, "entities_not_allowed", "entity declarations are not allowed")
        try:
            xml = body.decode("utf-8")
            if encrypted:
                if not self.crypto:
                    return None, _reject(400, "safe_mode_not_configured", "safe mode is not configured")
                msg_signature = request.args.get("msg_signature") or ""
                if not msg_signature:
                    return None, _reject(403, "missing_msg_signature", "missing msg_signature")
                from wechatpy.exceptions import InvalidAppIdException, InvalidSignatureException

                try:
                    xml = self.crypto.decrypt_message(
                        xml, msg_signature, request.args.get("timestamp"), request.args.get("nonce")
                    )
                except (InvalidSignatureException, InvalidAppIdException):
                    return None, _reject(403, "invalid_msg_signature", "invalid msg_signature or appid")
                if "<!doctype" in xml.lower() or "<!entity" in xml.lower():
                    return None, _reject(400, "entities_not_allowed", "entity declarations are not allowed")
            msg = parse_message(xml)
        except Exception as e:  # ExpatError, ValueError (entities), KeyError, TypeError, bad padding...
            logger.info("wechat: unparseable message: %s", type(e).__name__)
            return None, _reject(400, "malformed_message", "malformed message")
        if msg is None:
            return None, _reject(400, "missing_fields", "missing fields")
        raw = msg._data if isinstance(getattr(msg, "_data", None), dict) else {}

        def field(name: str) -> Optional[str]:
            v = raw.get(name)
            return v if isinstance(v, str) else None

        inc = {
            "openid": field("FromUserName"),
            "account": field("ToUserName"),
            "create_time": field("CreateTime"),
            "type": msg.type,
            "event": (field("Event") or "").lower(),
            "content": field("Content"),
            "recognition": field("Recognition"),  # voice: WeChat's speech recognition, when enabled
            "msg_id": field("MsgId"),
        }
        if not inc["openid"] or not inc["account"] or not inc["create_time"]:
            return None, _reject(400, "missing_fields", "missing fields")
        if len(inc["openid"]) > 128 or len(inc["account"]) > 128 or not inc["create_time"].isdigit():
            return None, _reject(400, "malformed_fields", "malformed fields")
        if raw.get("MsgId") is not None and not (inc["msg_id"] or "").isdigit():
            return None, _reject(400, "malformed_fields", "malformed MsgId")
        return inc, None

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        bp = Blueprint("wechat_webhook", __name__)

        @bp.listener("after_server_stop")
        async def close_http(app: Any, loop: Any) -> None:
            if self._session is not None:
                await self._session.close()

        @bp.route("/", methods=["GET"])
        async def health(request: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @bp.route("/webhook", methods=["GET"])
        async def verify(request: Request) -> HTTPResponse:
            bad = self._verify(request)
            if bad:
                return bad
            echostr = request.args.get("echostr")
            if not echostr:
                return _reject(400, "missing_echostr", "missing echostr")
            return response.text(echostr)

        @bp.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            bad = self._verify(request)
            if bad:
                return bad
            msg, bad = self._parse(request)
            if bad:
                return bad
            bad = self._check_replay(request)  # after verification: only genuine requests use up a nonce
            if bad:
                return bad
            reply = await self._handle(msg, on_new_message)
            if reply is None:
                return response.text("success")
            return self._xml_response(text_reply_xml(msg["openid"], msg["account"], reply), request)

        return bp

    async def _handle(self, msg: Dict[str, Any], on_new_message: Callable) -> Optional[str]:
        """Return the passive reply text, or None to answer `success`."""
        openid = msg["openid"]
        if msg["type"] == "event":
            if msg["event"] in ("subscribe", "subscribe_scan"):
                # static and side-effect free, so a retry of the event may get it again
                return split_utf8(WELCOME)[0]
            return None
        if msg["type"] == "voice":
            # answered like typed text (same de-duplication by MsgId); recognition ends sentences with 。
            content = (msg["recognition"] or "").strip().rstrip("。．.！!？?，, ")
            if not content:
                return VOICE_UNRECOGNISED_REPLY
        elif msg["type"] != "text":
            return NON_TEXT_REPLY
        else:
            content = msg["content"]
        if not content or not content.strip():
            return "请直接输入您的问题。"
        key = ("msg", openid, msg["msg_id"] or msg["create_time"])
        entry: Optional[_Entry] = self._seen.get(key)
        if entry is None:
            if not self._owners.add_if_absent(key, True):
                # another Rasa server got this message first (a WeChat retry sent elsewhere by the balancer)
                return await self._answer_of_other_server(key, openid)
            entry = _Entry(asyncio.ensure_future(self._answer_and_share(key, on_new_message, openid,
                                                                         content.strip())))
            self._seen.set(key, entry)
        claim = self._claims.get(key)
        if claim == "passive" and entry.task.done():
            return entry.task.result()[0]  # WeChat did not get our first answer: the same answer again
        if claim == "cs":
            return None  # going out through the customer-service API
        # not delivered yet: the first request, or a retry while it is computing or after the CS API failed
        entry.waiters += 1
        try:
            chunks: Optional[List[str]] = await asyncio.wait_for(asyncio.shield(entry.task),
                                                                 timeout=self.reply_timeout)
        except asyncio.TimeoutError:
            chunks = None
        except Exception:
            logger.exception("wechat: answer failed")
            chunks = [UNAVAILABLE_TEXT]
        finally:
            entry.waiters -= 1
        if chunks is None:
            if self._claims.get(key) == "passive" and entry.task.done():
                return entry.task.result()[0]
            self._deliver_later(openid, key, entry)
            return None
        return self._take_passive(key, openid, chunks)

    def _take_passive(self, key: Tuple[str, ...], openid: str, chunks: List[str]) -> Optional[str]:
        """Deliver a ready answer as the passive reply unless the customer-service API has it (atomic claim)."""
        if self._claims.add_if_absent(key, "passive"):
            if len(chunks) > 1:
                self._spawn(self._send_all_background(openid, chunks[1:], delay=0.5))
            return chunks[0]
        return chunks[0] if self._claims.get(key) != "cs" else None

    async def _answer_and_share(self, key: Tuple[str, ...], on_new_message: Callable, openid: str,
                                text: str) -> List[str]:
        chunks = await self._answer_chunks(on_new_message, openid, text)
        self._answers.set(key, chunks)  # for a retry that reaches another Rasa server
        return chunks

    async def _answer_of_other_server(self, key: Tuple[str, ...], openid: str) -> Optional[str]:
        """A retry of a message another server is answering: its answer once ready (polled, within the reply
        timeout), else `success` (that server sends it through the customer-service API or to a later retry)."""
        deadline = time.monotonic() + self.reply_timeout
        while True:
            chunks = self._answers.get(key)
            if chunks:
                return self._take_passive(key, openid, chunks)
            if time.monotonic() >= deadline:
                return None
            await asyncio.sleep(0.05)

    def _deliver_later(self, openid: str, key: Tuple[str, ...], entry: _Entry) -> None:
        """Once the answer is ready: a waiting retry takes it, else the customer-service API; if that fails,
        the answer stays unclaimed so that a later retry of the message still gets it as its passive reply."""
        if entry.background_scheduled:
            return
        entry.background_scheduled = True

        async def deliver() -> None:
            try:
                chunks = await entry.task
            except Exception:
                chunks = [UNAVAILABLE_TEXT]
            await asyncio.sleep(0)  # let a retry waiting on the same task take it first
            if entry.waiters or not self._claims.add_if_absent(key, "cs"):
                entry.background_scheduled = False
                return
            if not await self.send_customer_text(openid, chunks[0]):
                self._claims.pop(key)
                entry.background_scheduled = False
                logger.warning("wechat: answer kept for a retry (customer-service API unavailable)")
                return
            await self._send_all_background(openid, chunks[1:])

        self._spawn(deliver())

    async def _answer_chunks(self, on_new_message: Callable, openid: str, text: str) -> List[str]:
        try:
            reply = await self.answer_text(on_new_message, openid, text)
        except Exception:
            logger.exception("wechat: answer failed")
            reply = UNAVAILABLE_TEXT
        return split_utf8(reply) or [UNAVAILABLE_TEXT]
