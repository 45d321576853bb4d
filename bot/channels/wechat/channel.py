"""The WeChat Official Account (公众号) input channel: `GET|POST /webhooks/wechat/webhook`.

A verified message (protocol.py) is answered once per MsgId (delivery.py): account commands first
(commands.py: binding, 解绑, notices), then 👍/👎 feedback (bot/feedback.py), then the bot. Text goes to the
bot as sender `wechat:<openid>` with the bound student's short-lived action token (`aud`="actions", from the
backend) in the metadata; voice messages with WeChat's `Recognition` text are answered like text (without it:
a kind reply to type instead); subscribe events get a welcome; other types a polite text. Numbered quick
replies ("回复数字选择") map a typed number back to the button's payload.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import CollectingOutputChannel, InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from wechatpy.crypto import WeChatCrypto

from bot.channels.common import UNAVAILABLE_TEXT, channel_state, wechat_conversation_id
from bot.channels.handoff import HandoffGate
from bot.channels.wechat import protocol
from bot.channels.wechat.api import HTTP, WeChatAPI
from bot.channels.wechat.backend import Backend
from bot.channels.wechat.commands import (
    EMPTY_REPLY,
    NON_TEXT_REPLY,
    UNBOUND_HINT,
    VOICE_UNRECOGNISED_REPLY,
    WELCOME,
    Commands,
)
from bot.channels.wechat.delivery import Delivery
from bot.feedback import WechatFeedback
from bot.startup import apply_rasa_patches
from contracts import demo
from contracts.settings import rasa as rasa_settings

logger = logging.getLogger(__name__)

OnNewMessage = Callable[[UserMessage], Awaitable[Any]]


class WeChatInput(InputChannel):
    @classmethod
    def name(cls) -> str:
        return "wechat"

    def __init__(
        self,
        token: str,
        aes_key: str | None = None,
        appid: str | None = None,
        appsecret: str | None = None,
        api_base: str = "https://api.weixin.qq.com",
        backend_url: str = "http://127.0.0.1:8000",
        integration_key: str = demo.INTEGRATION_KEY,
        reply_timeout: float = 4.0,
        http_timeout: float = 5.0,
    ) -> None:
        self.token = token
        self.crypto = WeChatCrypto(token, aes_key, appid or "") if aes_key else None
        self.http = HTTP(http_timeout)
        # channel states: shared by all Rasa servers when CHANNEL_STATE_URL is set (Redis), else in this
        # process
        self._nonces = channel_state(
            "wechat:nonce", protocol.REPLAY_WINDOW, 100000
        )  # nonce -> sha1 of the body
        self._buttons = channel_state("wechat:buttons", 30 * 60)  # openid -> quick-reply payloads
        self._hinted = channel_state("wechat:hinted", 24 * 3600, 50000)  # openids told how to bind
        self.api = WeChatAPI(
            self.http, appid or "", appsecret or "", api_base, channel_state("wechat:access_token", 7200, 10)
        )
        self.backend = Backend(self.http, backend_url, integration_key)
        self.commands = Commands(self.backend, channel_state("wechat:bind_failures", 10 * 60))
        self.feedback = WechatFeedback(self.backend)  # 👍/👎 on the last answer (issue 14, bot/feedback.py)
        self.delivery = Delivery(self.api, reply_timeout)
        self.handoff = HandoffGate(backend_url, integration_key)  # a person holds the chat: bot silent (§2)

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> WeChatInput:
        apply_rasa_patches()  # no-op when deploy/rasa_run.py did it; a plain `rasa run` gets the same checks
        c = {k: v for k, v in (credentials or {}).items() if v not in (None, "")}
        s = rasa_settings()
        return cls(
            token=c.get("token") or s.wechat_token,
            aes_key=c.get("aes_key") or s.wechat_aes_key or None,
            appid=c.get("appid") or s.wechat_appid or None,
            appsecret=c.get("appsecret") or s.wechat_appsecret or None,
            api_base=c.get("api_base") or s.wechat_api_base,
            backend_url=c.get("backend_url") or s.backend_url,
            integration_key=c.get("integration_key") or s.integration_key,
            reply_timeout=float(c.get("reply_timeout") or s.wechat_reply_timeout),
        )

    def blueprint(self, on_new_message: OnNewMessage) -> Blueprint:
        bp = Blueprint("wechat_webhook", __name__)

        @bp.listener("after_server_stop")
        async def close_http(app: Any, loop: Any) -> None:
            await self.http.close()

        @bp.route("/", methods=["GET"])
        async def health(request: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @bp.route("/webhook", methods=["GET"])
        async def verify(request: Request) -> HTTPResponse:
            bad = protocol.verify(request, self.token)
            if bad:
                return bad
            echostr = request.args.get("echostr")
            if not echostr:
                return protocol.reject(400, "missing_echostr", "missing echostr")
            return response.text(echostr)

        @bp.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            bad = protocol.verify(request, self.token)
            if bad:
                return bad
            msg, bad = protocol.parse(request, self.crypto)
            if bad:
                return bad
            # after verification and parsing: only genuine requests use up a nonce
            bad = protocol.check_replay(request, self._nonces)
            if bad:
                return bad
            assert msg is not None  # parse gives the message or the answer to a bad request
            reply = await self._handle(msg, on_new_message)
            if not reply:  # None, or "" while a person holds the conversation (nothing to say now)
                return response.text("success")
            return protocol.xml_response(
                protocol.text_reply_xml(msg.openid, msg.account, reply), request, self.crypto
            )

        return bp

    async def _handle(self, msg: protocol.Incoming, on_new_message: OnNewMessage) -> str | None:
        """The passive reply text, or None to answer `success`."""
        if msg.type == "event":
            if msg.event in ("subscribe", "subscribe_scan"):
                # static and side-effect free, so a retry of the event may get it again
                return protocol.split_utf8(WELCOME)[0]
            return None
        content: str | None
        if msg.type == "voice":
            # answered like typed text (same de-duplication by MsgId); recognition ends sentences with 。
            content = (msg.recognition or "").strip().rstrip("。．.！!？?，, ")
            if not content:
                return VOICE_UNRECOGNISED_REPLY
        elif msg.type != "text":
            return NON_TEXT_REPLY
        else:
            content = msg.content
        if not content or not content.strip():
            return EMPTY_REPLY
        text = content.strip()
        return await self.delivery.reply(
            msg.key, msg.openid, lambda: self._answer_chunks(on_new_message, msg.openid, text)
        )

    async def _answer_chunks(self, on_new_message: OnNewMessage, openid: str, text: str) -> list[str]:
        try:
            reply = await self.answer_text(on_new_message, openid, text)
        except Exception:
            logger.exception("wechat: answer failed")
            reply = UNAVAILABLE_TEXT
        if reply == "":  # kept for the counselor, nothing to say now (their replies go out as CS messages)
            return [""]
        return protocol.split_utf8(reply) or [UNAVAILABLE_TEXT]

    async def answer_text(self, on_new_message: OnNewMessage, openid: str, text: str) -> str:
        """The full answer to one user text: an account command, feedback, or the bot's answer."""
        reply = await self.commands.reply(openid, text)
        note = None
        if reply is None:
            held = await self.handoff.check(wechat_conversation_id(openid), "wechat", text)
            if held and held["held"]:
                return held["reply"] or ""
            note = held.get("note") if held else None  # e.g. the queue ended: said before the bot's answer
        answer = await self._answer_after_gate(on_new_message, openid, text, reply)
        if reply is None and held and held.get("session_id"):  # queued: the counselor also sees the answer
            await self.handoff.store_answer(wechat_conversation_id(openid), "wechat", held, [answer])
        return note + "\n" + answer if note else answer

    async def _answer_after_gate(
        self, on_new_message: OnNewMessage, openid: str, text: str, reply: str | None
    ) -> str:
        if reply is None:
            reply = await self.feedback.reply(openid, text)
        if reply is not None:
            return reply
        payloads = self._buttons.get(openid) or []
        if text.strip().isdigit() and 1 <= int(text.strip()) <= len(payloads):
            text = payloads[int(text.strip()) - 1]
        return await self.ask_bot(on_new_message, openid, text)

    async def ask_bot(self, on_new_message: OnNewMessage, openid: str, text: str) -> str:
        """One turn of the bot for conversation `wechat:<openid>`, as the bound student when there is one."""
        status, token, claims = await self.backend.student_token(openid)
        metadata: dict[str, Any] = {"channel": "wechat"}
        if claims:
            metadata.update(token=token, role=claims["role"], user_id=claims["sub"])
        collector, conversation = CollectingOutputChannel(), wechat_conversation_id(openid)
        try:
            await on_new_message(
                UserMessage(text, collector, conversation, input_channel=self.name(), metadata=metadata)
            )
        except Exception:
            logger.exception("wechat: bot turn failed")
        self.handoff.mark_from(conversation, collector.messages)  # this turn asked for a person
        reply, new_payloads = protocol.render_bot_messages(collector.messages)
        if new_payloads:
            self._buttons.set(openid, new_payloads)
        else:
            self._buttons.pop(openid)
        if not reply:
            reply = UNAVAILABLE_TEXT
        else:
            reply = self.feedback.remember(openid, text, reply)
        if not token and status == 404 and (openid not in self._hinted or "登录" in reply):
            self._hinted.set(openid, True)
            reply += "\n\n" + UNBOUND_HINT
        return reply
