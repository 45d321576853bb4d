"""The handoff gate (issue 15 §2), shared by the REST and WeChat channels: before a student's message goes to
Rasa, is the conversation with a person? In the queue (waiting) the backend keeps the message for the
counselor and the bot answers it as usual; while a person holds it (active) Rasa is not called: the bot stays
silent; in a ticket draft the message is the ticket. The state is in the backend's database, so every Rasa
process agrees and a restart loses nothing.

Cost per turn: none for a conversation nobody holds. A task polls the list of held conversations
(`GET /api/integration/handoff/held`) every HANDOFF_GATE_POLL seconds (0.5), off the students' turns; only a
message of a listed conversation is posted to the backend (`POST /api/integration/handoff/inbound`), which
stores it (or says it is no longer held). A conversation whose own turn just asked for a person is listed at
once in this process (`mark`) and announced to the other Rasa servers through the channel state (Redis with
CHANNEL_STATE_URL; one GET per turn, like the channels' other shared state), so the next message is held
whichever server it reaches. Without a fresh list (start-up, the backend unreachable for a while,
HANDOFF_GATE_POLL=0, or more held conversations than the list holds) every message is posted.

`check` returns None (let the bot answer), {"held": False, "state": ..., "note": text or None} (let the bot
answer; the note, when there is one, goes before its answer; in the queue also "session_id": the channel then
hands the bot's answer to `store_answer`, so the counselor sees it after the student's message) or {"held":
True, "state": ..., "reply": text or None}. The text posted is cleaned of what no database text holds (NUL,
lone surrogates), so such a message still reaches the counselor. When the backend cannot be reached within
HANDOFF_GATE_TIMEOUT (default 2 s) or answers anything but its contract: for a conversation this process knows
to be held (the last list, its own or shared marks) the gate fails closed (issue 21 §2): the bot stays silent
and the student is asked to send the message again (UNDELIVERED_TEXT); for any other conversation the bot
answers (a student is never left without any answer). HANDOFF_GATE=0 turns the gate off.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

import aiohttp

from bot.channels.common import channel_state
from contracts.masking import storable  # plain standard library: importable from Rasa's environment
from contracts.settings import rasa as rasa_settings

logger = logging.getLogger(__name__)


MARK_SECONDS = 120  # how long a fresh session is announced to the other servers (far longer than one poll)
UNDELIVERED_TEXT = "消息暂时没能转给老师，请稍后再发送一次。"


def bot_texts(messages: list[dict[str, Any]]) -> list[str]:
    """The texts of one turn's bot messages as the counselor reads them (buttons as 选项：a / b)."""
    out = []
    for m in messages or []:
        raw = m.get("text")
        text = raw if isinstance(raw, str) else ""
        titles = [b.get("title") for b in m.get("buttons") or [] if isinstance(b, dict) and b.get("title")]
        if titles:
            text = (text + "\n" if text else "") + "选项：" + " / ".join(str(t) for t in titles)
        if text.strip():
            out.append(text)
    return out


class HandoffGate:
    def __init__(self, backend_url: str | None = None, integration_key: str | None = None) -> None:
        s = rasa_settings()
        base = (backend_url or s.backend_url).rstrip("/")
        self.url = base + "/api/integration/handoff/inbound"
        self.held_url = base + "/api/integration/handoff/held"
        self.bot_url = base + "/api/integration/handoff/bot"
        self.key = integration_key or s.integration_key
        self.enabled = s.handoff_gate
        self.timeout = s.handoff_gate_timeout
        self.poll_seconds = s.handoff_gate_poll
        self._held: set[str] | None = None  # the last complete list, with this process's own marks
        self._fresh_at = 0.0
        self._poller: asyncio.Task | None = None
        self._session: aiohttp.ClientSession | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._warned_at = 0.0
        self._marks: dict[str, float] = {}  # conversation -> when this process opened a session for it
        # the same marks for every Rasa server (CHANNEL_STATE_URL: Redis), so the next message is held
        # whichever server it reaches before that server's next poll
        self._shared = channel_state("handoff:marked", MARK_SECONDS)
        self.asked = 0  # messages posted to the backend (tests, diagnostics)

    # --- the held list ------------------------------------------------------------------------------------
    def _http(self) -> aiohttp.ClientSession:
        loop = asyncio.get_running_loop()
        if self._session is None or self._session.closed or self._loop is not loop:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.timeout))
            self._loop = loop
            self._poller = None  # a new loop (tests): the old task is gone with the old loop
        return self._session

    def _ensure_poller(self) -> None:
        if self.poll_seconds <= 0 or (self._poller is not None and not self._poller.done()):
            return
        self._http()
        self._poller = asyncio.get_running_loop().create_task(self._poll())

    async def _poll(self) -> None:
        while True:
            try:
                await self.refresh()
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - never let the poller die
                logger.exception("handoff gate: poll failed")
            await asyncio.sleep(self.poll_seconds)

    async def refresh(self) -> bool:
        """Fetch the held list; False (and the list stays stale) when the backend did not answer."""
        started = time.monotonic()
        try:
            async with self._http().get(self.held_url, headers={"X-Integration-Key": self.key}) as r:
                data = await r.json(content_type=None) if r.status == 200 else None
        except (aiohttp.ClientError, asyncio.TimeoutError, ValueError):
            self._warn("poll")
            return False
        convs = data.get("conversations") if isinstance(data, dict) else None
        if not isinstance(data, dict) or not isinstance(convs, list) or not data.get("complete", False):
            self._held = None
            return False
        # marks made while this request was out stay (the list may predate them)
        self._held = {c for c in convs if isinstance(c, str)} | self._marked_since(started)
        self._fresh_at = time.monotonic()
        return True

    def _marked_since(self, t: float) -> set[str]:
        return {c for c, at in self._marks.items() if at >= t}

    def mark(self, conversation: str) -> None:
        """This process just opened a session for the conversation (its turn's answer carried the payload)."""
        now = time.monotonic()
        self._marks = {c: at for c, at in self._marks.items() if now - at < 60}
        self._marks[conversation] = now
        self._shared.set(conversation, True)
        if self._held is not None:
            self._held.add(conversation)

    def mark_from(self, conversation: str, messages: list[dict[str, Any]]) -> None:
        if any(isinstance(m.get("custom"), dict) and "handoff" in m["custom"] for m in messages or []):
            self.mark(conversation)

    def _fresh(self) -> bool:
        return self._held is not None and time.monotonic() - self._fresh_at < max(2.0, 4 * self.poll_seconds)

    def _warn(self, what: str) -> None:
        now = time.monotonic()
        if now - self._warned_at > 60:
            self._warned_at = now
            logger.warning("handoff gate: backend unreachable (%s): the bot answers", what)

    # --- one message --------------------------------------------------------------------------------------
    async def check(self, conversation: str, channel: str, text: str) -> dict[str, Any] | None:
        if not self.enabled:
            return None
        self._ensure_poller()
        shared = conversation in self._shared
        if self._fresh() and conversation not in self._held and not shared:  # type: ignore[operator]
            return None
        known_held = shared or conversation in (self._held or ()) or conversation in self._marks
        self.asked += 1
        data = None
        try:
            async with self._http().post(
                self.url,
                json={
                    "conversation": conversation,
                    "channel": channel,
                    "text": storable(text)[:1000] or "？",
                },
                headers={"X-Integration-Key": self.key},
            ) as r:
                data = await r.json(content_type=None) if r.status == 200 else None
                if r.status != 200:
                    logger.warning("handoff gate: backend answered %s for %s", r.status, conversation)
        except (aiohttp.ClientError, asyncio.TimeoutError, ValueError):
            self._warn("inbound")
        if not isinstance(data, dict) or not isinstance(data.get("held"), bool):
            # no answer within the contract: a conversation known to be held stays with the person (fail
            # closed)
            return {"held": True, "state": None, "reply": UNDELIVERED_TEXT} if known_held else None
        if data.get("held"):
            reply = data.get("reply")
            return {
                "held": True,
                "state": data.get("state"),
                "reply": reply if isinstance(reply, str) else None,
            }
        note = data.get("note") if isinstance(data, dict) else None
        if isinstance(data, dict) and data.get("stored"):  # in the queue: still listed, the bot answers
            sid = data.get("session_id")
            return {
                "held": False,
                "state": data.get("state"),
                "note": None,
                "session_id": sid if isinstance(sid, int) else None,
            }
        if self._held is not None:
            self._held.discard(conversation)  # closed meanwhile: no more calls until it is listed again
        self._shared.pop(conversation)
        if isinstance(note, str) and note:
            return {"held": False, "state": data.get("state"), "note": note}
        return None

    async def store_answer(
        self, conversation: str, channel: str, held: dict[str, Any] | None, texts: list[str]
    ) -> None:
        """The bot's answer to a message the backend stored while queued (`check` gave a session_id): kept for
        the counselor (`POST /api/integration/handoff/bot`), shown on the staff page only. Awaited before the
        student gets the answer, so it is stored before their next message; a failure is logged, never
        shown."""
        sid = held.get("session_id") if held else None
        texts = [t[:4000] for t in texts if isinstance(t, str) and t.strip()][:10]
        if not sid or not texts or not self.enabled:
            return
        try:
            async with self._http().post(
                self.bot_url,
                json={"conversation": conversation, "channel": channel, "session_id": sid, "texts": texts},
                headers={"X-Integration-Key": self.key},
            ) as r:
                if r.status != 200 and r.status != 409:  # 409: the session ended meanwhile, nothing to keep
                    logger.warning("handoff gate: storing the bot's answer: backend answered %s", r.status)
        except (aiohttp.ClientError, asyncio.TimeoutError):
            self._warn("bot answer")
