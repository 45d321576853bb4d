"""WeChat message protocol (wechatpy's crypto/parser layer): request verification, replay window, parsing of
an incoming message into plain fields, passive reply XML and reply splitting. No I/O and no bot logic here.

- every request carries `signature`, `timestamp`, `nonce`; the signature is checked in constant time and stale
  timestamps are rejected before anything else happens (unverified requests never reach the bot);
- replay: a nonce seen within the timestamp window is refused (403 `replayed_nonce`) unless the body is the
  very same (a WeChat retry, answered from the MsgId cache, so nothing runs twice);
- plain and safe mode (`encrypt_type=aes`, `msg_signature`); with an AES key configured only encrypted
  messages with a valid `msg_signature` are accepted (403 `encryption_required`);
- replies are split by UTF-8 bytes and CDATA-escaped.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import time
from dataclasses import dataclass
from typing import Any

from sanic import response
from sanic.request import Request
from sanic.response import HTTPResponse
from wechatpy import parse_message
from wechatpy.crypto import WeChatCrypto
from wechatpy.exceptions import InvalidAppIdException, InvalidSignatureException

logger = logging.getLogger(__name__)

MAX_BODY_BYTES = 64 * 1024
REPLY_MAX_BYTES = 2000
TIMESTAMP_TOLERANCE = 300  # seconds
# a timestamp is accepted up to TOLERANCE in the past or the future: remember nonces and answers that long
REPLAY_WINDOW = 2 * TIMESTAMP_TOLERANCE + 60


@dataclass
class Incoming:
    """One verified incoming message or event, as plain strings."""

    openid: str
    account: str
    create_time: str
    type: str
    event: str = ""
    content: str | None = None
    recognition: str | None = None  # voice: WeChat's speech recognition, when enabled
    msg_id: str | None = None

    @property
    def key(self) -> tuple[str, str, str]:
        """The message's identity across WeChat's retries of it."""
        return ("msg", self.openid, self.msg_id or self.create_time)


def sha1_signature(*parts: str) -> str:
    return hashlib.sha1("".join(sorted(parts)).encode("utf-8")).hexdigest()


def signature_ok(token: str, signature: str, timestamp: str, nonce: str) -> bool:
    """wechatpy.utils.check_signature compares with `!=`; this is the same check in constant time."""
    return hmac.compare_digest(sha1_signature(token, timestamp, nonce).encode(), (signature or "").encode())


def cdata(text: str) -> str:
    """Wrap in CDATA, splitting any `]]>` so the text cannot close the section (wechatpy's replies do not)."""
    return "<![CDATA[" + text.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def split_utf8(text: str, max_bytes: int = REPLY_MAX_BYTES) -> list[str]:
    """Split text into chunks of at most `max_bytes` UTF-8 bytes, never inside a character.

    Prefers to cut after a newline, then after Chinese/ASCII punctuation, within the last quarter of a chunk.
    """
    text = text.strip()
    chunks: list[str] = []
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
        window = text[int(cut * 0.75) : cut]
        for seps in ("\n", "。！？；!?;", "，,、 "):
            pos = max(window.rfind(s) for s in seps)
            if pos >= 0:
                best = int(cut * 0.75) + pos + 1
                break
        chunks.append(text[:best].strip())
        text = text[best:].lstrip()
    return [c for c in chunks if c]


def text_reply_xml(to_user: str, from_user: str, content: str, now: int | None = None) -> str:
    return (
        "<xml>"
        f"<ToUserName>{cdata(to_user)}</ToUserName>"
        f"<FromUserName>{cdata(from_user)}</FromUserName>"
        f"<CreateTime>{int(now or time.time())}</CreateTime>"
        "<MsgType><![CDATA[text]]></MsgType>"
        f"<Content>{cdata(content)}</Content>"
        "</xml>"
    )


def render_bot_messages(messages: list[dict[str, Any]]) -> tuple[str, list[str]]:
    """Bot messages -> one plain text for WeChat plus the payloads of numbered quick replies."""
    parts: list[str] = []
    payloads: list[str] = []
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


def reject(status: int, code: str, message: str) -> HTTPResponse:
    """A refused request: machine-readable `code` (these callers are WeChat's servers or attackers)."""
    return response.json({"code": code, "message": message}, status=status)


def verify(request: Request, token: str) -> HTTPResponse | None:
    """The refusal of a request without a valid, fresh signature; None when it is genuine."""
    args = request.args
    signature, timestamp, nonce = (args.get(k) or "" for k in ("signature", "timestamp", "nonce"))
    if not (signature and timestamp and nonce) or len(nonce) > 64 or not timestamp.isdigit():
        return reject(400, "bad_signature_params", "missing or malformed signature, timestamp or nonce")
    if abs(time.time() - int(timestamp)) > TIMESTAMP_TOLERANCE:
        return reject(403, "stale_timestamp", "timestamp outside the 300 s window")
    if not signature_ok(token, signature, timestamp, nonce):
        return reject(403, "invalid_signature", "invalid signature")
    return None


def check_replay(request: Request, nonces: Any) -> HTTPResponse | None:
    """Refuse a nonce already used within the window, unless with the very same body (a WeChat retry).

    `nonces` is a channel state (nonce -> sha1 of the body)."""
    nonce = request.args.get("nonce") or ""
    digest = hashlib.sha1(request.body or b"").hexdigest()
    if nonces.add_if_absent(nonce, digest) or nonces.get(nonce) == digest:
        return None
    logger.warning("wechat: replayed nonce refused")
    return reject(403, "replayed_nonce", "nonce already used")


def _has_entities(text: str) -> bool:
    lowered = text.lower()
    return "<!doctype" in lowered or "<!entity" in lowered


def _text(value: Any) -> str | None:
    """A field's value if it is plain text (a repeated or nested element parses as a list or a dict)."""
    return value if isinstance(value, str) else None


def parse(request: Request, crypto: WeChatCrypto | None) -> tuple[Incoming | None, HTTPResponse | None]:
    """The incoming message of a verified request (decrypted in safe mode), or the refusal."""
    body = request.body or b""
    if len(body) > MAX_BODY_BYTES:
        return None, reject(413, "too_large", "body too large")
    encrypted = request.args.get("encrypt_type") == "aes"
    if crypto and not encrypted:
        # safe mode configured: a plaintext message is not from WeChat (or was downgraded): never accept it
        return None, reject(403, "encryption_required", "safe mode: only encrypted messages are accepted")
    if not body.strip():
        return None, reject(400, "empty_body", "empty body")
    if _has_entities(body[:4096].decode("latin-1")):  # never fails; the markers are ASCII
        return None, reject(400, "entities_not_allowed", "entity declarations are not allowed")
    try:
        xml = body.decode("utf-8")
        if encrypted:
            if not crypto:
                return None, reject(400, "safe_mode_not_configured", "safe mode is not configured")
            msg_signature = request.args.get("msg_signature") or ""
            if not msg_signature:
                return None, reject(403, "missing_msg_signature", "missing msg_signature")
            try:
                xml = crypto.decrypt_message(
                    xml, msg_signature, request.args.get("timestamp"), request.args.get("nonce")
                )
            except (InvalidSignatureException, InvalidAppIdException):
                return None, reject(403, "invalid_msg_signature", "invalid msg_signature or appid")
            if _has_entities(xml):
                return None, reject(400, "entities_not_allowed", "entity declarations are not allowed")
        msg = parse_message(xml)
        if msg is None:
            return None, reject(400, "missing_fields", "missing fields")
        openid, account = _text(msg.source), _text(msg.target)
    except Exception as e:  # ExpatError, ValueError (entities), KeyError, TypeError, bad padding...
        logger.info("wechat: unparseable message: %s", type(e).__name__)
        return None, reject(400, "malformed_message", "malformed message")
    try:  # wechatpy converts on access: a datetime (None when absent) and an int (0 when absent)
        stamp = msg.create_time
        created, msg_id = (int(stamp.timestamp()) if stamp is not None else None), msg.id
    except Exception:  # noqa: BLE001 - ValueError, TypeError, OverflowError, AttributeError (a nested element)
        created, msg_id = -1, -1
    if not openid or not account or created is None:
        return None, reject(400, "missing_fields", "missing fields")
    if len(openid) > 128 or len(account) > 128 or created < 0 or not isinstance(msg_id, int) or msg_id < 0:
        return None, reject(400, "malformed_fields", "malformed fields")
    inc = Incoming(
        openid=openid,
        account=account,
        create_time=str(created),
        type=msg.type,
        event=(_text(getattr(msg, "event", "")) or "").lower(),
        content=_text(getattr(msg, "content", None)),
        recognition=_text(getattr(msg, "recognition", None)),
        msg_id=str(msg_id) if msg_id else None,
    )
    return inc, None


def xml_response(xml: str, request: Request, crypto: WeChatCrypto | None) -> HTTPResponse:
    """A passive reply, encrypted when the request was."""
    if request.args.get("encrypt_type") == "aes" and crypto:
        xml = crypto.encrypt_message(xml, request.args.get("nonce") or "", str(int(time.time())))
    return response.text(xml, content_type="application/xml; charset=utf-8")
