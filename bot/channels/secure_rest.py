"""Authenticated REST channel for the web widget (replaces Rasa's stock `rest` channel).

`POST /webhooks/rest/webhook` with `{"sender": "...", "message": "...", "metadata": {"token": "<jwt>"}}`.

- A valid token (HS256, `AUTH_SECRET`) keys the conversation to the token's subject (`student:<sub>`); the
  client's `sender` is ignored, so no client-chosen id can read or write a student's conversation.
- Without a valid student token the conversation is `anon:<sender>` and the token is not passed on. A client
  that sent an expired/forged token is told once that its sign-in is no longer valid; a staff token (valid for
  the staff page only) is told once that the chat is for students.
- The student's web token never reaches the bot: `metadata.token` is a fresh action token (<= 5 minutes,
  `aud`="actions", same subject and role), which the backend accepts only from the action server (service
  key). Conversation events and the tracker store therefore hold nothing that stays usable.
- CORS: only CHAT_ALLOWED_ORIGINS (never `*`).
- Bad JSON / bad fields -> 400 with `{"code", "message"}`; a turn that yields no reply (action server or
  backend down) returns a Chinese "try again later" message instead of an empty list.
"""

from __future__ import annotations

import json
import logging
import re
from asyncio import CancelledError
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import CollectingOutputChannel, InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.channels.common import (
    UNAVAILABLE_TEXT,
    RateLimit,
    allowed_origins,
    channel_state,
    client_address,
    client_pseudonym,
    conversation_id,
    mint_action_token,
    verify_token,
)
from bot.channels.handoff import HandoffGate, bot_texts
from bot.startup import apply_rasa_patches
from contracts.settings import rasa as rasa_settings

logger = logging.getLogger(__name__)

MAX_BODY_BYTES = 16 * 1024
MAX_MESSAGE_CHARS = 1000
SENDER_RE = re.compile(r"^[A-Za-z0-9_.\-]{1,64}$")
EXPIRED_NOTICE = "您的登录已失效，当前以未登录身份回答；如需查询个人办理进度，请重新登录后再问。"
STAFF_NOTICE = "咨询助手只接受学生身份登录，教职工账号当前以未登录身份回答。"


def _error(status: int, code: str, message: str) -> HTTPResponse:
    return response.json({"code": code, "message": message}, status=status)


class SecureRestInput(InputChannel):
    """REST channel that derives the conversation from a verified token."""

    @classmethod
    def name(cls) -> str:
        return "rest"

    def __init__(self, cors_origins: list[str] | None = None, auth_secret: str | None = None) -> None:
        if cors_origins is None:
            cors_origins = allowed_origins()
        self.cors_origins = [o.rstrip("/") for o in cors_origins if o and o != "*"]
        self.auth_secret = auth_secret
        # anonymous senders already told that their token was rejected
        self._told_expired = channel_state("rest:told_expired", 12 * 3600)  # shared with CHANNEL_STATE_URL
        self.handoff = HandoffGate()  # a person holds the conversation: the bot stays silent (issue 15 §2)
        # messages per minute (issue 21 §11): per conversation (a student, an anonymous sender) and per client
        # address (CHAT_RATE_PER_CONVERSATION, CHAT_RATE_PER_CLIENT; 0: off)
        s = rasa_settings()
        self.rate_conversation = RateLimit("chat:conversation", s.chat_rate_per_conversation)
        self.rate_client = RateLimit("chat:client", s.chat_rate_per_client)

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> SecureRestInput:
        apply_rasa_patches()  # no-op when deploy/rasa_run.py did it; a plain `rasa run` gets the same checks
        credentials = credentials or {}
        origins = credentials.get("cors_origins")
        if isinstance(origins, str):
            origins = allowed_origins(origins)
        return cls(cors_origins=origins, auth_secret=credentials.get("auth_secret"))

    # --- identity --------------------------------------------------------------------------------------
    def resolve(self, sender: str, metadata: dict[str, Any]) -> tuple[str, dict[str, Any], str | None]:
        """Return (sender_id, metadata for the bot, notice when the token was not accepted).

        Student tokens only (issue 21 §10): a staff token is valid for the staff page, not here, so its holder
        chats anonymously and no staff action token reaches the tracker."""
        token = metadata.get("token") if isinstance(metadata, dict) else None
        claims = verify_token(token, self.auth_secret) if token else None
        if claims and claims["role"] == "student":
            action_token = mint_action_token(claims, self.auth_secret)
            meta = {"token": action_token, "channel": "web", "role": claims["role"], "user_id": claims["sub"]}
            return conversation_id(claims), meta, None
        notice = (STAFF_NOTICE if claims else EXPIRED_NOTICE) if token else None
        return conversation_id(None, sender), {"channel": "web"}, notice

    # --- CORS ------------------------------------------------------------------------------------------
    def _allowed_origin(self, origin: str | None) -> str | None:
        if not origin:
            return None
        return origin if origin.rstrip("/") in self.cors_origins else None

    def _add_cors(self, request: Request, resp: HTTPResponse) -> None:
        allowed = self._allowed_origin(request.headers.get("origin"))
        if not allowed or "access-control-allow-origin" in resp.headers:
            return
        resp.headers["Access-Control-Allow-Origin"] = allowed
        resp.headers["Vary"] = "Origin"
        resp.headers["Access-Control-Allow-Methods"] = "POST, GET, OPTIONS"
        resp.headers["Access-Control-Allow-Headers"] = "Content-Type"
        resp.headers["Access-Control-Max-Age"] = "600"

    # --- HTTP ------------------------------------------------------------------------------------------
    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        bp = Blueprint("secure_rest_webhook", __name__)

        @bp.middleware("response")
        async def cors(request: Request, resp: HTTPResponse) -> None:
            if resp is not None:
                self._add_cors(request, resp)

        @bp.route("/", methods=["GET"])
        async def health(request: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @bp.route("/webhook", methods=["OPTIONS"])
        async def preflight(request: Request) -> HTTPResponse:
            return response.empty(status=204)

        @bp.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            if len(request.body or b"") > MAX_BODY_BYTES:
                return _error(413, "too_large", "消息太长了，请精简后再发送。")
            try:
                body = json.loads((request.body or b"").decode("utf-8"))
            except (ValueError, UnicodeDecodeError, RecursionError):  # RecursionError: `[` x 16000
                return _error(400, "bad_json", "请求格式不正确：需要 JSON。")
            if not isinstance(body, dict):
                return _error(400, "bad_json", "请求格式不正确：需要 JSON 对象。")
            sender, text, metadata = body.get("sender"), body.get("message"), body.get("metadata") or {}
            if not isinstance(sender, str) or not SENDER_RE.match(sender):
                return _error(400, "bad_sender", "sender 需为 1-64 位字母、数字、下划线、点或短横线。")
            if not isinstance(text, str) or not text.strip():
                return _error(400, "empty_message", "请输入要咨询的内容。")
            if len(text) > MAX_MESSAGE_CHARS:
                return _error(400, "message_too_long", f"消息太长了，请控制在 {MAX_MESSAGE_CHARS} 字以内。")
            if not isinstance(metadata, dict):
                return _error(400, "bad_metadata", "metadata 需为 JSON 对象。")

            sender_id, bot_meta, notice = self.resolve(sender, metadata)
            # the visitor's address (X-Forwarded-For only from TRUSTED_PROXIES): limits here and, through the
            # action server, the backend's limits on 转人工
            client = client_address(request.ip, request.headers.get("x-forwarded-for"))
            wait = self.rate_client.hit(client) or self.rate_conversation.hit(sender_id)
            if wait:
                resp = _error(429, "too_many_messages", f"消息发送太频繁了，请{wait}秒后再发。")
                resp.headers["Retry-After"] = str(wait)
                return resp
            bot_meta = {**bot_meta, "client": client_pseudonym(client)}
            messages: list[dict[str, Any]] = []
            if notice and sender_id not in self._told_expired:
                self._told_expired.set(sender_id, True)
                messages.append({"recipient_id": sender_id, "text": notice})

            held = await self.handoff.check(sender_id, "web", text)
            if held and not held["held"] and held.get("note"):  # e.g. the queue ended: said before the answer
                messages.append({"recipient_id": sender_id, "text": held["note"]})
            if held and held["held"]:  # kept for the counselor; the widget polls the backend for the replies
                if held["reply"]:
                    messages.append({"recipient_id": sender_id, "text": held["reply"]})
                messages.append({"recipient_id": sender_id, "custom": {"handoff": {"state": held["state"]}}})
                return response.json(messages)

            collector = CollectingOutputChannel()
            try:
                await on_new_message(
                    UserMessage(text, collector, sender_id, input_channel=self.name(), metadata=bot_meta)
                )
            except CancelledError:
                logger.error("secure_rest: turn cancelled for %s", sender_id)
            except Exception:  # the bot must still answer the person
                logger.exception("secure_rest: turn failed for %s", sender_id)
            self.handoff.mark_from(sender_id, collector.messages)  # this turn asked for a person
            if held and held.get("session_id"):  # queued: the counselor also sees what the bot answered
                await self.handoff.store_answer(sender_id, "web", held, bot_texts(collector.messages))
            messages.extend(collector.messages)
            if not collector.messages:
                messages.append({"recipient_id": sender_id, "text": UNAVAILABLE_TEXT})
            return response.json(messages)

        return bp
